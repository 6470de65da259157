"""Staff sync from a real OpenLDAP directory (slapd started by the tests)."""

from __future__ import annotations

import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from hygie.accounts.services import SUDO_KEY
from hygie.core.models import AuditEvent
from hygie.orgs.ldap_sync import sync_directory
from hygie.orgs.models import (
    DirectorySource,
    JobFamily,
    Kind,
    Organisation,
    StaffMember,
    StaffSource,
    SyncStatus,
)
from tests.services.slapd import BIND_DN, BIND_PASSWORD, SIZE_LIMIT

pytestmark = pytest.mark.ldap


def make_source(establishment, slapd, directory, **extra) -> DirectorySource:
    values = {
        "server_url": slapd.url,
        "bind_dn": BIND_DN,
        "bind_password": BIND_PASSWORD,
        "base_dn": directory.base,
    }
    values.update(extra)
    return DirectorySource.objects.create(establishment=establishment, **values)


def ldap_staff(establishment):
    return StaffMember.objects.filter(establishment=establishment, source=StaffSource.LDAP)


@pytest.fixture
def people(directory):
    """Three people as an inetOrgPerson directory describes them."""
    directory.add_person(
        "hlefevre",
        "Hélène",
        "Lefèvre",
        mail="helene.lefevre@ch.example",
        departmentNumber="Urgences A1",
        title="Infirmière",
        employeeType="Soignant",
    )
    directory.add_person(
        "mdurand",
        "Marc",
        "Durand",
        mail="marc.durand@ch.example",
        ou="urgences a1",  # no departmentNumber: the ou is used
        title="Praticien hospitalier",
        employeeType="Médical",
    )
    directory.add_person("lnguyen", "Linh", "Nguyen", employeeType="administratif")
    return directory


def test_first_sync_creates_the_people_of_the_directory(world, slapd, people):
    source = make_source(world.est_a1, slapd, people)

    report = sync_directory(source)

    assert report.status == SyncStatus.SUCCESS, report.as_dict()
    assert (report.entries, report.created, report.updated, report.deactivated) == (3, 3, 0, 0)
    helene = StaffMember.objects.get(establishment=world.est_a1, external_id="hlefevre")
    assert (helene.first_name, helene.last_name) == ("Hélène", "Lefèvre")
    assert helene.email == "helene.lefevre@ch.example"
    assert helene.service == world.service_a1 and helene.site == world.site_a1
    assert helene.job_title == "Infirmière" and helene.job_family == JobFamily.CARE
    assert helene.source == StaffSource.LDAP and helene.active
    marc = StaffMember.objects.get(external_id="mdurand")
    assert marc.service == world.service_a1 and marc.job_family == JobFamily.MEDICAL
    linh = StaffMember.objects.get(external_id="lnguyen")
    assert linh.email == "" and linh.job_family == JobFamily.ADMINISTRATIVE
    source.refresh_from_db()
    assert source.last_sync_status == SyncStatus.SUCCESS and source.last_sync_at is not None
    assert source.last_sync_result["created"] == 3
    event = AuditEvent.objects.get(action="orgs.ldap_synced")
    assert event.details["created"] == 3 and event.organisation_id_at_event == world.est_a1.pk


def test_resync_after_a_change_updates_without_duplicates(world, slapd, people):
    source = make_source(world.est_a1, slapd, people)
    sync_directory(source)
    count = StaffMember.objects.count()
    people.modify("mdurand", title="Chef de service", mail="marc.durand@chu.example")

    report = sync_directory(source)

    assert (report.created, report.updated, report.unchanged, report.deactivated) == (0, 1, 2, 0)
    assert StaffMember.objects.count() == count
    marc = StaffMember.objects.get(external_id="mdurand")
    assert marc.job_title == "Chef de service" and marc.email == "marc.durand@chu.example"


def test_a_removed_entry_marks_the_person_as_gone_and_a_return_reactivates(world, slapd, people):
    source = make_source(world.est_a1, slapd, people)
    sync_directory(source)
    people.delete("lnguyen")

    report = sync_directory(source)

    assert report.deactivated == 1
    assert not StaffMember.objects.get(external_id="lnguyen").active
    assert StaffMember.objects.get(external_id="hlefevre").active
    assert world.staff_a1.__class__.objects.get(pk=world.staff_a1.pk).active  # not from LDAP

    people.add_person("lnguyen", "Linh", "Nguyen", employeeType="administratif")
    report = sync_directory(source)
    assert report.updated == 1 and StaffMember.objects.get(external_id="lnguyen").active
    assert StaffMember.objects.filter(external_id="lnguyen").count() == 1


