"""The live run of an exercise: releasing stimuli on time, the logbook (main courante, shared
with real incidents), observations and key timings.

Release: every pending stimulus whose offset is reached is claimed by a conditional UPDATE
(pending → released), so it is released exactly once however many workers or "release now"
clicks race. The claimer writes the "stimulus" log entry and, for an e-mail stimulus, sends
it over SMTP (Django's mail settings) and records the Message-ID or the failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import transaction
from django.utils import timezone

from hygie.crisis import clock
from hygie.crisis.models import (
    Channel,
    EntryKind,
    Exercise,
    ExerciseStatus,
    Incident,
    LogEntry,
    Milestone,
    Observation,
    Participant,
    ParticipantRole,
    Rating,
    ReleaseStatus,
    Stimulus,
)

# Every message of an exercise says so, in the subject and the first line (decision 0611):
# nobody must mistake a stimulus for a real attack, or answer it as one outside the cell.
EXERCISE_MARK = "EXERCICE"
BODY_BANNER = "EXERCICE — EXERCICE — EXERCICE\n\n"
_SEPARATORS = re.compile(r"[,;\n]+")
_ROLE_WORDS = {
    ParticipantRole.FACILITATOR: {"facilitator", "animateur", "animateurs", "animation"},
    ParticipantRole.PLAYER: {"player", "joueur", "joueurs", "cellule", "cellule de crise"},
    ParticipantRole.OBSERVER: {"observer", "observateur", "observateurs"},
}


@dataclass
class ReleaseReport:
    released: list[Stimulus] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    next_due_at: datetime | None = None  # wall clock of the next pending stimulus


# Recipients ------------------------------------------------------------------------------------
def recipient_addresses(stimulus: Stimulus) -> list[str]:
    """E-mail addresses of `recipients`: written addresses, and the participants whose role or
    cell function matches a name in it (case-insensitive), in order, without duplicates."""
    wanted: list[str] = []
    participants = list(stimulus.exercise.participants.exclude(email=""))
    for item in _SEPARATORS.split(stimulus.recipients or ""):
        item = item.strip()
        if not item:
            continue
        if "@" in item:
            wanted.append(item)
            continue
        name = item.casefold()
        for participant in participants:
            if name in _ROLE_WORDS.get(participant.role, ()) or (
                participant.function and participant.function.casefold() == name
            ):
                wanted.append(participant.email)
    seen: set[str] = set()
    unique = []
    for address in wanted:
        if address.casefold() not in seen:
            seen.add(address.casefold())
            unique.append(address)
    return unique


def _send(stimulus: Stimulus) -> tuple[bool, str, str]:
    """Send an e-mail stimulus; (ok, message_id, error)."""
    to = recipient_addresses(stimulus)
    if not to:
        return False, "", "aucun destinataire : ni adresse ni participant correspondant"
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "hygie.localhost"
    message_id = make_msgid(domain=domain)
    sender_name = stimulus.sender.replace('"', "'")
    message = EmailMessage(
        subject=f"[{EXERCISE_MARK}] {stimulus.subject or stimulus.sender}",
        body=BODY_BANNER + stimulus.content,
        from_email=f'"{sender_name}" <{settings.DEFAULT_FROM_EMAIL}>',
        to=to,
        headers={"Message-ID": message_id, "X-Hygie-Exercise": str(stimulus.exercise_id)},
    )
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # any SMTP or network failure is recorded, never raised
        return False, message_id, f"{type(exc).__name__}: {exc}"[:500]
    return True, message_id, ""


# Release ---------------------------------------------------------------------------------------
def _claim(stimulus: Stimulus, now, seconds: float) -> bool:
    return (
        Stimulus.objects.filter(pk=stimulus.pk, status=ReleaseStatus.PENDING).update(
            status=ReleaseStatus.RELEASED, released_at=now, released_exercise_seconds=seconds
        )
        == 1
    )


def _deliver(stimulus: Stimulus, exercise: Exercise, now, seconds: float, report) -> None:
    """After a successful claim: log entry, then the e-mail for an e-mail stimulus."""
    stimulus.exercise = exercise
    stimulus.status = ReleaseStatus.RELEASED
    stimulus.released_at, stimulus.released_exercise_seconds = now, seconds
    add_log_entry(
        exercise,
        kind=EntryKind.STIMULUS,
        text=(stimulus.subject or stimulus.content)[:500],
        author_name=stimulus.sender,
        at=now,
        stimulus=stimulus,
    )
    if stimulus.channel == Channel.EMAIL:
        ok, message_id, error = _send(stimulus)
        stimulus.status = ReleaseStatus.SENT if ok else ReleaseStatus.FAILED
        stimulus.message_id, stimulus.last_error = message_id, error
        Stimulus.objects.filter(pk=stimulus.pk).update(
            status=stimulus.status, message_id=message_id, last_error=error
        )
        if ok:
            report.sent += 1
        else:
            report.failed += 1
    report.released.append(stimulus)


def release_due(exercise: Exercise, now=None) -> ReleaseReport:
    """Release every pending stimulus whose offset the running clock has reached."""
    report = ReleaseReport()
    exercise.refresh_from_db()
    if exercise.status != ExerciseStatus.RUNNING:
        return report
    now = now or timezone.now()
    seconds = clock.exercise_seconds(exercise, now)
    due = exercise.stimuli.filter(status=ReleaseStatus.PENDING, offset_seconds__lte=seconds)
    for stimulus in due:
        if _claim(stimulus, now, seconds):
            _deliver(stimulus, exercise, now, seconds, report)
    upcoming = (
        exercise.stimuli.filter(status=ReleaseStatus.PENDING)
        .order_by("offset_seconds")
        .values_list("offset_seconds", flat=True)
        .first()
    )
    if upcoming is not None:
        report.next_due_at = clock.wall_time_at(exercise, upcoming, now)
    return report


def release_now(stimulus: Stimulus, now=None) -> bool:
    """A facilitator's "release now" for one stimulus, ahead of its offset (running or paused)."""
    exercise = stimulus.exercise
    exercise.refresh_from_db()
    if exercise.status not in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED):
        return False
    now = now or timezone.now()
    seconds = clock.exercise_seconds(exercise, now)
    if not _claim(stimulus, now, seconds):
        return False
    _deliver(stimulus, exercise, now, seconds, ReleaseReport())
    return True


