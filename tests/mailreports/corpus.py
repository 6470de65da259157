"""Test messages, built here with email.message.EmailMessage (no copied samples)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

from hygie.orgs.models import StaffMember
from hygie.phishing.models import Recipient, SendingProfile, Simulation
from hygie.phishing.tracking import new_token

ABUSE = "signalement@chu-a.example"
SIM_BASE = "https://portail-rh.example"
# Bytes that are no e-mail: no header, some binary noise.
GARBAGE = b"\xff\xfe\x13 PK zip? \x7f\x80\x81 ceci n'est pas un message \xe9\xe8\r\n" * 20


def simulation_recipient(
    organisation, staff: StaffMember | None = None, email: str = ""
) -> Recipient:
    profile, _ = SendingProfile.objects.get_or_create(
        organisation=organisation,
        name=f"Relais {organisation.pk}",
        defaults={"host": "127.0.0.1", "from_address": "it@chu.example"},
    )
    simulation, _ = Simulation.objects.get_or_create(
        organisation=organisation,
        name=f"Campagne {organisation.name}",
        defaults={"sending_profile": profile, "status": "running"},
    )
    return Recipient.objects.create(
        simulation=simulation,
        staff=staff,
        email=email or (staff.email if staff else "agent@chu.example"),
        establishment=organisation,
        lure="resultats-laboratoire",
        token=new_token(),
        sent_at=timezone.now() - dt.timedelta(hours=2),
    )


def simulation_message(token: str, to: str) -> EmailMessage:
    """What Hygie sends for a simulation: the header and the tracking link and pixel."""
    message = EmailMessage()
    message["From"] = "Laboratoire <resultats@labo-analyses.example>"
    message["To"] = to
    message["Subject"] = "Vos résultats d'analyse sont disponibles"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="labo-analyses.example")
    message["X-Hygie-Simulation"] = token
    message.set_content(f"Consultez vos résultats : {SIM_BASE}/s/c/{token}/\n")
    message.add_alternative(
        f'<p>Consultez <a href="{SIM_BASE}/s/c/{token}/">vos résultats</a></p>'
        f'<img src="{SIM_BASE}/s/o/{token}.gif" alt="">',
        subtype="html",
    )
    return message


def forward_as_attachment(original: EmailMessage, reporter: str, note: str = "") -> bytes:
    """What a report button or "forward as attachment" sends to the abuse mailbox."""
    report = EmailMessage()
    report["From"] = reporter
    report["To"] = ABUSE
    report["Subject"] = "TR: " + str(original["Subject"])
    report["Date"] = format_datetime(timezone.now())
    report["Message-ID"] = make_msgid(domain="chu-a.example")
    report.set_content(note or "Ce message me semble suspect.")
    report.add_attachment(original)
    return bytes(report)


def forward_inline(original: EmailMessage, reporter: str) -> bytes:
    """An inline forward: the original is quoted in the body, its headers are lost, and the
    gateway rewrote its links (URL-encoded)."""
    from urllib.parse import quote

    text = original.get_body(("plain",)).get_content()
    wrapped = text.replace(
        f"{SIM_BASE}/s/c/",
        "https://eur01.safelinks.protection.outlook.com/?url=" + quote(f"{SIM_BASE}/s/c/", safe=""),
    )
    report = EmailMessage()
    report["From"] = reporter
    report["To"] = ABUSE
    report["Subject"] = "TR: " + str(original["Subject"])
    report["Message-ID"] = make_msgid(domain="chu-a.example")
    report.set_content(
        "Bonjour, je vous transfère ce message bizarre.\n\n"
        "-------- Message transféré --------\n"
        f"De : {original['From']}\nObjet : {original['Subject']}\n\n{wrapped}"
    )
    return bytes(report)


def real_phishing(to: str = "agent@chu-a.example", *, attachment: bool = False) -> EmailMessage:
    """A credential phishing: SPF and DKIM fail, DMARC fails, Return-Path and Reply-To on
    other domains than From, links in text and HTML."""
    message = EmailMessage()
    message["Return-Path"] = "<bounce-7781@mailer.envois-massifs.example>"
    message["Authentication-Results"] = (
        "mx1.chu-a.example; spf=fail smtp.mailfrom=mailer.envois-massifs.example; "
        "dkim=fail header.d=paie-chu.example; dmarc=fail (p=none) header.from=paie-chu.example"
    )
    message["Received"] = (
        "from mx1.chu-a.example (mx1.chu-a.example [10.0.0.25]) by mbx.chu-a.example "
        "with LMTP; Mon, 2 Mar 2026 09:15:03 +0100"
    )
    message["Received"] = (
        "from smtp.envois-massifs.example (smtp.envois-massifs.example [203.0.113.45]) "
        "by mx1.chu-a.example with ESMTP id 4F2; Mon, 2 Mar 2026 09:15:01 +0100"
    )
    message["From"] = "Service de la paie <paie@paie-chu.example>"
    message["Reply-To"] = "paie.urgent@boite-gratuite.example"
    message["To"] = to
    message["Subject"] = "Action requise : mise à jour de vos coordonnées bancaires"
    message["Date"] = "Mon, 2 Mar 2026 09:14:58 +0100"
    message["Message-ID"] = "<paie-2026-03@paie-chu.example>"
    message.set_content(
        "Bonjour,\n\nVotre bulletin de paie de mars est bloqué. Mettez à jour vos coordonnées "
        "avant ce soir : https://paie-chu.example.connexion-securisee.example/maj?id=12.\n"
    )
    message.add_alternative(
        "<p>Bonjour,</p><p>Votre bulletin est bloqué. "
        '<a href="https://portail-paie.example/login?u=agent">Mettez à jour</a> '
        "avant ce soir.</p><script>alert('x')</script>",
        subtype="html",
    )
    if attachment:
        message.add_attachment(
            b"%PDF-1.4 faux bulletin de paie\n",
            maintype="application",
            subtype="pdf",
            filename="bulletin-mars.pdf",
        )
    return message
