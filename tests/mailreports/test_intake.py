"""Reports arriving over HTTP: report buttons (secret token) and .eml/.msg uploads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.core.models import AuditEvent
from hygie.mailreports import services
from hygie.mailreports.models import Case, CaseKind, Mailbox, Report
from hygie.phishing.models import Recipient
from tests.clients import browser
from tests.mailreports import corpus


@pytest.fixture
def mailbox(world):
    return Mailbox.objects.create(
        organisation=world.est_a1,
        name="Boîte A1",
        host="imap.chu-a.example",
        username="abus",
        password="x",
    )


def post_button(client, secret, raw, **headers):
    return client.post(
        reverse("mailreports:button_report"),
        data=raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {secret}", **headers},
    )


def test_a_report_button_posts_the_message_with_the_mailbox_secret(world, mailbox, client):
    secret = services.new_button_token(mailbox)
    assert (
        secret
        not in Mailbox.objects.filter(pk=mailbox.pk).values_list("button_token_hash", flat=True)[0]
    )
    raw = bytes(corpus.real_phishing(to="interne@chu-a.example"))
    response = post_button(client, secret, raw)
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    # The button sent the suspicious message itself: the reporter is its recipient.
    assert report.reporter == "interne@chu-a.example"
    assert report.case.organisation == world.est_a1
    # Posted again (the add-in retried): stored once.
    assert post_button(client, secret, raw).json()["new"] is False
    assert Report.objects.count() == 1


def test_a_button_report_of_a_simulation_credits_the_recipient(world, mailbox, client):
    from django.core import mail

    secret = services.new_button_token(mailbox)
    recipient = corpus.simulation_recipient(world.est_a1, world.staff_a1)
    raw = bytes(corpus.simulation_message(recipient.token, recipient.email))
    response = post_button(client, secret, raw, **{"X-Hygie-Reporter": recipient.email})
    assert response.json()["exercise"] is True
    assert Recipient.objects.get(pk=recipient.pk).reported_at is not None
    assert mail.outbox[0].to == [recipient.email]


def test_a_button_may_send_a_multipart_field(world, mailbox, client):
    secret = services.new_button_token(mailbox)
    upload = SimpleUploadedFile("m.eml", bytes(corpus.real_phishing()), "message/rfc822")
    response = client.post(
        reverse("mailreports:button_report"),
        {"message": upload, "reporter": "cadre@chu-a.example"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201
    assert Report.objects.get().reporter == "cadre@chu-a.example"


def test_a_button_without_the_right_secret_or_message_is_refused(world, mailbox, client):
    raw = bytes(corpus.real_phishing())
    assert post_button(client, "hyr_wrong", raw).status_code == 401
    services.new_button_token(mailbox)
    old = services.new_button_token(mailbox)
    renewed = services.new_button_token(mailbox)
    assert post_button(client, old, raw).status_code == 401
    garbage = post_button(client, renewed, corpus.GARBAGE)
    assert garbage.status_code == 400 and "aucun en-tête" in garbage.json()["error"]
    missing = client.post(
        reverse("mailreports:button_report"), {}, headers={"Authorization": f"Bearer {renewed}"}
    )
    assert missing.status_code == 400 and "message" in missing.json()["error"]
    assert Report.objects.count() == 0


def test_uploaded_eml_files_become_cases(world):
    files = [
        SimpleUploadedFile(
            "paie.eml", corpus.forward_as_attachment(corpus.real_phishing(), "a@chu-a.example")
        ),
        SimpleUploadedFile("pj.eml", bytes(corpus.real_phishing(attachment=True))),
    ]
    response = browser(world.editor).post(
        reverse("mailreports:upload", args=[world.est_a1.pk]),
        {"files": files, "reporter": "secretariat@chu-a.example"},
    )
    assert response.status_code == 302
    assert Case.objects.filter(kind=CaseKind.REAL).count() == 2
    assert set(Report.objects.values_list("reporter", flat=True)) == {"secretariat@chu-a.example"}
    assert AuditEvent.objects.filter(action="mailreports.upload").exists()


def test_a_garbage_file_is_named_and_nothing_is_stored(world):
    files = [
        SimpleUploadedFile("bon.eml", bytes(corpus.real_phishing())),
        SimpleUploadedFile("bruit.eml", corpus.GARBAGE),
        SimpleUploadedFile("outlook.msg", b"pas un fichier outlook"),
        SimpleUploadedFile("notes.txt", b"From: a@b.c\n\nx"),
    ]
    response = browser(world.editor).post(
        reverse("mailreports:upload", args=[world.est_a1.pk]), {"files": files}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Aucun message n'a été enregistré" in page
    assert "« bruit.eml » n&#x27;est pas lisible : aucun en-tête" in page
    assert "« outlook.msg » n&#x27;est pas lisible : ce n&#x27;est pas un fichier Outlook" in page
    assert "« notes.txt » : seuls les fichiers .eml et .msg" in page
    assert Report.objects.count() == 0 and Case.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(world, settings):
    settings.MAILREPORTS_MAX_BYTES = 2048
    big = bytes(corpus.real_phishing()) + b"x" * 4096
    response = browser(world.editor).post(
        reverse("mailreports:upload", args=[world.est_a1.pk]),
        {"files": [SimpleUploadedFile("gros.eml", big)]},
    )
    assert response.status_code == 400
    assert "« gros.eml » n&#x27;est pas lisible : trop volumineux" in response.content.decode()
    assert Report.objects.count() == 0