def skip(stimulus: Stimulus) -> bool:
    """A facilitator leaves a stimulus out of this run."""
    return (
        Stimulus.objects.filter(pk=stimulus.pk, status=ReleaseStatus.PENDING).update(
            status=ReleaseStatus.SKIPPED
        )
        == 1
    )


# Logbook ---------------------------------------------------------------------------------------
def add_log_entry(
    cell: Exercise | Incident,
    *,
    kind: str,
    text: str,
    author_name: str,
    participant: Participant | None = None,
    user=None,
    milestone: str = "",
    at=None,
    stimulus: Stimulus | None = None,
) -> LogEntry:
    """A new line of the logbook of an exercise or an incident (lines are never edited).

    For an exercise, the line carries the exercise time; a milestone (detection, isolation,
    escalation, notification) marked for the first time fills `Exercise.key_timings`."""
    text = (text or "").strip()
    if not text:
        raise ValueError("le texte de l'entrée est vide")
    if kind not in EntryKind.values:
        raise ValueError(f"type d'entrée inconnu : {kind}")
    if milestone and milestone not in Milestone.values:
        raise ValueError(f"jalon inconnu : {milestone}")
    at = at or timezone.now()
    entry = LogEntry(
        at=at,
        kind=kind,
        milestone=milestone,
        text=text,
        author_name=author_name[:200],
        participant=participant,
        user=user,
        stimulus=stimulus,
    )
    if isinstance(cell, Exercise):
        entry.exercise = cell
        if cell.status in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED):
            entry.exercise_seconds = clock.exercise_seconds(cell, at)
    else:
        entry.incident = cell
    with transaction.atomic():
        entry.save()
        if milestone and entry.exercise_id and entry.exercise_seconds is not None:
            _mark_milestone(cell, milestone, entry.exercise_seconds)
    return entry


def _mark_milestone(exercise: Exercise, milestone: str, seconds: float) -> None:
    locked = Exercise.objects.select_for_update().only("key_timings").get(pk=exercise.pk)
    timings = dict(locked.key_timings or {})
    if milestone in timings:
        return  # the first mark counts; later ones stay in the logbook
    timings[milestone] = round(seconds, 1)
    Exercise.objects.filter(pk=exercise.pk).update(key_timings=timings)
    exercise.key_timings = timings


# Observations ----------------------------------------------------------------------------------
def rate(criterion, observer: Participant, rating: str, comment: str = "") -> Observation:
    """An observer's rating of one criterion (one per observer and criterion, updatable)."""
    if rating not in Rating.values:
        raise ValueError(f"appréciation inconnue : {rating}")
    if observer.exercise_id != criterion.exercise_id:
        raise ValueError("ce critère n'appartient pas à l'exercice de l'observateur")
    if observer.role not in (ParticipantRole.OBSERVER, ParticipantRole.FACILITATOR):
        raise ValueError("seuls les observateurs et les animateurs remplissent la grille")
    observation, _ = Observation.objects.update_or_create(
        criterion=criterion,
        observer=observer,
        defaults={"rating": rating, "comment": (comment or "").strip()},
    )
    return observation
