"""The exercise clock: exercise time from the clock fields of `Exercise`, and the facilitators'
commands (start, pause, resume, speed, finish).

Exercise time = `elapsed_seconds` + (now − `clock_started_at`) × `speed` while running. Every
command is a compare-and-swap: the UPDATE only applies if the clock fields are still those the
command read, so two facilitators clicking at once never fold the same running stretch twice
(the second click re-reads and acts on the new state, or finds nothing to do).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from hygie.crisis.models import Exercise, ExerciseStatus

MIN_SPEED = 0.1
MAX_SPEED = 600.0
# A command that loses its compare-and-swap this many times in a row gives up (never in
# practice: only a handful of facilitators click).
ATTEMPTS = 5


class ClockError(ValueError):
    """A command that does not apply to the exercise's current state (message for people)."""


def exercise_seconds(exercise: Exercise, now=None) -> float:
    """Seconds of scenario time at `now` (wall clock), from the fields as loaded."""
    seconds = exercise.elapsed_seconds
    if exercise.status == ExerciseStatus.RUNNING and exercise.clock_started_at is not None:
        now = now or timezone.now()
        running = max(0.0, (now - exercise.clock_started_at).total_seconds())
        seconds += running * exercise.speed
    return seconds


def wall_time_at(exercise: Exercise, seconds: float, now=None):
    """When (wall clock) a running exercise reaches `seconds` of exercise time (`now` if past)."""
    now = now or timezone.now()
    ahead = seconds - exercise_seconds(exercise, now)
    if ahead <= 0:
        return now
    return now + timedelta(seconds=ahead / exercise.speed)


def _swap(exercise: Exercise, **changes) -> bool:
    """UPDATE the exercise only if its clock fields are still those in `exercise`."""
    read = Q(
        pk=exercise.pk,
        status=exercise.status,
        speed=exercise.speed,
        elapsed_seconds=exercise.elapsed_seconds,
    )
    if exercise.clock_started_at is None:
        read &= Q(clock_started_at__isnull=True)
    else:
        read &= Q(clock_started_at=exercise.clock_started_at)
    return Exercise.objects.filter(read).update(**changes) == 1


def _command(exercise: Exercise, changes_for, now=None) -> bool:
    """Apply `changes_for(fresh exercise, now)` with compare-and-swap; refreshes `exercise`.

    `changes_for` returns the fields to write, None when there is nothing to do (already in the
    wanted state), or raises ClockError. Returns True if this call changed the clock."""
    for _attempt in range(ATTEMPTS):
        exercise.refresh_from_db(
            fields=["status", "speed", "elapsed_seconds", "clock_started_at", "started_at"]
        )
        now_ = now or timezone.now()
        changes = changes_for(exercise, now_)
        if changes is None:
            return False
        if _swap(exercise, **changes):
            for name, value in changes.items():
                setattr(exercise, name, value)
            return True
    raise ClockError("l'horloge a changé pendant la commande ; réessayez")


def start(exercise: Exercise, now=None) -> bool:
    def changes(ex, now):
        if ex.status in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED):
            return None
        if ex.status not in (ExerciseStatus.DESIGN, ExerciseStatus.READY):
            raise ClockError("cet exercice est déjà joué")
        return {
            "status": ExerciseStatus.RUNNING,
            "elapsed_seconds": 0.0,
            "clock_started_at": now,
            "started_at": now,
            "finished_at": None,
        }

    return _command(exercise, changes, now)


def pause(exercise: Exercise, now=None) -> bool:
    def changes(ex, now):
        if ex.status == ExerciseStatus.PAUSED:
            return None
        if ex.status != ExerciseStatus.RUNNING:
            raise ClockError("l'exercice n'est pas en cours")
        return {
            "status": ExerciseStatus.PAUSED,
            "elapsed_seconds": exercise_seconds(ex, now),
            "clock_started_at": None,
        }

    return _command(exercise, changes, now)


def resume(exercise: Exercise, now=None) -> bool:
    def changes(ex, now):
        if ex.status == ExerciseStatus.RUNNING:
            return None
        if ex.status != ExerciseStatus.PAUSED:
            raise ClockError("l'exercice n'est pas en pause")
        return {"status": ExerciseStatus.RUNNING, "clock_started_at": now}

    return _command(exercise, changes, now)


def set_speed(exercise: Exercise, speed: float, now=None) -> bool:
    """Change the speed from now on; the exercise time reached so far is kept as it is."""
    try:
        speed = float(speed)
    except (TypeError, ValueError):
        raise ClockError("vitesse : un nombre est attendu") from None
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ClockError(f"vitesse : entre {MIN_SPEED:g} et {MAX_SPEED:g}")

    def changes(ex, now):
        if ex.status in (ExerciseStatus.FINISHED, ExerciseStatus.CLOSED):
            raise ClockError("cet exercice est déjà joué")
        if ex.speed == speed:
            return None
        if ex.status == ExerciseStatus.RUNNING:
            return {
                "speed": speed,
                "elapsed_seconds": exercise_seconds(ex, now),
                "clock_started_at": now,
            }
        return {"speed": speed}

    return _command(exercise, changes, now)


def finish(exercise: Exercise, now=None) -> bool:
    def changes(ex, now):
        if ex.status in (ExerciseStatus.FINISHED, ExerciseStatus.CLOSED):
            return None
        if ex.status not in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED):
            raise ClockError("l'exercice n'a pas commencé")
        return {
            "status": ExerciseStatus.FINISHED,
            "elapsed_seconds": exercise_seconds(ex, now),
            "clock_started_at": None,
            "finished_at": now,
        }

    return _command(exercise, changes, now)
