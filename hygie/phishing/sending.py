"""Sending a simulation: the schedule, the messages and the send log.

Schedule. At launch every recipient gets a moment to be sent at: random, within the campaign's
period, on business days and hours (local time), and never closer to the previous one than the
rate cap allows (60 / rate_per_minute seconds). See docs/decisions/0413.

Send log. Each recipient row is its own log entry. A worker claims due rows with a conditional
UPDATE (pending or retry -> claimed, stamped with its id), sends each message, then marks the
row sent. Two workers never claim the same row; a claim older than SIMULATION_CLAIM_LEASE
seconds belongs to a dead worker and is taken back. A worker killed at any point therefore
leaves each message either sent and recorded, or unsent and claimable again. The one moment
a duplicate remains possible is between the relay's acceptance of a message and the commit of
"sent" (a few milliseconds); the Message-ID is derived from the token, so the copy is the same
message to any system that deduplicates.

Errors. A 4xx answer or a network failure is retried with exponential back-off up to
SIMULATION_MAX_ATTEMPTS; a 5xx answer fails that recipient with the server's words.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import quopri
import random
import smtplib
import socket
import time as clock
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import format_datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from hygie.phishing import smtp
from hygie.phishing.lures import Lure, render, render_text, resolve_lure
from hygie.phishing.models import CampaignStatus, Recipient, SendStatus, Simulation

logger = logging.getLogger(__name__)

BATCH = 20
BACKOFF_BASE = 60  # seconds before the first retry; doubled at each attempt
BACKOFF_MAX = 3600
HEADER = "X-Hygie-Simulation"
DUE = (SendStatus.PENDING, SendStatus.RETRY)


class ScheduleError(ValueError):
    pass


# ------------------------------------------------------------------- schedule


def _business_intervals(simulation: Simulation, start: datetime, end: datetime | None):
    """(from, to) aware datetimes of business time from start, up to end when given."""
    zone = timezone.get_current_timezone()
    day: date = timezone.localtime(start, zone).date()
    days = set(simulation.business_days or [])
    if not days or simulation.business_end <= simulation.business_start:
        return
    for _step in range(3660):  # ten years: a schedule never needs more
        if end is not None and datetime.combine(day, simulation.business_start, zone) >= end:
            return
        if day.weekday() in days:
            opens = max(start, datetime.combine(day, simulation.business_start, zone))
            closes = datetime.combine(day, simulation.business_end, zone)
            if end is not None:
                closes = min(closes, end)
            if closes > opens:
                yield opens, closes
        day += timedelta(days=1)


def _human(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return _("%(h)s h %(m)02d") % {"h": hours, "m": rest // 60}


def schedule(simulation: Simulation, count: int, *, now=None, seed=None) -> list[datetime]:
    """`count` sending moments, sorted, for this campaign's period, hours and rate cap."""
    if count <= 0:
        return []
    now = now or timezone.now()
    start = max(simulation.send_from or now, now)
    end = simulation.send_until
    if end is not None and end <= start:
        raise ScheduleError(
            _("La fin de l'envoi doit être postérieure à son début et à maintenant.")
        )
    spacing = 60.0 / simulation.rate_per_minute if simulation.rate_per_minute else 0.0
    needed = spacing * (count - 1)
    if end is None:
        # As fast as the rate cap allows, in business hours from the start.
        intervals, total = [], 0.0
        for opens, closes in _business_intervals(simulation, start, None):
            intervals.append((opens, closes))
            total += (closes - opens).total_seconds()
            if total > needed:
                break
        slack = 0.0
    else:
        intervals = list(_business_intervals(simulation, start, end))
        total = sum((closes - opens).total_seconds() for opens, closes in intervals)
        slack = total - needed
    if not intervals or total <= 0:
        raise ScheduleError(
            _(
                "La période choisie ne contient aucune heure ouvrée : élargissez-la ou revoyez les jours et heures d'envoi."
            )
        )
    if slack < 0:
        raise ScheduleError(
            _(
                "À %(rate)s messages par minute, %(count)s messages demandent %(need)s d'envoi en "
                "heures ouvrées ; la période choisie n'en offre que %(have)s. Élargissez la période "
                "ou relevez le débit."
            )
            % {
                "rate": simulation.rate_per_minute,
                "count": count,
                "need": _human(needed),
                "have": _human(total),
            }
        )
    rng = random.Random(seed)  # noqa: S311 - spreading sending moments, not a secret
    # Random offsets in the slack, then the i-th one pushed i spacings further: uniform spread
    # with at least `spacing` seconds between consecutive messages.
    offsets = sorted(rng.uniform(0, slack) for _ in range(count)) if slack else [0.0] * count
    offsets = [offset + index * spacing for index, offset in enumerate(offsets)]
    moments, position, elapsed = [], 0, 0.0
    for offset in offsets:
        while True:
            opens, closes = intervals[position]
            length = (closes - opens).total_seconds()
            if offset <= elapsed + length or position == len(intervals) - 1:
                moments.append(opens + timedelta(seconds=min(offset - elapsed, length)))
                break
            elapsed += length
            position += 1
    return moments


