"""Custom lure, target list and GoPhish import pages, as an RSSI uses them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.orgs.models import JobFamily, Kind, Role
from hygie.phishing.models import CustomLure, SendingProfile, Simulation, TargetList
from tests import factories
from tests.clients import browser

pytestmark = pytest.mark.django_db


def lure_form(**overrides) -> dict:
    data = {
        "name": "Badge perdu",
        "summary": "",
        "audiences": "soignant, urgences",
        "sender_name": "Service sécurité",
        "sender_local_part": "securite",
        "subject": "{{prenom}}, votre badge a été retrouvé",
        "text": "Bonjour {{prenom}},\nConfirmez votre identité : {{lien}}",
        "html": "",
        "landing_title": "Récupération du badge",
        "landing_intro": "Identifiez-vous.",
        "landing_button": "Valider",
        "teachable_title": "C'était un exercice",
        "teachable_body": "Le lien menait hors de l'établissement.",
        "champ-TOTAL_FORMS": "2",
        "champ-INITIAL_FORMS": "0",
        "champ-0-name": "matricule",
        "champ-0-label": "Matricule",
        "champ-0-type": "text",
        "champ-1-name": "",
        "champ-1-label": "",
        "champ-1-type": "text",
        "signe-TOTAL_FORMS": "2",
        "signe-INITIAL_FORMS": "0",
        "signe-0-where": "link",
        "signe-0-text": "Le lien ne mène pas à l'intranet.",
        "signe-1-where": "",
        "signe-1-text": "",
    }
    data.update(overrides)
    return data


def test_create_a_lure_ready_to_launch(world):
    client = browser(world.editor)
    response = client.post(
        reverse("phishing:custom_create", args=[world.est_a1.pk]), lure_form(), follow=True
    )
    assert "Leurre « Badge perdu » enregistré." in response.content.decode()
    lure = CustomLure.objects.get(organisation=world.est_a1)
    assert lure.landing_fields == [{"name": "matricule", "label": "Matricule", "type": "text"}]
    assert lure.signs == [{"where": "link", "text": "Le lien ne mène pas à l'intranet."}]
    assert lure.audiences == ["soignant", "urgences"]
    assert lure.created_by == world.editor


def test_a_lure_with_an_unknown_placeholder_is_saved_but_named_and_cannot_be_launched(world):
    client = browser(world.editor)
    response = client.post(
        reverse("phishing:custom_create", args=[world.est_a1.pk]),
        lure_form(text="Bonjour {{Prénom}}, {{lien}}"),
        follow=True,
    )
    page = response.content.decode()
    assert "ne pourra pas être lancé" in page
    assert "{{Prénom}}" in page and "Écrire {{prenom}}" in page
    lure = CustomLure.objects.get(organisation=world.est_a1)
    listing = client.get(reverse("phishing:custom_lures", args=[world.est_a1.pk])).content.decode()
    assert "ne pourra pas être lancé" in listing and lure.name in listing


def test_a_lure_without_landing_field_is_reported(world):
    client = browser(world.editor)
    response = client.post(
        reverse("phishing:custom_create", args=[world.est_a1.pk]),
        lure_form(**{"champ-0-name": "", "champ-0-label": ""}),
        follow=True,
    )
    assert "La page d&#x27;arrivée n&#x27;a aucun champ." in response.content.decode()


def test_edit_keeps_fields_and_signs_and_can_change_them(world):
    client = browser(world.editor)
    client.post(reverse("phishing:custom_create", args=[world.est_a1.pk]), lure_form())
    lure = CustomLure.objects.get()
    page = client.get(reverse("phishing:custom_edit", args=[lure.pk])).content.decode()
    assert 'value="matricule"' in page and "Le lien ne mène pas" in page
    data = lure_form(
        **{
            "champ-INITIAL_FORMS": "1",
            "champ-1-name": "mot_de_passe",
            "champ-1-label": "Mot de passe",
            "champ-1-type": "password",
        }
    )
    client.post(reverse("phishing:custom_edit", args=[lure.pk]), data)
    lure.refresh_from_db()
    assert [f["name"] for f in lure.landing_fields] == ["matricule", "mot_de_passe"]


def test_bad_field_names_and_duplicate_names_are_refused(world):
    client = browser(world.editor)
    url = reverse("phishing:custom_create", args=[world.est_a1.pk])
    page = client.post(url, lure_form(**{"champ-0-name": "Mot de passe"})).content.decode()
    assert "Minuscules, chiffres et souligné" in page
    page = client.post(
        url, lure_form(**{"champ-1-name": "matricule", "champ-1-label": "Encore"})
    ).content.decode()
    assert "Nom de champ utilisé deux fois : matricule." in page
    assert not CustomLure.objects.exists()


def test_preview_renders_sample_values(world):
    client = browser(world.reader)
    lure = CustomLure.objects.create(
        organisation=world.est_a1,
        name="Badge",
        sender_name="Sécurité",
        subject="{{prenom}} {{nom}}, votre badge",
        text="Service {{service}} de {{etablissement}} : {{lien}}",
        html='<p>Bonjour {{prenom}}</p><a href="{{lien}}">x</a>{{pixel}}',
        landing_title="Badge",
        landing_fields=[{"name": "matricule", "label": "Matricule", "type": "text"}],
        teachable_title="Exercice",
        teachable_body="Regardez l'adresse.",
    )
    page = client.get(reverse("phishing:custom_preview", args=[lure.pk])).content.decode()
    assert "Camille Martin, votre badge" in page
    assert "Service Laboratoire de biologie de CHU A1" in page
    assert "https://simulation.exemple/s/c/exemple/" in page
    assert "{{" not in page.split('data-testid="preview-message"')[1].split("</section>")[0]


def test_a_ghts_lures_are_listed_read_only_for_its_members(world):
    CustomLure.objects.create(
        organisation=world.ght_a,
        name="Leurre du GHT",
        sender_name="GHT",
        subject="x {{prenom}}",
        text="{{lien}}",
        landing_title="t",
        teachable_title="t",
        teachable_body="b",
    )
    member = factories.user("rssi-a1", role=Role.RSSI, at=world.est_a1)
    page = (
        browser(member)
        .get(reverse("phishing:custom_lures", args=[world.est_a1.pk]))
        .content.decode()
    )
    assert "Leurre du GHT" in page and "partagé, lecture seule" in page
    lure = CustomLure.objects.get(name="Leurre du GHT")
    assert f'href="{reverse("phishing:custom_edit", args=[lure.pk])}"' not in page
    assert (
        browser(member).get(reverse("phishing:custom_preview", args=[lure.pk])).status_code == 200
    )
    assert browser(member).get(reverse("phishing:custom_edit", args=[lure.pk])).status_code == 403
    # Another GHT's people see nothing of it.
    assert (
        browser(world.outsider).get(reverse("phishing:custom_preview", args=[lure.pk])).status_code
        == 404
    )


def test_a_lure_used_by_a_campaign_cannot_be_deleted(world):
    lure = CustomLure.objects.create(
        organisation=world.est_a1,
        name="Badge",
        sender_name="x",
        subject="s",
        text="{{lien}}",
        landing_title="t",
        teachable_title="t",
        teachable_body="b",
    )
    profile = SendingProfile.objects.create(
        organisation=world.est_a1, name="R", host="127.0.0.1", from_address="it@a.example"
    )
    Simulation.objects.create(
        organisation=world.est_a1, name="Automne", sending_profile=profile, lures=[lure.key]
    )
    client = browser(world.editor)
    response = client.post(reverse("phishing:custom_delete", args=[lure.pk]), follow=True)
    assert "sert aux campagnes « Automne »" in response.content.decode()
    assert CustomLure.objects.filter(pk=lure.pk).exists()
    Simulation.objects.all().delete()
    client.post(reverse("phishing:custom_delete", args=[lure.pk]))
    assert not CustomLure.objects.filter(pk=lure.pk).exists()


# ------------------------------------------------------------------------------ target lists


def test_target_list_from_a_staff_filter(world):
    lab = factories.org(Kind.SERVICE, world.site_a1, name="Laboratoire")
    chemists = [
        factories.staff(world.est_a1, service=lab, job_family=JobFamily.MEDICO_TECHNICAL)
        for _ in range(2)
    ]
    factories.staff(world.est_a1, service=lab, job_family=JobFamily.MEDICO_TECHNICAL, active=False)
    factories.staff(world.est_a1, service=lab, job_family=JobFamily.ADMINISTRATIVE)
    client = browser(world.editor)
    response = client.post(
        reverse("phishing:targetlist_create", args=[world.est_a1.pk]),
        {"name": "Labo", "services": [lab.pk], "job_families": [JobFamily.MEDICO_TECHNICAL]},
        follow=True,
    )
    page = response.content.decode()
    assert "Liste « Labo » créée : 2 personne(s)." in page
    for person in chemists:
        assert person.email in page
    target_list = TargetList.objects.get(name="Labo")
    assert set(target_list.members.all()) == set(chemists)
    listing = client.get(reverse("phishing:target_lists", args=[world.ght_a.pk])).content.decode()
    assert "Labo" in listing


def test_an_empty_filter_result_is_refused(world):
    client = browser(world.editor)
    page = client.post(
        reverse("phishing:targetlist_create", args=[world.est_a1.pk]),
        {"name": "Personne", "job_families": [JobFamily.STUDENT]},
    ).content.decode()
    assert "Aucune personne en poste ne correspond" in page
    assert not TargetList.objects.exists()


def test_services_of_another_establishment_cannot_be_chosen(world):
    client = browser(world.editor)
    page = client.post(
        reverse("phishing:targetlist_create", args=[world.est_a1.pk]),
        {"name": "Fuite", "services": [world.service_b1.pk]},
    ).content.decode()
    assert "Sélectionnez un choix valide" in page
    assert not TargetList.objects.exists()


def test_delete_a_target_list(world):
    target_list = TargetList.objects.create(organisation=world.est_a1, name="Vieux")
    target_list.members.add(world.staff_a1)
    assert (
        browser(world.reader)
        .post(reverse("phishing:targetlist_delete", args=[target_list.pk]))
        .status_code
        == 403
    )
    browser(world.editor).post(reverse("phishing:targetlist_delete", args=[target_list.pk]))
    assert not TargetList.objects.exists()
    world.staff_a1.refresh_from_db()  # the people stay


# ---------------------------------------------------------------------------- GoPhish import


def test_import_page_shows_each_problem_and_imports_nothing(world):
    client = browser(world.editor)
    upload = SimpleUploadedFile(
        "groupe.csv", b"First Name,Last Name,Email\nA,B,pas-une-adresse\n", "text/csv"
    )
    page = client.post(
        reverse("phishing:gophish_import", args=[world.est_a1.pk]),
        {"kind": "groups", "file": upload},
    ).content.decode()
    assert "Rien n'a été importé" in page
    assert "ligne 2, colonne Email : adresse invalide « pas-une-adresse »" in page
    assert not TargetList.objects.exists()


def test_import_page_imports_a_template_and_says_what_it_cannot_launch(world):
    client = browser(world.editor)
    upload = SimpleUploadedFile(
        "t.json",
        b'{"name": "Colis", "subject": "Colis", "text": "{{.Email}} {{.URL}}", "html": ""}',
        "application/json",
    )
    page = client.post(
        reverse("phishing:gophish_import", args=[world.ght_a.pk]),
        {"kind": "templates", "file": upload},
    ).content.decode()
    assert "1 créé(s)" in page
    assert "{{.Email}}" in page and "ne pourra pas être lancé" in page
    assert CustomLure.objects.get(name="Colis").organisation == world.ght_a
