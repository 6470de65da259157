"""Cases: list with filters, the case page (indicators, text never HTML), the verdict workflow,
replies to reporters, guidance, raw downloads, retention, tenant isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from hygie.core.models import AuditEvent
from hygie.core.tasks import run_housekeeping
from hygie.mailreports import services
from hygie.mailreports.models import Case, CaseStatus, Report, Source, Verdict
from tests.clients import browser
from tests.mailreports import corpus


@pytest.fixture
def phishing_case(world):
    for reporter in ("a@chu-a.example", "b@chu-a.example", "a@chu-a.example"):
        services.ingest(
            corpus.forward_as_attachment(corpus.real_phishing(attachment=True), reporter),
            organisation=world.est_a1,
            source=Source.IMAP,
        )
    return Case.objects.get()


def test_the_case_page_shows_indicators_and_text_never_the_html(world, phishing_case):
    page = browser(world.reader).get(reverse("mailreports:case", args=[phishing_case.pk]))
    body = page.content.decode()
    assert "hxxps://portail-paie[.]example/login?u=agent" in body
    assert "https://portail-paie.example" not in body
    assert "bulletin-mars.pdf" in body and "domaine différent de l'expéditeur" in body
    assert "203.0.113.45" in body
    assert "Votre bulletin de paie de mars est bloqué" in body
    assert "<script>alert" not in body
    # A reader sees, but neither qualifies nor downloads.
    assert 'data-testid="verdict-panel"' not in body and "Télécharger (.eml)" not in body


def test_a_verdict_then_an_edited_reply_to_every_reporter(world, phishing_case):
    editor = browser(world.editor)
    response = editor.post(
        reverse("mailreports:case_verdict", args=[phishing_case.pk]),
        {"verdict": "malicious", "note": "Hameçonnage d'identifiants"},
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.status, case.verdict, case.decided_by) == (
        CaseStatus.DECIDED,
        Verdict.MALICIOUS,
        world.editor,
    )
    event = AuditEvent.objects.get(action="mailreports.verdict")
    assert event.details["verdict"] == "malicious" and event.actor == world.editor
    page = editor.get(reverse("mailreports:case", args=[case.pk])).content.decode()
    # The reply offered for this verdict, in French, editable; the guidance for IT.
    assert "Votre signalement : message malveillant" in page
    assert (
        'data-testid="guidance"' in page
        and "Message-ID: &lt;paie-2026-03@paie-chu.example&gt;" in page
    )
    assert "mailer.envois-massifs.example" in page and "hxxps://portail-paie[.]example" in page
    response = editor.post(
        reverse("mailreports:case_reply", args=[case.pk]),
        {"subject": "Message frauduleux", "body": "Merci ! Ne cliquez pas. (texte relu)"},
    )
    assert response.status_code == 302
    # Two people (one reported twice): two messages, every report marked answered.
    assert sorted(m.to[0] for m in mail.outbox) == ["a@chu-a.example", "b@chu-a.example"]
    assert mail.outbox[0].body == "Merci ! Ne cliquez pas. (texte relu)"
    assert not Report.objects.filter(replied_at__isnull=True).exists()
    # A late reporter joins the case and is the only one answered next time.
    services.ingest(
        corpus.forward_as_attachment(corpus.real_phishing(attachment=True), "c@chu-a.example"),
        organisation=world.est_a1,
        source=Source.IMAP,
    )
    editor.post(reverse("mailreports:case_reply", args=[case.pk]), {"subject": "S", "body": "B"})
    assert [m.to[0] for m in mail.outbox[2:]] == ["c@chu-a.example"]


def test_spam_and_legitimate_verdicts_offer_their_own_reply(world, phishing_case):
    editor = browser(world.editor)
    url = reverse("mailreports:case", args=[phishing_case.pk])
    editor.post(reverse("mailreports:case_verdict", args=[phishing_case.pk]), {"verdict": "spam"})
    page = editor.get(url).content.decode()
    assert "message indésirable" in page and 'data-testid="guidance"' not in page
    editor.post(
        reverse("mailreports:case_verdict", args=[phishing_case.pk]), {"verdict": "legitimate"}
    )
    assert "il est légitime" in editor.get(url).content.decode()


def test_the_raw_message_is_a_sandboxed_download_and_journaled(world, phishing_case):
    report = phishing_case.reports.first()
    response = browser(world.editor).get(reverse("mailreports:report_raw", args=[report.pk]))
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"Subject: TR: Action requise" in response.content
    assert AuditEvent.objects.filter(action="mailreports.download").count() == 1


def test_raw_messages_are_encrypted_at_rest(world, phishing_case):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT raw FROM mailreports_report")
        stored = [row[0] for row in cursor.fetchall()]
    assert all(value.startswith("fernet:") for value in stored)
    assert not any("paie" in value for value in stored)


def test_retention_empties_old_messages_and_keeps_the_case(world, phishing_case, settings):
    settings.MAILREPORTS_RETENTION_DAYS = 30
    old = phishing_case.reports.first()
    Report.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))
    counts = run_housekeeping()
    assert counts["mail_reports_purged"] == 1
    old.refresh_from_db()
    assert old.raw == "" and old.purged_at is not None
    assert Report.objects.exclude(raw="").count() == 2
    response = browser(world.editor).get(reverse("mailreports:report_raw", args=[old.pk]))
    assert response.status_code == 302
    Report.objects.update(received_at=timezone.now() - timedelta(days=31))
    run_housekeeping()
    page = browser(world.editor).get(reverse("mailreports:case", args=[phishing_case.pk]))
    assert "Le message n'est plus conservé" in page.content.decode()
    assert "bulletin-mars.pdf" in page.content.decode()  # indicators stay


def test_the_list_filters_by_status_verdict_and_kind(world, phishing_case):
    recipient = corpus.simulation_recipient(world.est_a1, world.staff_a1)
    services.ingest(
        corpus.forward_as_attachment(
            corpus.simulation_message(recipient.token, recipient.email), recipient.email
        ),
        organisation=world.est_a1,
        source=Source.IMAP,
    )
    url = reverse("mailreports:cases", args=[world.ght_a.pk])
    client = browser(world.reader)

    def rows(**query):
        return client.get(url, query).content.decode().count('data-testid="case-row"')

    assert rows() == 2
    assert rows(kind="simulation") == 1 and rows(kind="real") == 1
    assert rows(status="new") == 1 and rows(verdict="exercise") == 1
    assert rows(verdict="malicious") == 0
    exercise = Case.objects.get(kind="simulation")
    page = client.get(reverse("mailreports:case", args=[exercise.pk])).content.decode()
    assert "Exercice reconnu" in page and recipient.simulation.name in page


def test_another_tenant_sees_nothing(world, phishing_case):
    outsider = browser(world.outsider)
    assert outsider.get(reverse("mailreports:case", args=[phishing_case.pk])).status_code == 404
    response = outsider.post(
        reverse("mailreports:case_verdict", args=[phishing_case.pk]), {"verdict": "spam"}
    )
    assert response.status_code == 404
    report = phishing_case.reports.first()
    assert outsider.get(reverse("mailreports:report_raw", args=[report.pk])).status_code == 404
    page = outsider.get(reverse("mailreports:cases", args=[world.ght_b.pk])).content.decode()
    assert "Action requise" not in page
    assert Case.objects.get().verdict == ""