@transaction.atomic
def schedule_recipients(simulation: Simulation, *, now=None, seed=None) -> int:
    """Give every unsent recipient a new sending moment (on resume; launch schedules the rows
    as it creates them)."""
    pks = list(
        simulation.recipients.filter(send_status__in=DUE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    moments = schedule(simulation, len(pks), now=now, seed=seed)
    random.Random(seed).shuffle(moments)  # noqa: S311 - who gets which moment
    rows = [
        Recipient(pk=pk, scheduled_at=moment, send_status=SendStatus.PENDING)
        for pk, moment in zip(pks, moments, strict=True)
    ]
    Recipient.objects.bulk_update(rows, ["scheduled_at", "send_status"], batch_size=500)
    return len(rows)


# ------------------------------------------------------------------- messages


def message_id(recipient: Recipient, domain: str) -> str:
    digest = hashlib.sha256(recipient.token.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def context_for(recipient: Recipient, lure: Lure) -> dict:
    base = settings.SIMULATION_BASE_URL.rstrip("/")
    staff = recipient.staff
    context = {
        "prenom": staff.first_name if staff else "",
        "nom": staff.last_name if staff else "",
        "service": recipient.service.name if recipient.service_id else "",
        "etablissement": str(recipient.establishment or recipient.simulation.organisation),
        "date": date_format(timezone.localdate(), "DATE_FORMAT"),
        "lien": f"{base}/s/c/{recipient.token}/",
        "pixel": f"{base}/s/o/{recipient.token}.gif",
    }
    # The sender's name may itself use placeholders ("Laboratoire - {{etablissement}}").
    context["expediteur"] = render_text(
        lure.sender.display_name, {**context, "expediteur": ""}, single_line=True
    )
    return context


def _encoded_words(value: str, room: int = 45) -> str:
    """RFC 2047 base64 encoded words of at most `room` bytes of UTF-8 each (whole characters),
    joined by folding white space: what email.header.Header does, at a fraction of its cost."""
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > room:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode()}?=" for word in words)


def _header(name: str, value: str) -> bytes:
    """One header line, RFC 2047-encoded and folded when it is not plain ASCII."""
    value = " ".join(value.split())  # no line break can smuggle another header
    if value.isascii() and len(name) + len(value) + 2 <= 998:
        return f"{name}: {value}\r\n".encode("ascii")
    return f"{name}: {_encoded_words(value)}\r\n".encode("ascii")


def _address(display_name: str, address: str) -> str:
    """`Name <address>`, the name quoted when plain ASCII, encoded words otherwise."""
    name = " ".join(display_name.split())
    if not name:
        return address
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return f"{_encoded_words(name)} <{address}>"


def _part(content_type: str, body: str) -> bytes:
    encoded = quopri.encodestring(body.replace("\r\n", "\n").encode("utf-8"))
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii")
        + encoded.replace(b"\n", b"\r\n")
        + b"\r\n"
    )


def build_message(recipient: Recipient, lure: Lure, profile) -> bytes:
    """The message as sent, in bytes (CRLF, 7-bit: quoted-printable bodies, encoded headers).

    Written directly rather than through email.message.EmailMessage, whose header objects
    cost more than the SMTP exchange itself at campaign scale (benchmarks/README.md)."""
    context = context_for(recipient, lure)
    rendered = render(lure, context)
    domain = profile.from_address.rpartition("@")[2] or "hygie.invalid"
    sender = _address(context["expediteur"], f"{lure.sender.local_part}@{domain}")
    head = b"".join(
        [
            f"From: {sender}\r\n".encode("ascii"),
            _header("To", recipient.email),
            _header("Subject", rendered.subject),
            _header("Date", format_datetime(timezone.now())),
            _header("Message-ID", message_id(recipient, domain)),
            _header(HEADER, recipient.token),
            b"MIME-Version: 1.0\r\n",
        ]
    )
    text = rendered.text or _("Ouvrez ce message dans un client HTML.")
    if not rendered.html:
        return head + _part("text/plain", text)
    boundary = "=_hygie_" + hashlib.sha256(recipient.token.encode()).hexdigest()[:24]
    return (
        head
        + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
        + f"--{boundary}\r\n".encode()
        + _part("text/plain", text)
        + f"--{boundary}\r\n".encode()
        + _part("text/html", rendered.html)
        + f"--{boundary}--\r\n".encode()
    )


# ------------------------------------------------------------------- the worker


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class RunReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    next_run: datetime | None = None
    finished: bool = False
    errors: list[str] = field(default_factory=list)


def release_stale_claims(simulation: Simulation, *, now=None) -> int:
    """Claims of a worker that died: back to pending, due now."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SIMULATION_CLAIM_LEASE)
    return Recipient.objects.filter(
        simulation=simulation, send_status=SendStatus.CLAIMED, claimed_at__lt=cutoff
    ).update(send_status=SendStatus.PENDING, claimed_by="", claimed_at=None, scheduled_at=now)


def claim(simulation: Simulation, *, limit: int, worker: str, now=None) -> list[Recipient]:
    """Up to `limit` due recipients, claimed for this worker alone."""
    now = now or timezone.now()
    candidates = list(
        Recipient.objects.filter(simulation=simulation, send_status__in=DUE, scheduled_at__lte=now)
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return []
    # The conditional UPDATE is the lock: a row another worker claimed in between no longer
    # matches `send_status__in=DUE` and is left to it.
    Recipient.objects.filter(pk__in=candidates, send_status__in=DUE).update(
        send_status=SendStatus.CLAIMED, claimed_by=worker, claimed_at=now
    )
    return list(
        Recipient.objects.filter(
            pk__in=candidates, claimed_by=worker, send_status=SendStatus.CLAIMED
        )
        .select_related("staff", "service", "establishment", "simulation__organisation")
        .order_by("scheduled_at", "pk")
    )


def _mark(recipient: Recipient, worker: str, **values) -> None:
    # Only the claiming worker writes its row: a row taken back meanwhile is left alone.
    Recipient.objects.filter(pk=recipient.pk, claimed_by=worker).update(
        claimed_by="", claimed_at=None, **values
    )


def _retry_or_fail(recipient: Recipient, worker: str, problem: smtp.SmtpProblem, now, report):
    attempts = recipient.attempts + 1
    message = str(problem)[:500]
    if problem.temporary and attempts < settings.SIMULATION_MAX_ATTEMPTS:
        delay = min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX)
        _mark(
            recipient,
            worker,
            send_status=SendStatus.RETRY,
            attempts=attempts,
            last_error=message,
            scheduled_at=now + timedelta(seconds=delay),
        )
        report.retried += 1
    else:
        _mark(
            recipient, worker, send_status=SendStatus.FAILED, attempts=attempts, last_error=message
        )
        report.failed += 1
    report.errors.append(message)


def _send_one(server, recipient: Recipient, lure: Lure, profile) -> None:
    message = build_message(recipient, lure, profile)
    try:
        refused = server.sendmail(profile.from_address, [recipient.email], message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise smtp.classify(code, text) from None
    except smtplib.SMTPResponseException as exc:
        raise smtp.classify(exc.smtp_code, exc.smtp_error) from None
    except smtplib.SMTPServerDisconnected:
        raise smtp.SmtpProblem(_("Le serveur a coupé la connexion."), temporary=True) from None
    except (TimeoutError, OSError) as exc:
        raise smtp.SmtpProblem(
            _("Erreur réseau pendant l'envoi (%(reason)s).") % {"reason": exc}, temporary=True
        ) from None
    if refused:
        code, text = next(iter(refused.values()))
        raise smtp.classify(code, text)


def _remaining(simulation: Simulation):
    return Recipient.objects.filter(
        simulation=simulation, send_status__in=(*DUE, SendStatus.CLAIMED)
    )


def run(
    simulation_id: int, *, worker: str | None = None, seconds: float | None = None
) -> RunReport:
    """Send what is due for one simulation, for at most `seconds`; say when to come back."""
    worker = worker or worker_id()
    seconds = settings.SIMULATION_RUN_SECONDS if seconds is None else seconds
    report = RunReport()
    simulation = Simulation.objects.select_related("sending_profile", "organisation").get(
        pk=simulation_id
    )
    Simulation.objects.filter(pk=simulation.pk, status=CampaignStatus.SCHEDULED).update(
        status=CampaignStatus.SENDING
    )
    simulation.refresh_from_db(fields=["status"])
    if simulation.status != CampaignStatus.SENDING:
        return report  # paused, cancelled or already finished: nothing to do
    report.released = release_stale_claims(simulation)
    profile = simulation.sending_profile
    lures: dict[str, Lure | None] = {}
    started = clock.monotonic()
    server = None
    try:
        while clock.monotonic() - started < seconds:
            now = timezone.now()
            allowance = BATCH
            if simulation.rate_per_minute:
                recent = Recipient.objects.filter(
                    simulation=simulation, sent_at__gt=now - timedelta(seconds=60)
                ).count()
                allowance = min(BATCH, simulation.rate_per_minute - recent)
                if allowance <= 0:
                    break
            rows = claim(simulation, limit=allowance, worker=worker, now=now)
            if not rows:
                break
            for recipient in rows:
                if recipient.lure not in lures:
                    lures[recipient.lure] = resolve_lure(recipient.lure, simulation.organisation)
                lure = lures[recipient.lure]
                now = timezone.now()
                if lure is None:
                    _mark(
                        recipient,
                        worker,
                        send_status=SendStatus.FAILED,
                        last_error=_("Leurre introuvable : %(key)s.") % {"key": recipient.lure},
                    )
                    report.failed += 1
                    continue
                try:
                    if server is None:
                        server = smtp.connect(profile)
                    _send_one(server, recipient, lure, profile)
                except smtp.SmtpProblem as problem:
                    if problem.temporary and server is not None:
                        _close(server)
                        server = None
                    _retry_or_fail(recipient, worker, problem, now, report)
                    continue
                _mark(
                    recipient,
                    worker,
                    send_status=SendStatus.SENT,
                    sent_at=timezone.now(),
                    attempts=recipient.attempts + 1,
                    last_error="",
                    message_id=message_id(
                        recipient, profile.from_address.rpartition("@")[2] or "hygie.invalid"
                    ),
                )
                report.sent += 1
            # A pause or a cancel takes effect between batches.
            simulation.refresh_from_db(fields=["status"])
            if simulation.status != CampaignStatus.SENDING:
                _give_back(simulation, worker)
                return report
    finally:
        if server is not None:
            _close(server)
        _give_back(simulation, worker)
    return _plan_next(simulation, report)


def _give_back(simulation: Simulation, worker: str) -> None:
    """Rows this worker claimed but did not send (stopped early): due again at once."""
    Recipient.objects.filter(
        simulation=simulation, claimed_by=worker, send_status=SendStatus.CLAIMED
    ).update(send_status=SendStatus.PENDING, claimed_by="", claimed_at=None)


def _close(server) -> None:
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        pass


def _plan_next(simulation: Simulation, report: RunReport) -> RunReport:
    now = timezone.now()
    remaining = _remaining(simulation)
    if not remaining.exists():
        updated = Simulation.objects.filter(pk=simulation.pk, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.RUNNING, sent_out_at=now
        )
        report.finished = bool(updated)
        return report
    soonest = remaining.filter(send_status__in=DUE).aggregate(at=Min("scheduled_at"))["at"]
    claimed = remaining.filter(send_status=SendStatus.CLAIMED).aggregate(at=Min("claimed_at"))["at"]
    candidates = [soonest] if soonest else []
    if claimed:  # another worker's claim: come back when its lease would expire
        candidates.append(claimed + timedelta(seconds=settings.SIMULATION_CLAIM_LEASE))
    next_run = min(candidates) if candidates else now
    if simulation.rate_per_minute:
        next_run = max(next_run, now + timedelta(seconds=60.0 / simulation.rate_per_minute))
    report.next_run = max(next_run, now)
    return report


def progress(simulation: Simulation) -> dict[str, int]:
    """Recipients per send status, every status present."""
    counts = dict.fromkeys(SendStatus.values, 0)
    for row in simulation.recipients.values("send_status").order_by().annotate(n=Count("pk")):
        counts[row["send_status"]] = row["n"]
    return counts