def test_wrong_bind_password_is_a_clear_failure_that_changes_nothing(world, slapd, people):
    source = make_source(world.est_a1, slapd, people)
    sync_directory(source)
    source.bind_password = "not-the-password"
    source.save()
    people.delete("lnguyen")

    report = sync_directory(source)

    assert report.status == SyncStatus.FAILED
    assert report.error == (
        f"Connexion refusée par l'annuaire : DN de connexion ou mot de passe incorrect ({BIND_DN})."
    )
    assert StaffMember.objects.get(external_id="lnguyen").active
    source.refresh_from_db()
    assert source.last_sync_status == SyncStatus.FAILED
    assert "mot de passe incorrect" in source.last_sync_result["error"]
    assert AuditEvent.objects.filter(action="orgs.ldap_sync_failed").exists()


def test_paged_search_reads_more_entries_than_the_server_returns_at_once(world, slapd, directory):
    directory.add_many(1200)
    source = make_source(world.est_a1, slapd, directory)
    # The directory itself caps a plain search, as production directories do.
    reader = slapd.admin()
    reader.rebind(user=BIND_DN, password=BIND_PASSWORD)
    reader.search(directory.base, "(objectClass=inetOrgPerson)", attributes=["uid"])
    assert reader.result["description"] == "sizeLimitExceeded"
    assert len(reader.response) == SIZE_LIMIT
    reader.unbind()

    report = sync_directory(source)

    assert report.status == SyncStatus.SUCCESS
    assert (report.entries, report.pages, report.created) == (1200, 3, 1200)
    assert ldap_staff(world.est_a1).count() == 1200
    report = sync_directory(source)
    assert (report.created, report.unchanged) == (0, 1200)
    assert ldap_staff(world.est_a1).count() == 1200


def test_bad_entries_are_skipped_and_named_by_dn(world, slapd, people):
    no_first_name = people.add_person("anon", None, "Sansprenom", mail="anon@ch.example")
    bad_mail = people.add_person("bmail", "Bea", "Mail", mail="bea@")
    twin = people.add_person("twin", "Jumeau", "Adresse", mail="helene.lefevre@ch.example")
    source = make_source(world.est_a1, slapd, people)

    report = sync_directory(source)

    assert report.status == SyncStatus.PARTIAL
    assert report.created == 3 and report.skipped_count == 3
    skipped = sorted(str(problem) for problem in report.skipped)
    assert f"{no_first_name} — attribut givenName : attribut absent ou vide" in skipped
    assert f"{bad_mail} — attribut mail : adresse invalide « bea@ »" in skipped
    assert any(
        line.startswith(f"{twin} — attribut mail : adresse déjà portée par") for line in skipped
    )
    assert not StaffMember.objects.filter(external_id__in=["anon", "bmail", "twin"]).exists()
    source.refresh_from_db()
    assert source.last_sync_status == SyncStatus.PARTIAL
    assert len(source.last_sync_result["skipped"]) == 3


def test_an_entry_gone_bad_keeps_its_person(world, slapd, people):
    source = make_source(world.est_a1, slapd, people)
    sync_directory(source)
    people.modify("lnguyen", givenName=None)

    report = sync_directory(source)

    assert report.skipped_count == 1 and report.deactivated == 0
    assert StaffMember.objects.get(external_id="lnguyen").active


def test_unknown_service_is_a_warning_or_created_on_request(world, slapd, directory):
    directory.add_person("x1", "Xavier", "Un", departmentNumber="Cardiologie")
    source = make_source(world.est_a1, slapd, directory)

    report = sync_directory(source)
    assert report.status == SyncStatus.SUCCESS and report.created == 1
    assert "service inconnu « Cardiologie »" in report.warnings[0]
    assert StaffMember.objects.get(external_id="x1").service is None

    source.create_services = True
    source.save()
    report = sync_directory(source)
    cardio = Organisation.objects.get(name="Cardiologie", kind=Kind.SERVICE)
    assert StaffMember.objects.get(external_id="x1").service == cardio
    assert report.updated == 1


def test_person_imported_from_csv_is_taken_over_by_email(world, slapd, people):
    existing = StaffMember.objects.create(
        establishment=world.est_a1,
        first_name="Hélène",
        last_name="Lefèvre",
        email="Helene.Lefevre@ch.example",
        job_family=JobFamily.CARE,
        source=StaffSource.CSV,
    )
    source = make_source(world.est_a1, slapd, people)

    report = sync_directory(source)

    assert (report.created, report.updated) == (2, 1)
    existing.refresh_from_db()
    assert existing.external_id == "hlefevre" and existing.source == StaffSource.LDAP
    assert StaffMember.objects.filter(email__iexact="helene.lefevre@ch.example").count() == 1


