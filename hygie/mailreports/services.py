"""Taking reports in (IMAP, report buttons, uploaded files), recognising simulations, grouping
identical reports into cases, verdicts and replies to reporters, retention."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage as OutgoingMail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.core.audit import record_event
from hygie.mailreports import analysis
from hygie.mailreports.models import (
    Case,
    CaseKind,
    CaseStatus,
    Mailbox,
    Report,
    Source,
    Verdict,
)

logger = logging.getLogger(__name__)

BUTTON_TOKEN_PREFIX = "hyr_"  # noqa: S105 - a visible prefix, not a secret


@dataclass
class Intake:
    report: Report
    created: bool  # False: this report was already stored (same IMAP UID or Message-ID)
    credited: bool = False  # a simulation's recipient was credited with a first report


# Intake -----------------------------------------------------------------------------------------
def max_bytes() -> int:
    return settings.MAILREPORTS_MAX_BYTES


def too_big(size: int, name: str = "") -> analysis.UnreadableMessage | None:
    if size <= max_bytes():
        return None
    limit = _("%(n)s Mo") % {"n": max_bytes() // (1024 * 1024)}
    reason = _("trop volumineux (%(size)s octets, %(limit)s au plus).") % {
        "size": size,
        "limit": limit,
    }
    return analysis._named(name, reason)


def ingest(
    raw: bytes,
    *,
    organisation,
    source: str,
    mailbox: Mailbox | None = None,
    received_at=None,
    reporter: str = "",
    uploaded_by=None,
    uidvalidity: int | None = None,
    uid: int | None = None,
    file_name: str = "",
) -> Intake:
    """Store one report once, in its case; credit a simulation's recipient. Raises
    analysis.UnreadableMessage (nothing stored) for what is not an e-mail."""
    problem = too_big(len(raw), file_name)
    if problem:
        raise problem
    report_message = analysis.load(raw, file_name)
    received_at = received_at or timezone.now()
    message_id = str(report_message.get("Message-ID", "")).strip()[:500]
    existing = _already_stored(organisation, mailbox, source, uidvalidity, uid, message_id)
    if existing is not None:
        return Intake(existing, created=False)
    if not reporter and source != Source.UPLOAD:
        reporter = _reporter_of(report_message, source)
    recipient = _simulation_recipient(report_message, organisation)
    if recipient is not None:
        fingerprint = f"simulation-{recipient.simulation_id}"
        found = analysis.indicators(report_message)
    else:
        found = analysis.indicators(report_message)
        body = analysis.text_body(analysis.reported_message(report_message))
        fingerprint = analysis.fingerprint(found, body)
    with transaction.atomic():
        case = _case_for(organisation, fingerprint, found, recipient, received_at)
        report = Report.objects.create(
            case=case,
            mailbox=mailbox,
            source=source,
            reporter=reporter[:254],
            uploaded_by=uploaded_by,
            received_at=received_at,
            imap_uidvalidity=uidvalidity,
            imap_uid=uid,
            message_id=message_id,
            file_name=file_name[:255],
            raw=base64.b64encode(raw).decode("ascii"),
            raw_size=len(raw),
            recipient=recipient,
        )
        Case.objects.filter(pk=case.pk).update(report_count=F("report_count") + 1)
        credited = False
        if recipient is not None and recipient.reported_at is None:
            from hygie.phishing.models import EventKind
            from hygie.phishing.tracking import record

            record(recipient, EventKind.REPORT, at=received_at)
            credited = True
            Report.objects.filter(pk=report.pk).update(credited=True)
            report.credited = True
    if recipient is not None and reporter:
        # After the report is saved: a failed send leaves it stored and unanswered.
        thank_for_exercise(report, mailbox)
    return Intake(report, created=True, credited=credited)


def _reporter_of(report_message, source: str) -> str:
    """Who reported: the sender of a report carrying the message as an attachment, or of an
    inline forward; for a button posting the suspicious message itself, its recipient."""
    wraps = analysis.reported_message(report_message) is not report_message
    if wraps:
        return analysis._address(report_message, "From")
    if source == Source.BUTTON:
        return analysis._address(report_message, "To")
    return analysis._address(report_message, "Resent-From") or analysis._address(
        report_message, "From"
    )


def _already_stored(organisation, mailbox, source, uidvalidity, uid, message_id):
    if mailbox is not None and uid is not None:
        found = Report.objects.filter(
            mailbox=mailbox, imap_uidvalidity=uidvalidity, imap_uid=uid
        ).first()
        if found:
            return found
    if not message_id:
        return None
    same = Report.objects.filter(message_id=message_id, case__organisation=organisation)
    if mailbox is not None:
        same = same.filter(mailbox=mailbox)
    else:
        same = same.filter(mailbox__isnull=True, source=source)
    return same.first()


def _simulation_recipient(report_message, organisation):
    """The recipient of one of this organisation's simulations the report is about, or None.

    A token from another organisation's simulation is not ours to credit: the report is then
    handled as a real one (someone may be replaying a tracking link)."""
    from hygie.phishing.models import Recipient

    tokens = analysis.simulation_tokens(report_message)
    if not tokens:
        return None
    candidates = Recipient.objects.filter(token__in=tokens).select_related(
        "simulation__organisation", "establishment"
    )
    for recipient in candidates:
        paths = [recipient.simulation.organisation.path]
        if recipient.establishment_id:
            paths.append(recipient.establishment.path)
        if any(path.startswith(organisation.path) for path in paths):
            return recipient
    return None


def _case_for(organisation, fingerprint, found, recipient, received_at) -> Case:
    defaults = {
        "subject": found["subject"][:300],
        "sender": found["from"][:320],
        "indicators": found,
        "first_reported_at": received_at,
        "last_reported_at": received_at,
    }
    if recipient is not None:
        defaults.update(
            kind=CaseKind.SIMULATION,
            status=CaseStatus.DECIDED,
            verdict=Verdict.EXERCISE,
            simulation=recipient.simulation,
            subject=recipient.simulation.name[:300],
            decided_at=received_at,
        )
    try:
        with transaction.atomic():
            case, created = Case.objects.get_or_create(
                organisation=organisation, fingerprint=fingerprint, defaults=defaults
            )
    except IntegrityError:  # another worker created it at the same moment
        case, created = Case.objects.get(organisation=organisation, fingerprint=fingerprint), False
    if not created:
        changes = {}
        if received_at > case.last_reported_at:
            changes["last_reported_at"] = received_at
        if received_at < case.first_reported_at:
            changes["first_reported_at"] = received_at
        if changes:
            Case.objects.filter(pk=case.pk).update(**changes)
    return case


def raw_bytes(report: Report) -> bytes:
    return base64.b64decode(report.raw) if report.raw else b""


def parsed(report: Report):
    """(the report message, the reported message) of a stored report, or (None, None) once
    purged."""
    data = raw_bytes(report)
    if not data:
        return None, None
    message = analysis.load(data)
    return message, analysis.reported_message(message)


# Report buttons ---------------------------------------------------------------------------------
def new_button_token(mailbox: Mailbox) -> str:
    """A fresh secret for the report buttons of this mailbox; the previous one stops working.
    Only its hash is stored: the secret is shown once."""
    secret = BUTTON_TOKEN_PREFIX + secrets.token_urlsafe(32)
    mailbox.button_token_hash = hash_token(secret)
    mailbox.save(update_fields=["button_token_hash", "updated_at"])
    return secret


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def mailbox_for_token(secret: str) -> Mailbox | None:
    if not secret.startswith(BUTTON_TOKEN_PREFIX) or len(secret) > 100:
        return None
    return (
        Mailbox.objects.select_related("organisation")
        .filter(button_token_hash=hash_token(secret))
        .first()
    )


# Replies ----------------------------------------------------------------------------------------
def _from_address(mailbox: Mailbox | None) -> str:
    return (mailbox.reply_address if mailbox else "") or settings.DEFAULT_FROM_EMAIL


def thank_for_exercise(report: Report, mailbox: Mailbox | None) -> bool:
    """The warm "well done" to someone who reported one of our simulations."""
    if not report.reporter or report.replied_at:
        return False
    mail = OutgoingMail(
        subject=_("Bien joué : c'était un exercice"),
        body=_(
            "Bonjour,\n\n"
            "Bravo et merci : le message que vous nous avez signalé était un exercice de "
            "sensibilisation organisé par votre établissement. Vous avez eu exactement le bon "
            "réflexe, et en le signalant vite vous aidez à protéger tout l'hôpital.\n\n"
            "Continuez ainsi : au moindre doute, signalez.\n\n"
            "L'équipe sécurité du système d'information"
        ),
        from_email=_from_address(mailbox),
        to=[report.reporter],
    )
    try:
        mail.send()
    except OSError as exc:
        logger.warning("thank-you mail to report %s not sent: %s", report.pk, exc)
        return False
    Report.objects.filter(pk=report.pk).update(replied_at=timezone.now())
    return True


def reply_template(verdict: str, case: Case) -> tuple[str, str]:
    """(subject, body) offered to the analyst, editable before it goes to the reporters."""
    subject = case.subject or _("(sans objet)")
    templates = {
        Verdict.MALICIOUS: (
            _("Votre signalement : message malveillant"),
            _(
                "Bonjour,\n\n"
                "Merci d'avoir signalé le message « %(subject)s ». Nous l'avons analysé : il "
                "est malveillant. Nous le retirons des boîtes aux lettres et bloquons "
                "l'expéditeur.\n\n"
                "Ne cliquez sur aucun lien et n'ouvrez aucune pièce jointe de ce message. Si "
                "vous l'avez déjà fait, ou si vous avez saisi votre mot de passe, appelez tout "
                "de suite le service informatique : réagir vite limite les dégâts.\n\n"
                "Merci pour votre vigilance.\n\n"
                "L'équipe sécurité du système d'information"
            ),
        ),
        Verdict.SPAM: (
            _("Votre signalement : message indésirable"),
            _(
                "Bonjour,\n\n"
                "Merci d'avoir signalé le message « %(subject)s ». Il s'agit d'un message "
                "indésirable (publicité, spam) sans danger particulier : vous pouvez le "
                "supprimer.\n\n"
                "Continuez à signaler les messages qui vous semblent douteux.\n\n"
                "L'équipe sécurité du système d'information"
            ),
        ),
        Verdict.LEGITIMATE: (
            _("Votre signalement : message légitime"),
            _(
                "Bonjour,\n\n"
                "Merci d'avoir signalé le message « %(subject)s ». Après vérification, il est "
                "légitime : vous pouvez le traiter normalement.\n\n"
                "Vous avez bien fait de vérifier : en cas de doute, signaler est toujours le bon "
                "réflexe.\n\n"
                "L'équipe sécurité du système d'information"
            ),
        ),
    }
    title, body = templates[verdict]
    return title, body % {"subject": subject}


def decide(case: Case, verdict: str, note: str, *, actor, request=None) -> Case:
    if verdict not in (Verdict.MALICIOUS, Verdict.SPAM, Verdict.LEGITIMATE):
        raise ValueError(verdict)
    previous = case.verdict
    case.verdict = verdict
    case.status = CaseStatus.DECIDED
    case.verdict_note = note
    case.decided_by = actor
    case.decided_at = timezone.now()
    case.save(update_fields=["verdict", "status", "verdict_note", "decided_by", "decided_at"])
    record_event(
        "mailreports.verdict",
        request=request,
        actor=actor,
        target=case,
        organisation=case.organisation,
        details={"verdict": verdict, "previous": previous, "reports": case.report_count},
    )
    return case


def reply_to_reporters(case: Case, subject: str, body: str, *, actor, request=None) -> int:
    """Send the message to every reporter of the case not answered yet; the number sent."""
    pending = list(
        case.reports.filter(replied_at__isnull=True)
        .exclude(reporter="")
        .select_related("mailbox")
        .defer("raw")
    )
    sent = 0
    seen: set[str] = set()
    for report in pending:
        address = report.reporter.lower()
        if address not in seen:
            seen.add(address)
            mail = OutgoingMail(
                subject=subject,
                body=body,
                from_email=_from_address(report.mailbox),
                to=[report.reporter],
            )
            try:
                mail.send()
            except OSError as exc:
                logger.warning("reply to report %s not sent: %s", report.pk, exc)
                continue
            sent += 1
        Report.objects.filter(pk=report.pk).update(replied_at=timezone.now())
    record_event(
        "mailreports.reply",
        request=request,
        actor=actor,
        target=case,
        organisation=case.organisation,
        details={"verdict": case.verdict, "sent": sent},
    )
    return sent


# Retention --------------------------------------------------------------------------------------
def purge_expired(now=None) -> int:
    """Empty the raw messages older than the retention period; the case, its indicators and
    who reported when stay (they are the history of the programme)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MAILREPORTS_RETENTION_DAYS)
    return Report.objects.filter(received_at__lt=cutoff, purged_at__isnull=True).update(
        raw="", purged_at=now or timezone.now()
    )
