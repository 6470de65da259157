"""Triage of real reports: what is extracted, how identical reports are grouped."""

from __future__ import annotations

from email.message import EmailMessage

from hygie.mailreports import analysis, services
from hygie.mailreports.models import Case, CaseKind, Source
from tests.mailreports import corpus


def test_a_phishing_shows_failed_authentication_the_route_and_mismatched_domains():
    found = analysis.indicators(
        analysis.load(corpus.forward_as_attachment(corpus.real_phishing(), "a@chu-a.example"))
    )
    assert found["authentication"] == {
        "server": "mx1.chu-a.example",
        "spf": "fail",
        "dkim": "fail",
        "dmarc": "fail",
    }
    # Received headers are prepended: the chain reads from the sender's side to ours.
    assert [hop["ip"] for hop in found["received"]] == ["203.0.113.45", "10.0.0.25"]
    assert found["received"][0]["by"] == "mx1.chu-a.example"
    assert found["received"][0]["date"].startswith("2026-03-02T09:15:01")
    assert found["from_domain"] == "paie-chu.example"
    assert found["return_path_domain"] == "mailer.envois-massifs.example"
    assert found["return_path_mismatch"] and found["reply_to_mismatch"]
    assert found["message_id"] == "<paie-2026-03@paie-chu.example>"
    # Text links first, then the HTML's, each once.
    assert found["urls"] == [
        "https://paie-chu.example.connexion-securisee.example/maj?id=12",
        "https://portail-paie.example/login?u=agent",
    ]
    assert found["attachments"] == []


def test_attachments_are_listed_with_their_hash():
    import hashlib

    found = analysis.indicators(
        analysis.load(
            corpus.forward_as_attachment(corpus.real_phishing(attachment=True), "a@chu-a.example")
        )
    )
    assert found["attachments"] == [
        {
            "name": "bulletin-mars.pdf",
            "type": "application/pdf",
            "size": 31,
            "sha256": hashlib.sha256(b"%PDF-1.4 faux bulletin de paie\n").hexdigest(),
        }
    ]


def test_aligned_domains_are_not_a_mismatch():
    message = EmailMessage()
    message["From"] = "rh@chu-a.example"
    message["Return-Path"] = "<bounce@lists.chu-a.example>"
    message["Subject"] = "Planning"
    message.set_content("Rien de suspect.")
    found = analysis.indicators(analysis.load(bytes(message)))
    assert not found["return_path_mismatch"] and not found["reply_to_mismatch"]
    assert found["authentication"]["spf"] == ""


def test_urls_are_defanged_for_display():
    assert analysis.defang("https://evil.example/a.b?c=d") == "hxxps://evil[.]example/a.b?c=d"
    assert analysis.defang("http://1.2.3.4") == "hxxp://1[.]2[.]3[.]4"


def test_forty_people_reporting_one_campaign_make_one_case(world):
    for number in range(40):
        # Each copy has its own recipient and its own tracking parameter in the links.
        phishing = corpus.real_phishing(to=f"agent{number}@chu-a.example")
        raw = corpus.forward_as_attachment(phishing, f"agent{number}@chu-a.example")
        raw = raw.replace(b"u=agent", f"u=agent{number}".encode())
        services.ingest(raw, organisation=world.est_a1, source=Source.BUTTON)
    case = Case.objects.get()
    assert case.report_count == 40 and case.kind == CaseKind.REAL
    assert case.reports.values("reporter").distinct().count() == 40
    # Another message makes another case.
    other = EmailMessage()
    other["From"] = "fournisseur@factures.example"
    other["Subject"] = "Facture impayée"
    other.set_content("Réglez la facture : https://factures.example/payer")
    services.ingest(
        corpus.forward_as_attachment(other, "agent@chu-a.example"),
        organisation=world.est_a1,
        source=Source.BUTTON,
    )
    assert Case.objects.count() == 2


def test_an_inline_forward_groups_with_the_attached_copy(world):
    phishing = corpus.real_phishing()
    services.ingest(
        corpus.forward_as_attachment(phishing, "a@chu-a.example"),
        organisation=world.est_a1,
        source=Source.UPLOAD,
    )
    inline = EmailMessage()
    inline["From"] = "b@chu-a.example"
    inline["Subject"] = "TR: " + str(phishing["Subject"])
    inline.set_content(
        "Regardez ça.\n\nDe : Service de la paie <paie@paie-chu.example>\n\n"
        + phishing.get_body(("plain",)).get_content()
        + "\nhttps://portail-paie.example/login?u=b"
    )
    services.ingest(bytes(inline), organisation=world.est_a1, source=Source.UPLOAD)
    assert Case.objects.get().report_count == 2


def test_garbage_is_refused_with_the_reason():
    import pytest

    with pytest.raises(analysis.UnreadableMessage, match="« bruit.eml » .*aucun en-tête"):
        analysis.load(corpus.GARBAGE, "bruit.eml")
    with pytest.raises(analysis.UnreadableMessage, match="vide"):
        analysis.load(b"  \n", "vide.eml")
    with pytest.raises(analysis.UnreadableMessage, match="Outlook"):
        analysis.load(analysis.OLE_MAGIC + b"\x00" * 100, "ouvert.eml")
    with pytest.raises(analysis.UnreadableMessage, match="« faux.msg » .*signature"):
        analysis.load_outlook(b"From: a@b.c\n\nhello", "faux.msg")
    with pytest.raises(analysis.UnreadableMessage, match="« abime.msg » .*endommagé"):
        analysis.load_outlook(analysis.OLE_MAGIC + b"\x00" * 600, "abime.msg")


def test_an_html_only_message_is_shown_as_text_without_its_script():
    message = EmailMessage()
    message["From"] = "x@evil.example"
    message["Subject"] = "Colis"
    message.set_content(
        "<html><head><style>p{}</style></head><body><p>Votre colis attend.</p>"
        "<script>document.location='https://evil.example'</script>"
        '<a href="https://colis.evil.example/suivi">Suivre</a></body></html>',
        subtype="html",
    )
    parsed = analysis.load(bytes(message))
    text = analysis.text_body(parsed)
    assert "Votre colis attend." in text and "Suivre" in text
    assert "document.location" not in text and "<p>" not in text
    assert analysis.urls(parsed) == ["https://colis.evil.example/suivi", "https://evil.example"]