def test_an_empty_answer_never_deactivates_everyone(world, slapd, people):
    source = make_source(world.est_a1, slapd, people)
    sync_directory(source)
    source.search_filter = "(employeeType=personne)"
    source.save()

    report = sync_directory(source)

    assert report.status == SyncStatus.FAILED
    assert "aucune personne" in report.error
    assert ldap_staff(world.est_a1).filter(active=True).count() == 3

    source.search_filter = "(objectClass=inetOrgPerson)"
    source.attribute_map = {**source.attribute_map, "external_id": ["employeeNumber"]}
    source.save()
    report = sync_directory(source)

    assert report.status == SyncStatus.FAILED
    assert "Aucune des 3 entrées renvoyées n'est utilisable" in report.error
    assert ldap_staff(world.est_a1).filter(active=True).count() == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_dn": "ou=absente,dc=hygie,dc=test"}, "Base de recherche introuvable"),
        ({"server_url": "ldap://127.0.0.1:1"}, "Serveur d'annuaire injoignable"),
        ({"search_filter": "(objectClass=inetOrgPerson"}, "Filtre de recherche invalide"),
    ],
)
def test_configuration_mistakes_are_named(world, slapd, directory, change, message):
    directory.add_person("x1", "Xavier", "Un")
    source = make_source(world.est_a1, slapd, directory, **change)

    report = sync_directory(source)

    assert report.status == SyncStatus.FAILED and message in report.error
    assert not StaffMember.objects.filter(external_id="x1").exists()


@pytest.mark.parametrize("transport", ["starttls", "ldaps"])
def test_encrypted_transport_with_the_hospitals_own_authority(world, slapd, people, transport):
    url = slapd.url if transport == "starttls" else slapd.ldaps_url
    source = make_source(
        world.est_a1,
        slapd,
        people,
        server_url=url,
        start_tls=transport == "starttls",
        ca_certificate=slapd.ca_pem,
    )

    report = sync_directory(source)

    assert report.status == SyncStatus.SUCCESS and report.created == 3


@pytest.mark.parametrize("transport", ["starttls", "ldaps"])
def test_unknown_certificate_authority_is_refused(world, slapd, people, transport):
    url = slapd.url if transport == "starttls" else slapd.ldaps_url
    source = make_source(
        world.est_a1, slapd, people, server_url=url, start_tls=transport == "starttls"
    )

    report = sync_directory(source)

    assert report.status == SyncStatus.FAILED
    assert report.error.startswith(f"Échec de la négociation TLS avec {url}")
    assert "certificate verify failed" in report.error
    assert not ldap_staff(world.est_a1).exists()


