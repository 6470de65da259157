"""Training sessions in small mixed groups: agenda, seats, invitations, reminders, attendance.

Plain functions over the models; the views are thin. Mail goes through Django's mail API
(one connection per batch); each participant gets their own message, with their own
personal link and their own `.ics` (ics.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.mime.text import MIMEText

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from hygie.awareness import ics, links
from hygie.awareness.certificates import Certificate, new_certificate_number, render_certificate
from hygie.awareness.models import (
    Attendance,
    Module,
    SessionMode,
    SessionParticipant,
    SessionStatus,
    TrainingSession,
)
from hygie.orgs.models import StaffMember

logger = logging.getLogger(__name__)

THEORY, PRACTICE = "theory", "practice"
PART_KINDS = (THEORY, PRACTICE)
# Practice modules assigned on attendance are due this long after the session (decision 0524).
PRACTICE_DUE_DAYS = 14
# A session link stays valid until this long after the session ends (certificate download).
LINK_AFTER_SESSION = dt.timedelta(days=60)
# Fields whose change makes calendars need an update (SEQUENCE + 1, invitation re-sent).
CALENDAR_FIELDS = ("title", "mode", "location", "meeting_url", "starts_at", "ends_at")
MAX_CAPACITY = 30


class SessionError(Exception):
    """A refused operation, with a message for the person who asked."""


# Agenda ---------------------------------------------------------------------------------------
def validate_agenda(parts: Iterable[dict]) -> list[dict]:
    """Normalised parts, or ValidationError naming each faulty part by its number.

    Parts alternate theory and practice; a practice part names an active module; every part
    has a title and a positive duration; the agenda has at least one part of each kind.
    """
    parts = list(parts)
    problems: list[str] = []
    slugs = {part.get("module") or "" for part in parts} - {""}
    known = set(Module.objects.filter(slug__in=slugs, active=True).values_list("slug", flat=True))
    cleaned = []
    for number, part in enumerate(parts, start=1):
        kind = part.get("kind")
        title = (part.get("title") or "").strip()
        module = (part.get("module") or "").strip()
        try:
            minutes = int(part.get("minutes") or 0)
        except (TypeError, ValueError):
            minutes = 0
        if kind not in PART_KINDS:
            problems.append(_("Partie %(n)s : type inconnu (théorie ou pratique).") % {"n": number})
            continue
        if not title:
            problems.append(_("Partie %(n)s : donnez un intitulé.") % {"n": number})
        if minutes <= 0:
            problems.append(_("Partie %(n)s : indiquez une durée en minutes.") % {"n": number})
        if kind == PRACTICE and not module:
            problems.append(
                _("Partie %(n)s : une partie pratique indique le module suivi en ligne.")
                % {"n": number}
            )
        elif module and module not in known:
            problems.append(
                _("Partie %(n)s : le module « %(module)s » n'existe pas ou n'est plus proposé.")
                % {"n": number, "module": module}
            )
        if cleaned and cleaned[-1]["kind"] == kind:
            problems.append(
                _(
                    "Partie %(n)s : deux parties « %(kind)s » se suivent ; "
                    "alternez théorie et pratique."
                )
                % {"n": number, "kind": _("théorie") if kind == THEORY else _("pratique")}
            )
        cleaned.append({"kind": kind, "title": title, "minutes": minutes, "module": module})
    if not problems:
        kinds = {part["kind"] for part in cleaned}
        if kinds != set(PART_KINDS):
            problems.append(
                _("Le programme alterne au moins une partie théorique et une partie pratique.")
            )
    if problems:
        raise ValidationError(problems)
    return cleaned


def validate_schedule(
    *, mode, location, meeting_url, starts_at, ends_at, capacity, agenda, seated=0
) -> None:
    """Field errors of a session, raised together (ValidationError with a dict)."""
    errors: dict[str, str] = {}
    if mode == SessionMode.IN_PERSON and not (location or "").strip():
        errors["location"] = _("Une session en présentiel indique son lieu.")
    if mode == SessionMode.REMOTE and not meeting_url:
        errors["meeting_url"] = _("Une session à distance indique son lien de visioconférence.")
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors["ends_at"] = _("La fin doit suivre le début.")
        elif agenda:
            planned = sum(part["minutes"] for part in agenda)
            available = int((ends_at - starts_at).total_seconds() // 60)
            if planned > available:
                errors["ends_at"] = _(
                    "Le programme dure %(planned)s minutes, la session %(available)s."
                ) % {"planned": planned, "available": available}
    if capacity is not None:
        if not 1 <= capacity <= MAX_CAPACITY:
            errors["capacity"] = _("La capacité va de 1 à %(max)s places.") % {"max": MAX_CAPACITY}
        elif capacity < seated:
            errors["capacity"] = _(
                "%(seated)s personnes sont déjà inscrites : la capacité ne peut pas être inférieure."
            ) % {"seated": seated}
    if errors:
        raise ValidationError(errors)


def agenda_modules(agenda: list[dict]) -> list[Module]:
    slugs = [part["module"] for part in agenda if part.get("module")]
    by_slug = {module.slug: module for module in Module.objects.filter(slug__in=slugs)}
    return [by_slug[slug] for slug in dict.fromkeys(slugs) if slug in by_slug]


def practice_modules(session: TrainingSession) -> list[Module]:
    return agenda_modules([p for p in session.agenda if p.get("kind") == PRACTICE])


# Create, edit, cancel ---------------------------------------------------------------------------
def create_session(organisation, *, agenda, actor=None, **fields) -> TrainingSession:
    """A planned session; `agenda` must already be validated (validate_agenda)."""
    session = TrainingSession(organisation=organisation, agenda=agenda, **fields)
    with transaction.atomic():
        session.save()
        session.modules.set(agenda_modules(agenda))
    return session


@dataclass
class MailReport:
    sent: int = 0
    without_email: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def merge(self, other: MailReport) -> MailReport:
        self.sent += other.sent
        self.without_email += other.without_email
        self.failed += other.failed
        return self


def update_session(session: TrainingSession, *, previous: dict, actor=None) -> MailReport:
    """Save an edited session; when what calendars show changed, SEQUENCE + 1 and the
    invitation goes again to everyone already invited. `previous` holds the old values."""
    changed = [name for name in CALENDAR_FIELDS if previous.get(name) != getattr(session, name)]
    with transaction.atomic():
        if changed:
            session.sequence += 1
        session.save()
        session.modules.set(agenda_modules(session.agenda))
    if changed and session.status == SessionStatus.PLANNED:
        invited = session.participants.filter(invited_at__isnull=False)
        return send_invitations(session, participants=invited, update=True)
    return MailReport()


def cancel_session(session: TrainingSession, *, actor=None) -> MailReport:
    if session.status != SessionStatus.PLANNED:
        raise SessionError(_("Seule une session planifiée peut être annulée."))
    with transaction.atomic():
        session.status = SessionStatus.CANCELLED
        session.sequence += 1
        session.save(update_fields=["status", "sequence"])
    invited = session.participants.filter(invited_at__isnull=False)
    return send_cancellations(session, invited)


def _session_day(session: TrainingSession) -> dt.date:
    return timezone.localtime(session.starts_at).date()


# Seats ----------------------------------------------------------------------------------------
def add_participants(session: TrainingSession, staff: Iterable[StaffMember]) -> list:
    """Seat these people; all or nothing, refused with a clear message beyond capacity."""
    if session.status != SessionStatus.PLANNED:
        raise SessionError(_("On n'inscrit des participants qu'à une session planifiée."))
    with transaction.atomic():
        locked = TrainingSession.objects.select_for_update().get(pk=session.pk)
        seated = set(locked.participants.values_list("staff_id", flat=True))
        newcomers = [person for person in dict.fromkeys(staff) if person.pk not in seated]
        inside = set(
            StaffMember.objects.filter(
                pk__in=[person.pk for person in newcomers],
                establishment__path__startswith=locked.organisation.path,
            ).values_list("pk", flat=True)
        )
        outside = [str(person) for person in newcomers if person.pk not in inside]
        if outside:
            raise SessionError(
                _("Hors du périmètre de la session : %(names)s.") % {"names": ", ".join(outside)}
            )
        free = locked.capacity - len(seated)
        if len(newcomers) > free:
            raise SessionError(
                _(
                    "Session complète : %(asked)s personne(s) à inscrire pour %(free)s place(s) "
                    "restante(s) sur %(capacity)s. Augmentez la capacité ou choisissez une "
                    "autre session."
                )
                % {"asked": len(newcomers), "free": max(free, 0), "capacity": locked.capacity}
            )
        return [
            SessionParticipant.objects.create(
                session=locked,
                staff=person,
                service_id=person.service_id,
                job_family=person.job_family,
            )
            for person in newcomers
        ]


def remove_participant(participant: SessionParticipant) -> MailReport:
    """Free the seat; someone already invited gets the cancellation for their calendar."""
    session = participant.session
    report = MailReport()
    participant.refresh_from_db(fields=["invited_at"])
    if participant.invited_at and session.status == SessionStatus.PLANNED:
        report = send_cancellations(session, [participant])
    participant.delete()
    return report


def create_sessions_from_groups(
    organisation, groups: list[list[StaffMember]], *, first_start, spacing_days: int, **fields
) -> list[TrainingSession]:
    """One session per group, the n-th `spacing_days` after the previous one, in one
    transaction: either every session and seat exists afterwards, or none."""
    duration = fields.pop("duration")
    title = fields.pop("title")
    created = []
    with transaction.atomic():
        for index, group in enumerate(groups):
            starts_at = first_start + dt.timedelta(days=index * spacing_days)
            session = create_session(
                organisation,
                title=f"{title} — {_('groupe')} {index + 1}" if len(groups) > 1 else title,
                starts_at=starts_at,
                ends_at=starts_at + duration,
                **fields,
            )
            add_participants(session, group)
            created.append(session)
    return created


# Mail -----------------------------------------------------------------------------------------
def _when(session: TrainingSession) -> str:
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    return _("le %(day)s de %(start)s à %(end)s") % {
        "day": date_format(start, "l j F Y"),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }


def _where(session: TrainingSession) -> str:
    if session.mode == SessionMode.REMOTE:
        return _("À distance : %(url)s") % {"url": session.meeting_url}
    return _("Lieu : %(place)s") % {"place": session.location}


def agenda_lines(session: TrainingSession) -> list[str]:
    lines = []
    for part in session.agenda:
        label = _("Théorie") if part["kind"] == THEORY else _("Pratique en ligne")
        lines.append(f"- {label} ({part['minutes']} min) : {part['title']}")
    return lines


def _link_for(participant: SessionParticipant, now) -> str:
    session = participant.session
    validity = max(session.ends_at + LINK_AFTER_SESSION - now, dt.timedelta(days=1))
    _link, token = links.issue_link(participant=participant, validity=validity, now=now)
    return links.link_url(token)


def _calendar_part(text: str, method: str) -> MIMEText:
    # base64 keeps the CRLF line ends of the iCalendar text intact in transit.
    part = MIMEText(text, "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename="invitation.ics")
    return part


def invitation_message(
    participant: SessionParticipant, *, update: bool = False, now=None
) -> EmailMultiAlternatives:
    now = now or timezone.now()
    session, person = participant.session, participant.staff
    url = _link_for(participant, now)
    lines = [
        _("Bonjour %(name)s,") % {"name": person.first_name},
        "",
        (
            _(
                "La session de sensibilisation « %(title)s » a changé. Voici ses nouvelles informations."
            )
            if update
            else _(
                "Vous êtes inscrit(e) à la session de sensibilisation à la cybersécurité « %(title)s »."
            )
        )
        % {"title": session.title},
        "",
        _when(session).capitalize(),
        _where(session),
        "",
        _("Programme :"),
        *agenda_lines(session),
        "",
        _("Votre page personnelle (programme, attestation après la session) : %(url)s")
        % {"url": url},
        _("Ce lien vous est propre : ne le transférez pas."),
        "",
        _("La pièce jointe ajoute la session à votre agenda."),
    ]
    body = "\n".join(lines)
    subject = (_("Session modifiée : %(title)s") if update else _("Invitation : %(title)s")) % {
        "title": session.title
    }
    message = EmailMultiAlternatives(subject=subject, body=body, to=[person.email])
    calendar = ics.invitation(
        session,
        attendee_name=str(person),
        attendee_email=person.email,
        method="REQUEST",
        description="\n".join([*agenda_lines(session), "", url]),
        now=now,
    )
    message.attach(_calendar_part(calendar, "REQUEST"))
    return message


def cancellation_message(participant: SessionParticipant, *, now=None) -> EmailMultiAlternatives:
    session, person = participant.session, participant.staff
    cancelled = session.status == SessionStatus.CANCELLED
    body = "\n".join(
        [
            _("Bonjour %(name)s,") % {"name": person.first_name},
            "",
            (
                _("La session « %(title)s » prévue %(when)s est annulée.")
                if cancelled
                else _("Votre inscription à la session « %(title)s » prévue %(when)s est annulée.")
            )
            % {"title": session.title, "when": _when(session)},
            _("La pièce jointe la retire de votre agenda."),
        ]
    )
    message = EmailMultiAlternatives(
        subject=_("Annulation : %(title)s") % {"title": session.title},
        body=body,
        to=[person.email],
    )
    calendar = ics.invitation(
        session,
        attendee_name=str(person),
        attendee_email=person.email,
        method="CANCEL",
        now=now,
    )
    message.attach(_calendar_part(calendar, "CANCEL"))
    return message


def _send(messages, report, on_sent, on_failed=lambda participant: None):
    """Send (participant, message) pairs over one connection; a failure skips one person."""
    if not messages:
        return report
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("session mail: cannot reach the mail server: %s", exc)
        for participant, _message in messages:
            report.failed.append(str(participant.staff))
            on_failed(participant)
        return report
    try:
        for participant, message in messages:
            message.connection = connection
            try:
                message.send()
            except (OSError, smtplib.SMTPException) as exc:
                logger.warning("session mail to participant %s failed: %s", participant.pk, exc)
                report.failed.append(str(participant.staff))
                on_failed(participant)
                continue
            report.sent += 1
            on_sent(participant)
    finally:
        connection.close()
    return report


def send_invitations(
    session: TrainingSession, *, participants=None, update: bool = False
) -> MailReport:
    """Invite the participants not invited yet (or exactly `participants`)."""
    if session.status != SessionStatus.PLANNED:
        raise SessionError(_("Les invitations ne partent que pour une session planifiée."))
    now = timezone.now()
    if participants is None:
        participants = session.participants.filter(invited_at__isnull=True)
    report = MailReport()
    messages = []
    for participant in participants.select_related("staff", "session__organisation"):
        if not participant.staff.email:
            report.without_email.append(str(participant.staff))
            continue
        messages.append((participant, invitation_message(participant, update=update, now=now)))

    def sent(participant):
        SessionParticipant.objects.filter(pk=participant.pk).update(invited_at=now)

    return _send(messages, report, sent)


def send_cancellations(session: TrainingSession, participants) -> MailReport:
    now = timezone.now()
    report = MailReport()
    messages = []
    for participant in participants:
        if participant.staff.email:
            messages.append((participant, cancellation_message(participant, now=now)))
    return _send(messages, report, lambda participant: None)


def reminder_message(participant: SessionParticipant, *, now) -> EmailMultiAlternatives:
    session, person = participant.session, participant.staff
    url = _link_for(participant, now)
    body = "\n".join(
        [
            _("Bonjour %(name)s,") % {"name": person.first_name},
            "",
            _("Rappel : la session de sensibilisation « %(title)s » a lieu demain.")
            % {"title": session.title},
            _when(session).capitalize(),
            _where(session),
            "",
            _("Votre page personnelle : %(url)s") % {"url": url},
        ]
    )
    return EmailMultiAlternatives(
        subject=_("Rappel : %(title)s demain") % {"title": session.title},
        body=body,
        to=[person.email],
    )


def send_session_reminders(now: dt.datetime | None = None) -> int:
    """Remind invited participants of tomorrow's planned sessions, once each (idempotent).

    Each seat is claimed with a conditional UPDATE before its message leaves, so two workers
    never remind the same person; a failed send releases the claim for the next run.
    """
    now = now or timezone.now()
    tomorrow = timezone.localtime(now).date() + dt.timedelta(days=1)
    tz = timezone.get_current_timezone()
    day_start = dt.datetime.combine(tomorrow, dt.time.min, tzinfo=tz)
    day_end = day_start + dt.timedelta(days=1)
    due = (
        SessionParticipant.objects.filter(
            session__status=SessionStatus.PLANNED,
            session__starts_at__gte=day_start,
            session__starts_at__lt=day_end,
            invited_at__isnull=False,
            reminded_at__isnull=True,
        )
        .exclude(staff__email="")
        .select_related("staff", "session__organisation")
    )
    messages = []
    for participant in due:
        claimed = SessionParticipant.objects.filter(
            pk=participant.pk, reminded_at__isnull=True
        ).update(reminded_at=now)
        if claimed:
            messages.append((participant, reminder_message(participant, now=now)))

    def release(participant):
        SessionParticipant.objects.filter(pk=participant.pk).update(reminded_at=None)

    return _send(messages, MailReport(), lambda participant: None, release).sent


# Attendance -----------------------------------------------------------------------------------
@dataclass
class AttendanceResult:
    present: int = 0
    newly_present: int = 0
    assigned: int = 0
    withdrawn: int = 0  # certificates withdrawn after a correction (present -> absent)


def take_attendance(
    session: TrainingSession, marks: dict[int, str], *, actor=None, now=None
) -> AttendanceResult:
    """Record the trainer's roll call (participant id -> Attendance value), all at once.

    For each person newly marked present: the session's practice modules are assigned
    (tracking's `assign_to_staff`, decision 0524), a certificate number is drawn and an
    "attended" xAPI statement is queued. Nothing is marked completed on anyone's behalf.
    """
    now = now or timezone.now()
    if session.status == SessionStatus.CANCELLED:
        raise SessionError(_("Cette session est annulée : pas d'appel."))
    if timezone.localtime(now).date() < _session_day(session):
        raise SessionError(_("L'appel se fait à partir du jour de la session."))
    allowed = set(Attendance.values) - {Attendance.UNKNOWN}
    result = AttendanceResult()
    with transaction.atomic():
        participants = {
            p.pk: p for p in session.participants.select_for_update().select_related("staff")
        }
        unknown_ids = set(marks) - set(participants)
        if unknown_ids:
            raise SessionError(_("Participant inconnu dans cette session."))
        bad = [pk for pk, value in marks.items() if value not in allowed]
        if bad:
            raise SessionError(
                _("Présence non reconnue pour %(name)s.") % {"name": participants[bad[0]].staff}
            )
        newly_present = []
        for pk, value in marks.items():
            participant = participants[pk]
            if participant.attendance == value:
                continue
            was_present = participant.attendance == Attendance.PRESENT
            participant.attendance = value
            participant.attendance_by = actor
            participant.attendance_at = now
            if value == Attendance.PRESENT:
                newly_present.append(participant)
                if not participant.certificate_number:
                    participant.certificate_number = new_certificate_number(
                        "S", participant.pk, _session_day(session)
                    )
            elif was_present:
                participant.certificate_number = ""
                result.withdrawn += 1
            participant.save(
                update_fields=["attendance", "attendance_by", "attendance_at", "certificate_number"]
            )
        if newly_present:
            # The tracking area owns assignments and the xAPI outbox.
            from hygie.awareness import services as tracking
        modules = practice_modules(session)
        if newly_present and modules:
            result.assigned = tracking.assign_to_staff(
                StaffMember.objects.filter(pk__in=[p.staff_id for p in newly_present]),
                modules,
                organisation=session.organisation,
                due_date=_session_day(session) + dt.timedelta(days=PRACTICE_DUE_DAYS),
                campaign=session.campaign,
                actor=actor,
            )
        for participant in newly_present:
            tracking.record_statement(participant, "attended")
        if session.status == SessionStatus.PLANNED:
            session.status = SessionStatus.DONE
            session.save(update_fields=["status"])
    result.newly_present = len(newly_present)
    result.present = sum(1 for p in participants.values() if p.attendance == Attendance.PRESENT)
    return result


# Certificates ---------------------------------------------------------------------------------
def certificate_pdf(participant: SessionParticipant) -> bytes:
    """The attendance certificate of someone marked present (SessionError otherwise)."""
    if participant.attendance != Attendance.PRESENT or not participant.certificate_number:
        raise SessionError(_("Attestation délivrée aux seuls participants présents."))
    session = participant.session
    minutes = int((session.ends_at - session.starts_at).total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    duration = f"{hours} h {rest:02d}" if hours else f"{rest} min"
    details = [
        _("Durée : %(duration)s") % {"duration": duration},
        _("Modalité : %(mode)s") % {"mode": session.get_mode_display()},
    ]
    practice = [m.title for m in practice_modules(session)]
    if practice:
        details.append(_("Pratique : %(modules)s") % {"modules": ", ".join(practice)})
    return render_certificate(
        Certificate(
            number=participant.certificate_number,
            person=str(participant.staff),
            title=session.title,
            kind=_("Session de sensibilisation"),
            organisation=str(participant.staff.establishment),
            on=_session_day(session),
            details=details,
        )
    )
