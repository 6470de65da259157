"""The Active Directory audit pages as the RSSI uses them: audits and trend, one audit with its
findings and actions, export upload, live connections and "Collecter maintenant"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection as db
from django.urls import reverse

from hygie.actions.models import ActionItem
from hygie.core.models import AuditEvent
from hygie.posture.ad import audits
from hygie.posture.models import ADAudit, ADFinding, DirectoryConnection
from tests.clients import browser
from tests.posture.snapshots import NOW, weak_domain

pytestmark = pytest.mark.django_db


def two_audits(world):
    """The domain audited without, then with, a Kerberoastable administrator (P-ADMIN-SPN)."""
    first = audits.record_audit(world.est_a1, weak_domain(fixed=("spn",)), user=world.editor)
    second = audits.record_audit(world.est_a1, weak_domain(now=NOW + dt.timedelta(days=30)))
    assert second.score > first.score
    return first, second


def test_the_ght_page_lists_its_members_domains_with_the_score_trend(world):
    two_audits(world)
    page = browser(world.reader).get(reverse("posture:ad_audits", args=[world.ght_a.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "chu-exemple.local" in text and "CHU A1" in text
    assert 'data-chart="ad-trend-0"' in text  # the line, with the table as its alternative
    assert text.count('data-testid="ad-audit-row"') == 2
    first, second = ADAudit.objects.order_by("collected_at")
    assert f"+{second.score - first.score} (moins bien)" in text
    # A reader sees no upload form and no connection buttons.
    assert "Auditer" not in text and "Ajouter une connexion" not in text
    # GHT B's page does not show GHT A's domains, even to GHT B's RSSI.
    other = browser(world.outsider).get(reverse("posture:ad_audits", args=[world.ght_b.pk]))
    assert "chu-exemple.local" not in other.content.decode()


def test_the_audit_page_groups_findings_marks_new_ones_and_turns_them_into_actions(world):
    _first, second = two_audits(world)
    url = reverse("posture:ad_audit", args=[second.pk])
    text = browser(world.reader).get(url).content.decode()
    assert 'data-testid="ad-category-privileged"' in text
    assert 'data-chart="ad-scores"' in text
    assert text.count('data-testid="new-finding"') == 1  # P-ADMIN-SPN, new since the last audit
    assert "Retirer le SPN du compte privilégié" in text
    assert "adm-sql" in text
    assert "Créer l'action" not in text  # the reader cannot change anything
    # Every finding got its action item when recorded; once the SPN's item is abandoned, the
    # RSSI can open a new one from the finding.
    spn = second.findings.get(rule_id="P-ADMIN-SPN")
    ActionItem.objects.filter(pk=spn.action_id).update(status="cancelled")
    editor = browser(world.editor)
    assert "Créer l'action" in editor.get(url).content.decode()
    response = editor.post(reverse("posture:ad_finding_action", args=[spn.pk]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#finding-{spn.pk}")
    editor.post(reverse("posture:ad_finding_action", args=[spn.pk]))  # twice: still one item
    item = (
        ActionItem.objects.filter(origin="audit").exclude(status="cancelled").get(ad_findings=spn)
    )
    assert "Action du plan" in editor.get(url).content.decode()
    created = AuditEvent.objects.filter(action="posture.ad_action_created")
    # one per rule but obsolete systems (the inventory carries those), then the new one
    assert created.count() == second.findings.count() - 1 + 1
    assert item.title == "Active Directory : Comptes à privilèges avec un SPN (Kerberoasting)"


def test_a_refused_file_is_named_and_nothing_is_recorded(world):
    editor = browser(world.editor)
    response = editor.post(
        reverse("posture:ad_upload", args=[world.est_a1.pk]),
        {"files": [SimpleUploadedFile("domaine.exe", b"MZ\x90\x00binary")]},
    )
    assert response.status_code == 400
    assert "domaine.exe : Type de fichier refusé" in response.content.decode()
    assert not ADAudit.objects.exists()


def test_a_truncated_export_names_the_position_and_records_nothing(world, tmp_path):
    from hygie.posture.ad import synthetic

    synthetic.write_ldapdomaindump(weak_domain(), tmp_path)
    files = []
    for path in sorted(tmp_path.glob("*.json")):
        data = path.read_bytes()
        if path.name == "domain_users.json":
            data = data[: len(data) // 2]  # the copy stopped halfway
        files.append(SimpleUploadedFile(path.name, data))
    response = browser(world.editor).post(
        reverse("posture:ad_upload", args=[world.est_a1.pk]), {"files": files}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert 'data-testid="export-error"' in text
    assert "domain_users.json" in text and "ligne" in text
    assert "rien n'a été enregistré" in text
    assert not ADAudit.objects.exists()
    assert not ActionItem.objects.exists()
    assert AuditEvent.objects.filter(action="posture.ad_export_refused").exists()


def test_an_ldapdomaindump_export_is_audited(world, tmp_path):
    from hygie.posture.ad import synthetic

    synthetic.write_ldapdomaindump(weak_domain(), tmp_path)
    files = [
        SimpleUploadedFile(path.name, path.read_bytes()) for path in sorted(tmp_path.glob("*.json"))
    ]
    response = browser(world.editor).post(
        reverse("posture:ad_upload", args=[world.est_a1.pk]), {"files": files}
    )
    audit = ADAudit.objects.get()
    assert response["Location"] == reverse("posture:ad_audit", args=[audit.pk])
    assert audit.findings.filter(rule_id="P-ADMIN-SPN").exists()
    assert audit.created_by == world.editor


def test_connection_password_is_write_only_and_encrypted_at_rest(world):
    editor = browser(world.editor)
    create = reverse("posture:ad_connection_create", args=[world.est_a1.pk])
    data = {
        "name": "DC principal",
        "host": "dc01.chu-a1.local",
        "port": "",
        "security": "ldaps",
        "bind_user": "audit-hygie@chu-a1.local",
        "bind_password": "",
        "page_size": "500",
    }
    refused = editor.post(create, data)
    assert "Le mot de passe du compte de lecture est nécessaire." in refused.content.decode()
    assert editor.post(create, {**data, "bind_password": "Tr3s-secret!"}).status_code == 302
    saved = DirectoryConnection.objects.get()
    assert saved.created_by == world.editor
    with db.cursor() as cursor:
        cursor.execute("SELECT bind_password FROM posture_directoryconnection")
        assert "Tr3s-secret!" not in cursor.fetchone()[0]
    edit = reverse("posture:ad_connection_edit", args=[saved.pk])
    assert "Tr3s-secret!" not in editor.get(edit).content.decode()
    # Blank keeps the password; a new one replaces it.
    editor.post(edit, {**data, "name": "DC renommé"})
    saved.refresh_from_db()
    assert (saved.name, saved.bind_password) == ("DC renommé", "Tr3s-secret!")
    editor.post(edit, {**data, "bind_password": "Nouveau-1"})
    saved.refresh_from_db()
    assert saved.bind_password == "Nouveau-1"
    event = AuditEvent.objects.filter(action="posture.ad_connection_changed").order_by("pk").last()
    assert event.details["password_changed"] is True
    assert "Nouveau-1" not in str(event.details)
    # Deleting the connection keeps the audits it produced.
    audit = audits.record_audit(world.est_a1, weak_domain(), connection=saved)
    editor.post(reverse("posture:ad_connection_delete", args=[saved.pk]))
    assert not DirectoryConnection.objects.exists()
    audit.refresh_from_db()
    assert audit.connection is None
    assert AuditEvent.objects.filter(action="posture.ad_connection_deleted").exists()


def test_collect_now_enqueues_the_collection_and_the_page_shows_the_last_error(world):
    from django_tasks_db.models import DBTaskResult

    from hygie.posture.ad import tasks

    connection = DirectoryConnection.objects.create(
        organisation=world.est_a1,
        name="DC principal",
        host="dc01.chu-a1.local",
        bind_user="audit-hygie@chu-a1.local",
        bind_password="x",
        last_error="Connexion refusée par dc01.chu-a1.local:636",
    )
    editor = browser(world.editor)
    page = editor.get(reverse("posture:ad_audits", args=[world.est_a1.pk])).content.decode()
    assert "Dernier échec : Connexion refusée par dc01.chu-a1.local:636" in page
    response = editor.post(reverse("posture:ad_connection_collect", args=[connection.pk]))
    assert response.status_code == 302
    queued = DBTaskResult.objects.get(task_path=tasks.collect_directory.module_path)
    assert list(queued.args_kwargs["args"]) == [connection.pk, world.editor.pk]


def test_a_failed_collection_is_stored_on_the_connection(world):
    from hygie.posture.ad import tasks

    connection = DirectoryConnection.objects.create(
        organisation=world.est_a1,
        name="DC injoignable",
        host="127.0.0.1",
        port=1,
        bind_user="audit@chu.local",
        bind_password="x",
    )
    result = tasks.run_collection(connection.pk, world.editor.pk)
    connection.refresh_from_db()
    assert result["audit"] is None
    assert connection.last_error and connection.last_error == result["error"]
    assert connection.last_collected_at is None
    assert not ADAudit.objects.exists()
    assert AuditEvent.objects.filter(action="posture.ad_collect_failed").exists()


def test_collect_now_against_the_samba_domain_records_an_audit(world, samba_dc):
    from hygie.posture.ad import tasks

    connection = samba_dc.connection(world.est_a1)
    result = tasks.run_collection(connection.pk, world.editor.pk)
    connection.refresh_from_db()
    assert result["error"] == "" and connection.last_error == ""
    assert connection.last_collected_at is not None
    audit = ADAudit.objects.get(pk=result["audit"])
    assert audit.source == "live" and audit.connection == connection
    assert ADFinding.objects.filter(audit=audit).exists()
    # The score, maturity and report of the real domain, as the RSSI gets them.
    assert audit.score == max(audit.category_scores().values()) > 0
    assert 1 <= audit.maturity <= 5
    reader = browser(world.reader)
    page = reader.get(reverse("posture:ad_report", args=[audit.pk])).content.decode()
    assert "hygie.test" in page and f"{audit.score}/100" in page and "P-ADMIN-SPN" in page
    pdf = reader.get(reverse("posture:ad_report_pdf", args=[audit.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