def test_bind_password_is_encrypted_at_rest(world, slapd, directory):
    source = make_source(world.est_a1, slapd, directory)
    with connection.cursor() as cursor:
        cursor.execute("SELECT bind_password FROM orgs_directorysource WHERE id = %s", [source.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:") and BIND_PASSWORD not in stored
    assert DirectorySource.objects.get(pk=source.pk).bind_password == BIND_PASSWORD


def test_a_second_sync_waits_for_the_running_one(world, slapd, people):
    source = make_source(world.est_a1, slapd, people)
    DirectorySource.objects.filter(pk=source.pk).update(sync_started_at=source.created_at)
    source.refresh_from_db()

    report = sync_directory(source)

    assert report.status == SyncStatus.FAILED and "déjà en cours" in report.error
    assert not ldap_staff(world.est_a1).exists()


# --- The command -----------------------------------------------------------------------------------


def test_command_syncs_one_establishment_or_all(world, slapd, people, capsys):
    make_source(world.est_a1, slapd, people)

    call_command("ldap_sync", establishment=world.est_a1.finess_ej)
    assert "3 entrées, 3 créées" in capsys.readouterr().out

    call_command("ldap_sync")
    assert "3 inchangées" in capsys.readouterr().out

    with pytest.raises(CommandError, match="Aucun annuaire LDAP"):
        call_command("ldap_sync", establishment=world.est_b1.finess_ej)


def test_command_fails_loudly_on_a_broken_directory(world, slapd, people, capsys):
    make_source(world.est_a1, slapd, people, bind_password="wrong")

    with pytest.raises(CommandError, match="1 annuaire"):
        call_command("ldap_sync")
    assert "mot de passe incorrect" in capsys.readouterr().err


# --- The pages ------------------------------------------------------------------------------------


def page(name, org):
    return reverse(f"orgs:{name}", args=[org.pk])


def with_sudo(client):
    session = client.session
    session[SUDO_KEY] = time.time() + 600
    session.save()
    return client


def csrf_post(client, url, data=None):
    client.get(reverse("orgs:home"))
    payload = {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **(data or {})}
    return client.post(url, payload)


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_manager_launches_a_sync_and_sees_its_result(
    world, slapd, people, client_for, immediate_tasks
):
    make_source(world.est_a1, slapd, people)
    client = client_for(world.editor)

    response = csrf_post(client, page("directory_sync", world.est_a1))
    assert response.status_code == 302

    html = client.get(page("directory_source", world.est_a1)).content.decode()
    assert 'data-testid="sync-created">3<' in html
    assert "Réussie" in html
    assert ldap_staff(world.est_a1).count() == 3
    assert AuditEvent.objects.get(action="orgs.ldap_synced").actor == world.editor


# The worker closes its database connections between tasks, as a long-running process should:
# the test cannot sit inside a rolled-back transaction.
@pytest.mark.django_db(transaction=True)
def test_sync_goes_to_the_task_queue_and_a_worker_runs_it(
    world, slapd, people, client_for, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    source = make_source(world.est_a1, slapd, people)
    csrf_post(client_for(world.editor), page("directory_sync", world.est_a1))

    task = DBTaskResult.objects.get()
    assert (
        task.task_path.endswith("sync_directory_source")
        and task.args_kwargs["args"][0] == source.pk
    )
    source.refresh_from_db()
    assert source.last_sync_status == SyncStatus.QUEUED
    assert not ldap_staff(world.est_a1).exists()  # until a worker runs it

    call_command("worker", batch=True, verbosity=0)

    source.refresh_from_db()
    assert source.last_sync_status == SyncStatus.SUCCESS
    assert ldap_staff(world.est_a1).count() == 3


def test_editing_the_source_asks_for_the_password_again(world, client_for):
    response = client_for(world.editor).get(page("directory_source_edit", world.est_a1))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sudo"))


def test_manager_configures_the_source_and_the_password_stays_secret(
    world, slapd, directory, client_for
):
    client = with_sudo(client_for(world.editor))
    url = page("directory_source_edit", world.est_a1)
    form = {
        "server_url": slapd.url,
        "bind_dn": BIND_DN,
        "new_bind_password": BIND_PASSWORD,
        "base_dn": directory.base,
        "search_filter": "(objectClass=inetOrgPerson)",
        "map_external_id": "uid",
        "map_first_name": "givenName",
        "map_last_name": "sn",
        "map_email": "mail",
        "map_service": "departmentNumber, ou",
        "map_job_title": "title",
        "map_job_family": "employeeType",
        "enabled": "on",
    }

    response = csrf_post(client, url, form)

    assert response.status_code == 302, response.content.decode()
    source = DirectorySource.objects.get(establishment=world.est_a1)
    assert source.bind_password == BIND_PASSWORD
    assert source.attribute_map["service"] == ["departmentNumber", "ou"]
    event = AuditEvent.objects.get(action="orgs.directory_source_created")
    assert event.details["bind_password_changed"] is True
    assert BIND_PASSWORD not in str(event.details)
    assert BIND_PASSWORD not in client.get(url).content.decode()

    form["new_bind_password"] = ""
    form["base_dn"] = "ou=people,dc=hygie,dc=test"
    csrf_post(client, url, form)
    source.refresh_from_db()
    assert source.bind_password == BIND_PASSWORD  # left blank: kept
    assert source.base_dn == "ou=people,dc=hygie,dc=test"


def test_bad_configuration_is_refused_field_by_field(world, client_for):
    client = with_sudo(client_for(world.editor))
    response = csrf_post(
        client,
        page("directory_source_edit", world.est_a1),
        {
            "server_url": "http://annuaire",
            "base_dn": "dc=ch",
            "search_filter": "objectClass=person",
            "map_external_id": "uid",
            "map_first_name": "given name",
            "map_last_name": "sn",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "ldap://serveur:389" in html
    assert "Filtre LDAP invalide" in html
    assert "Nom d&#x27;attribut LDAP invalide : « given name »" in html
    assert not DirectorySource.objects.exists()


def test_reader_is_refused_and_outsider_gets_404(world, slapd, directory, client_for):
    make_source(world.est_a1, slapd, directory)
    for name in ("directory_source", "directory_source_edit"):
        response = client_for(world.reader).get(page(name, world.est_a1))
        assert response.status_code == 403 and "rôle de gestion" in response.content.decode()
        assert client_for(world.outsider).get(page(name, world.est_a1)).status_code == 404
    assert (
        csrf_post(client_for(world.reader), page("directory_sync", world.est_a1)).status_code == 403
    )
    assert (
        csrf_post(client_for(world.outsider), page("directory_sync", world.est_a1)).status_code
        == 404
    )
