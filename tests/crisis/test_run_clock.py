"""The exercise clock: arithmetic, pause, speed changes, and concurrent commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hygie.crisis import clock
from hygie.crisis.models import Exercise, ExerciseStatus
from tests.crisis import run_fixtures


@pytest.fixture
def ex(world):
    return run_fixtures.exercise(world.est_a1)


def test_clock_runs_pauses_and_keeps_time_across_a_speed_change(ex):
    t0 = timezone.now()
    assert clock.start(ex, now=t0)
    assert ex.status == ExerciseStatus.RUNNING
    assert clock.exercise_seconds(ex, t0 + timedelta(seconds=30)) == pytest.approx(30)

    clock.pause(ex, now=t0 + timedelta(seconds=30))
    # Paused: time stands still however long the pause lasts.
    assert clock.exercise_seconds(ex, t0 + timedelta(hours=1)) == pytest.approx(30)

    clock.resume(ex, now=t0 + timedelta(seconds=100))
    assert clock.exercise_seconds(ex, t0 + timedelta(seconds=110)) == pytest.approx(40)

    # Speed ×10 from t0+110: no jump at the change, ten times faster afterwards.
    clock.set_speed(ex, 10, now=t0 + timedelta(seconds=110))
    assert clock.exercise_seconds(ex, t0 + timedelta(seconds=110)) == pytest.approx(40)
    assert clock.exercise_seconds(ex, t0 + timedelta(seconds=112)) == pytest.approx(60)

    clock.finish(ex, now=t0 + timedelta(seconds=113))
    ex.refresh_from_db()
    assert ex.status == ExerciseStatus.FINISHED
    assert clock.exercise_seconds(ex, t0 + timedelta(days=1)) == pytest.approx(70)


def test_commands_that_do_not_apply_are_refused_with_a_message(ex):
    with pytest.raises(clock.ClockError, match="pas en cours"):
        clock.pause(ex)
    with pytest.raises(clock.ClockError, match="entre"):
        clock.set_speed(ex, 0)
    clock.start(ex)
    clock.finish(ex)
    with pytest.raises(clock.ClockError, match="déjà joué"):
        clock.start(ex)


def test_two_facilitators_pausing_at_once_fold_the_running_time_once(ex):
    t0 = timezone.now() - timedelta(seconds=50)
    clock.start(ex, now=t0)
    # Both loaded the running exercise before either clicked.
    first, second = Exercise.objects.get(pk=ex.pk), Exercise.objects.get(pk=ex.pk)
    assert clock.pause(first, now=t0 + timedelta(seconds=50)) is True
    # The second click re-reads: already paused, nothing to do, nothing added twice.
    assert clock.pause(second, now=t0 + timedelta(seconds=60)) is False
    ex.refresh_from_db()
    assert ex.elapsed_seconds == pytest.approx(50)


def test_a_stale_read_never_overwrites_a_newer_clock(ex):
    t0 = timezone.now() - timedelta(seconds=20)
    clock.start(ex, now=t0)
    stale = Exercise.objects.get(pk=ex.pk)
    clock.set_speed(ex, 5, now=t0 + timedelta(seconds=10))  # another facilitator
    # A CAS built from the stale read does not match the row any more.
    assert clock._swap(stale, elapsed_seconds=999) is False
    ex.refresh_from_db()
    assert ex.speed == 5 and ex.elapsed_seconds == pytest.approx(10)
