"""Stimuli released on time, exactly once; e-mail stimuli really sent; the logbook and the
observation grid."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hygie.crisis import clock, run, tasks
from hygie.crisis.models import (
    Channel,
    EntryKind,
    Exercise,
    LogEntry,
    Milestone,
    Rating,
    ReleaseStatus,
    Stimulus,
)
from tests.crisis import run_fixtures
from tests.services.smtp import PASSWORD, USERNAME, smtp_server


@pytest.fixture
def ex(world):
    return run_fixtures.exercise(world.est_a1)


@pytest.fixture
def relay(settings, monkeypatch, tmp_path):
    with smtp_server() as server:
        ca = tmp_path / "ca.pem"
        ca.write_text(server.ca_pem)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "localhost", server.port
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = True, 5
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = USERNAME, PASSWORD
        settings.DEFAULT_FROM_EMAIL = "exercices@chu-a.example"
        yield server


def test_stimuli_are_released_when_the_clock_reaches_them_and_the_email_really_sent(ex, relay):
    t0 = timezone.now() - timedelta(seconds=130)
    clock.start(ex, now=t0)

    report = run.release_due(ex, now=t0 + timedelta(seconds=130))

    email, phone, press = (Stimulus.objects.get(pk=s.pk) for s in ex.timeline)
    assert [s.pk for s in report.released] == [email.pk, phone.pk]
    assert email.status == ReleaseStatus.SENT and phone.status == ReleaseStatus.RELEASED
    assert press.status == ReleaseStatus.PENDING
    assert email.released_exercise_seconds == pytest.approx(130)
    # The e-mail reached the real SMTP server, to the participant whose function matches.
    [(sender, rcpts, message)] = relay.messages
    assert rcpts == ["directeur@chu-a.example"]
    assert message["Subject"].strip() == "[EXERCICE] Écran de rançon sur les postes des urgences"
    assert message["Message-ID"] == email.message_id
    assert "EXERCICE — EXERCICE" in message.get_content()
    # Each release is a "stimulus" line of the logbook, at its exercise time.
    lines = LogEntry.objects.filter(exercise=ex, kind=EntryKind.STIMULUS)
    assert sorted(lines.values_list("stimulus_id", flat=True)) == [email.pk, phone.pk]
    # The next run is planned for the press stimulus: 50 s of exercise time later.
    assert report.next_due_at == t0 + timedelta(seconds=180)


def test_a_refused_email_is_recorded_as_failed_with_the_reason(ex, relay):
    relay.fail_with.append((550, "5.1.1 Mailbox unavailable"))
    clock.start(ex, now=timezone.now() - timedelta(seconds=61))
    run.release_due(ex)
    email = Stimulus.objects.get(pk=ex.timeline[0].pk)
    assert email.status == ReleaseStatus.FAILED
    assert "Mailbox unavailable" in email.last_error


def test_nothing_is_released_while_paused_and_speed_brings_stimuli_forward(ex, settings):
    t0 = timezone.now() - timedelta(seconds=10)
    clock.start(ex, now=t0)
    clock.set_speed(ex, 60, now=t0)  # one minute of scenario per second
    clock.pause(ex, now=t0 + timedelta(seconds=2.5))  # 150 s of exercise time
    assert run.release_due(ex).released == []
    clock.resume(ex)
    assert len(run.release_due(ex).released) == 2  # offsets 60 and 120 s


def test_release_runs_reschedule_themselves_and_stop_when_finished(ex):
    from django_tasks_db.models import DBTaskResult

    clock.start(ex, now=timezone.now() - timedelta(seconds=90))
    result = tasks.run_release(ex.pk)
    assert result["released"] == 1
    waiting = DBTaskResult.objects.filter(task_path=tasks.release_stimuli.module_path)
    assert waiting.count() == 1
    # A second run planned for the same time is not added.
    assert tasks.schedule_release(ex.pk, waiting.get().run_after) is False
    clock.finish(ex)
    waiting.delete()
    assert tasks.run_release(ex.pk)["next_run"] is None or not waiting.exists()
    assert not waiting.exists()


def test_two_workers_with_the_same_due_list_release_each_stimulus_exactly_once(ex):
    """Two workers that both listed the same due stimuli before either claimed one: the claims
    interleave and each stimulus goes to exactly one of them (a conditional UPDATE). Written
    as a fixed interleaving rather than with threads, so it cannot flake."""
    clock.start(ex, now=timezone.now() - timedelta(seconds=200))
    exercise = Exercise.objects.get(pk=ex.pk)
    now = timezone.now()
    seconds = clock.exercise_seconds(exercise, now)
    seen_by_a = list(exercise.stimuli.filter(status=ReleaseStatus.PENDING))
    seen_by_b = list(exercise.stimuli.filter(status=ReleaseStatus.PENDING))
    assert len(seen_by_a) == len(seen_by_b) == 3
    won = {"a": [], "b": []}
    for mine, theirs in zip(seen_by_a, reversed(seen_by_b), strict=True):
        for worker, stimulus in (("a", mine), ("b", theirs)):
            if run._claim(stimulus, now, seconds):
                won[worker].append(stimulus.pk)
    assert sorted(won["a"] + won["b"]) == sorted(s.pk for s in ex.timeline)  # each once
    assert won["a"] and won["b"], "the claims really interleaved"
    # A late worker finds nothing left to release.
    assert run.release_due(Exercise.objects.get(pk=ex.pk)).released == []


def test_release_now_and_skip(ex):
    clock.start(ex)
    press = ex.timeline[2]
    assert run.release_now(press) is True
    assert run.release_now(press) is False
    assert run.skip(ex.timeline[1]) is True
    assert Stimulus.objects.get(pk=ex.timeline[1].pk).status == ReleaseStatus.SKIPPED


def test_logbook_lines_carry_exercise_time_and_the_first_milestone_fills_key_timings(ex):
    t0 = timezone.now() - timedelta(seconds=300)
    clock.start(ex, now=t0)
    entry = run.add_log_entry(
        ex,
        kind=EntryKind.DECISION,
        text="Isolement du réseau des urgences",
        author_name="Paul Joueur",
        participant=ex.player,
        milestone=Milestone.ISOLATION,
        at=t0 + timedelta(seconds=240),
    )
    assert entry.exercise_seconds == pytest.approx(240)
    run.add_log_entry(
        ex,
        kind=EntryKind.ACTION,
        text="Isolement confirmé",
        author_name="Paul Joueur",
        milestone=Milestone.ISOLATION,
        at=t0 + timedelta(seconds=290),
    )
    ex.refresh_from_db()
    assert ex.key_timings == {"isolation": 240.0}
    with pytest.raises(ValueError, match="vide"):
        run.add_log_entry(ex, kind=EntryKind.ACTION, text="  ", author_name="x")


def test_add_log_entry_serves_real_incidents_too(world):
    from hygie.crisis.models import Incident

    incident = Incident.objects.create(
        organisation=world.est_a1, title="Chiffrement du PACS", discovered_at=timezone.now()
    )
    entry = run.add_log_entry(
        incident, kind=EntryKind.DECISION, text="Plan blanc numérique", author_name="DG"
    )
    assert entry.incident == incident and entry.exercise is None and entry.exercise_seconds is None


def test_observers_rate_each_criterion_once_and_can_change_their_mind(ex):
    criterion = ex.criteria_list[0]
    run.rate(criterion, ex.observer, Rating.PARTIAL, "Activation tardive")
    run.rate(criterion, ex.observer, Rating.MET, "Finalement activée à temps")
    [observation] = criterion.observations.all()
    assert observation.rating == Rating.MET
    with pytest.raises(ValueError, match="observateurs"):
        run.rate(criterion, ex.player, Rating.MET)
    with pytest.raises(ValueError, match="inconnue"):
        run.rate(criterion, ex.observer, "excellent")


def test_recipients_mix_addresses_roles_and_functions(ex):
    stimulus = Stimulus(
        exercise=ex,
        offset_seconds=0,
        channel=Channel.EMAIL,
        sender="ARS",
        recipients="communication; joueurs, externe@ars.example",
        content="x",
    )
    assert run.recipient_addresses(stimulus) == [
        "com@chu-a.example",
        "directeur@chu-a.example",
        "externe@ars.example",
    ]


def test_a_running_exercise_whose_worker_died_gets_a_release_run_again(ex):
    from django_tasks_db.models import DBTaskResult

    clock.start(ex)
    assert tasks.restart_running_exercises() == 1
    assert tasks.restart_running_exercises() == 0  # one is already waiting
    DBTaskResult.objects.all().delete()
    clock.pause(ex)
    assert tasks.restart_running_exercises() == 0  # paused: nothing to release
