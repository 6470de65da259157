"""Outlook .msg files, as Outlook saves a received message, written by tests/mailreports/
msgfile.py: read by analysis.load_outlook, uploaded, triaged like the same .eml, and a
simulation saved as .msg credited to whoever reports it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import olefile
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.mailreports import analysis, services
from hygie.mailreports.models import Case, CaseKind, Report, Source, Verdict
from hygie.phishing.models import Event, Recipient
from tests.clients import browser
from tests.mailreports import corpus, msgfile

PDF = b"%PDF-1.4 faux bulletin de paie\n"
TRIAGE_KEYS = (
    "subject",
    "message_id",
    "from",
    "reply_to",
    "return_path",
    "reply_to_mismatch",
    "return_path_mismatch",
    "authentication",
    "received",
    "urls",
    "url_hosts",
)


def read(data: bytes, name: str = "message.msg"):
    return analysis.load(analysis.load_outlook(data, name), name)


def test_a_saved_outlook_message_gives_what_triage_reads():
    original = corpus.real_phishing(attachment=True)
    data = msgfile.from_email(original)
    # The writer's container is a compound file a strict reader accepts without a remark.
    with olefile.OleFileIO(data, raise_defects=olefile.DEFECT_UNSURE) as container:
        assert container.exists("__attach_version1.0_#00000000/__substg1.0_37010102")
        assert container.exists("__substg1.0_007D001F")

    found = analysis.indicators(read(data))

    assert found["subject"] == "Action requise : mise à jour de vos coordonnées bancaires"
    assert found["authentication"] == {
        "server": "mx1.chu-a.example",
        "spf": "fail",
        "dkim": "fail",
        "dmarc": "fail",
    }
    assert [(hop["ip"], hop["by"]) for hop in found["received"]] == [
        ("203.0.113.45", "mx1.chu-a.example"),
        ("10.0.0.25", "mbx.chu-a.example"),
    ]
    assert found["from"] == "paie@paie-chu.example"
    assert found["return_path"] == "bounce-7781@mailer.envois-massifs.example"
    assert found["return_path_mismatch"] and found["reply_to_mismatch"]
    assert "https://paie-chu.example.connexion-securisee.example/maj?id=12" in found["urls"]
    assert "https://portail-paie.example/login?u=agent" in found["urls"]
    assert [(item["name"], item["sha256"]) for item in found["attachments"]] == [
        ("bulletin-mars.pdf", hashlib.sha256(PDF).hexdigest())
    ]
    # Everything triage uses reads as it does from the .eml of the same message.
    from_eml = analysis.indicators(analysis.load(bytes(original)))
    assert {key: found[key] for key in TRIAGE_KEYS} == {key: from_eml[key] for key in TRIAGE_KEYS}


def test_a_large_attachment_outside_the_mini_stream_keeps_its_hash():
    # Over 4,096 bytes: stored in regular 512-byte sectors, not in the mini stream.
    payload = bytes(range(256)) * 80 + b"fin"
    data = msgfile.outlook_message(
        subject="Facture en retard",
        sender_name="Fournisseur",
        sender_address="compta@fournisseur.example",
        body="Veuillez trouver la facture ci-jointe.\n" * 200,
        transport_headers="From: Fournisseur <compta@fournisseur.example>\r\n"
        "Subject: Facture en retard\r\nMessage-ID: <f-1@fournisseur.example>\r\n",
        attachments=[("facture.xlsm", payload, "application/vnd.ms-excel.sheet.macroEnabled.12")],
    )
    found = analysis.indicators(read(data))
    assert found["attachments"][0]["name"] == "facture.xlsm"
    assert found["attachments"][0]["size"] == len(payload)
    assert found["attachments"][0]["sha256"] == hashlib.sha256(payload).hexdigest()


def test_trimmed_transport_headers_are_completed_from_the_message_properties():
    # Only the trace fields kept (a gateway trimmed the block): subject, recipients, date and
    # Message-ID come from the .msg's own properties, so the report still has them.
    original = corpus.real_phishing(to="interne@chu-a.example")
    data = msgfile.from_email(
        original, keep_headers=("Received", "Authentication-Results", "From", "Return-Path")
    )
    message = read(data)
    found = analysis.indicators(message)
    assert found["subject"] == "Action requise : mise à jour de vos coordonnées bancaires"
    assert found["message_id"] == "<paie-2026-03@paie-chu.example>"
    assert analysis.arrival_of(message) == datetime(2026, 3, 2, 8, 14, 58, tzinfo=UTC)
    assert "interne@chu-a.example" in str(message["To"])
    assert found["authentication"]["dmarc"] == "fail" and len(found["received"]) == 2
    assert found["return_path_mismatch"]


def test_a_message_without_transport_headers_is_read_from_its_properties():
    # Saved from the Sent Items or Drafts: no header block at all, no verdicts to show.
    data = msgfile.outlook_message(
        subject="Planning de garde",
        sender_name="Cadre de santé",
        sender_address="cadre@chu-a.example",
        body="Le planning est ici : https://intranet.chu-a.example/planning\n",
        recipients=[("Équipe de nuit", "nuit@chu-a.example")],
    )
    found = analysis.indicators(read(data))
    assert found["subject"] == "Planning de garde"
    assert found["from"] == "cadre@chu-a.example"
    assert found["urls"] == ["https://intranet.chu-a.example/planning"]
    assert found["authentication"] == {"server": "", "spf": "", "dkim": "", "dmarc": ""}
    assert found["received"] == []


def test_a_damaged_outlook_file_is_named():
    data = msgfile.from_email(corpus.real_phishing())
    with pytest.raises(analysis.UnreadableMessage) as problem:
        analysis.load_outlook(data[:1536], "abime.msg")
    assert "« abime.msg » n'est pas lisible : fichier Outlook endommagé" in str(problem.value)


def test_an_office_document_renamed_msg_is_explained(world):
    document = msgfile.compound_file(
        {"WordDocument": b"\xec\xa5" + b"\0" * 200, "\x05SummaryInformation": b"\xfe\xff" * 30}
    )
    response = browser(world.editor).post(
        reverse("mailreports:upload", args=[world.est_a1.pk]),
        {"files": [SimpleUploadedFile("note-de-service.msg", document)]},
    )
    assert response.status_code == 400
    assert (
        "« note-de-service.msg » n&#x27;est pas lisible : c&#x27;est un fichier composé "
        "Microsoft (document Word, Excel…) mais pas un message Outlook."
    ) in response.content.decode()
    assert Report.objects.count() == 0


def test_an_uploaded_msg_is_triaged_and_grouped_like_the_same_eml(world):
    original = corpus.real_phishing(attachment=True)
    response = browser(world.editor).post(
        reverse("mailreports:upload", args=[world.est_a1.pk]),
        {
            "files": [SimpleUploadedFile("paie.msg", msgfile.from_email(original))],
            "reporter": "secretariat@chu-a.example",
        },
    )
    assert response.status_code == 302, response.content.decode()
    case = Case.objects.get()
    assert case.kind == CaseKind.REAL
    assert case.subject == "Action requise : mise à jour de vos coordonnées bancaires"
    assert case.sender == "paie@paie-chu.example"
    assert case.indicators["authentication"]["spf"] == "fail"
    assert case.indicators["attachments"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    report = Report.objects.get()
    assert (report.file_name, report.reporter) == ("paie.msg", "secretariat@chu-a.example")
    # The same message forwarded as an attachment to the abuse mailbox joins that case.
    services.ingest(
        corpus.forward_as_attachment(original, "interne@chu-a.example"),
        organisation=world.est_a1,
        source=Source.IMAP,
    )
    assert Case.objects.get().report_count == 2
    # The case page shows the .msg's indicators, defanged.
    page = browser(world.reader).get(reverse("mailreports:case", args=[case.pk])).content
    assert "hxxps://portail-paie[.]example/login?u=agent" in page.decode()
    assert "203.0.113.45" in page.decode()


def test_the_same_msg_uploaded_twice_is_stored_once(world):
    data = msgfile.from_email(corpus.real_phishing())
    editor = browser(world.editor)
    url = reverse("mailreports:upload", args=[world.est_a1.pk])
    editor.post(url, {"files": [SimpleUploadedFile("a.msg", data)]})
    editor.post(url, {"files": [SimpleUploadedFile("a-copie.msg", data)]})
    assert Report.objects.count() == 1


def test_a_simulation_saved_as_msg_is_recognised_and_credited(world, mailoutbox):
    recipient = corpus.simulation_recipient(world.est_a1, world.staff_a1)
    sent = corpus.simulation_message(recipient.token, recipient.email)
    # Outlook keeps the simulation header in the transport headers; the links are in the body.
    data = msgfile.from_email(sent)
    assert recipient.token.encode("utf-16-le") in data
    response = browser(world.editor).post(
        reverse("mailreports:upload", args=[world.est_a1.pk]),
        {
            "files": [SimpleUploadedFile("exercice.msg", data)],
            "reporter": recipient.email,
        },
    )
    assert response.status_code == 302, response.content.decode()
    case = Case.objects.get()
    assert (case.kind, case.verdict) == (CaseKind.SIMULATION, Verdict.EXERCISE)
    assert case.simulation_id == recipient.simulation_id
    recipient = Recipient.objects.get(pk=recipient.pk)
    assert recipient.reported_at is not None
    assert Event.objects.filter(recipient=recipient, kind="report").count() == 1
    assert Report.objects.get().credited
    # The reporter is thanked for the exercise.
    assert [message.to for message in mailoutbox] == [[recipient.email]]


def test_a_simulation_msg_with_only_its_header_is_still_recognised(world):
    # Links rewritten beyond recognition by a gateway: the transport header alone suffices.
    recipient = corpus.simulation_recipient(world.est_a1, world.staff_a1)
    data = msgfile.outlook_message(
        subject="Vos résultats d'analyse sont disponibles",
        sender_name="Laboratoire",
        sender_address="resultats@labo-analyses.example",
        body="Consultez vos résultats : https://passerelle.example/r/abc\n",
        transport_headers=(
            "Received: from relais.example (relais.example [192.0.2.7]) by mx1.chu-a.example"
            " with ESMTP; Mon, 2 Mar 2026 09:15:01 +0100\r\n"
            "From: Laboratoire <resultats@labo-analyses.example>\r\n"
            f"X-Hygie-Simulation: {recipient.token}\r\n"
        ),
    )
    intake = services.ingest(
        analysis.load_outlook(data, "x.msg"),
        organisation=world.est_a1,
        source=Source.UPLOAD,
        reporter=recipient.email,
        file_name="x.msg",
    )
    assert intake.credited
    assert Recipient.objects.get(pk=recipient.pk).reported_at is not None
