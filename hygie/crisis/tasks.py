"""Background work of a live exercise: releasing stimuli on time.

`release_stimuli` releases what is due for one exercise, then enqueues its next run for the
wall-clock time the next stimulus falls due (the clock's speed taken into account). It stops
by itself when the exercise is paused or finished; resuming or changing the speed plants a
new run. Runs are safe to duplicate: each stimulus is claimed exactly once (hygie.crisis.run).
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from hygie.crisis import run
from hygie.crisis.models import Exercise, ExerciseStatus


@task()
def release_stimuli(exercise_id: int) -> dict:
    return run_release(exercise_id)


def run_release(exercise_id: int) -> dict:
    exercise = Exercise.objects.filter(pk=exercise_id).first()
    if exercise is None:
        return {"released": 0, "next_run": None}
    report = run.release_due(exercise)
    if report.next_due_at is not None and exercise.status == ExerciseStatus.RUNNING:
        schedule_release(exercise_id, report.next_due_at)
    return {
        "released": len(report.released),
        "sent": report.sent,
        "failed": report.failed,
        "next_run": report.next_due_at.isoformat() if report.next_due_at else None,
    }


def schedule_release(exercise_id: int, run_after=None) -> bool:
    """Enqueue a release run for `run_after` (now if None) unless one waits to run by then.

    A run planned later (before a speed-up) is left alone: it releases nothing and its own
    rescheduling merges back into the earlier chain."""
    from django_tasks_db import DatabaseBackend

    now = timezone.now()
    by = run_after if run_after is not None and run_after > now else now
    if isinstance(release_stimuli.get_backend(), DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=release_stimuli.module_path,
            backend_name=release_stimuli.backend,
            status=TaskResultStatus.READY,
        ).values_list("args_kwargs", "run_after")
        for args_kwargs, planned in waiting:
            soon = planned is None or planned.year == 9999  # "as soon as possible"
            if list(args_kwargs.get("args", [])) == [exercise_id] and (soon or planned <= by):
                return False
    if by > now:
        release_stimuli.using(run_after=by).enqueue(exercise_id)
    else:
        release_stimuli.enqueue(exercise_id)
    return True


def restart_running_exercises() -> int:
    """Running exercises with no release run waiting (worker killed mid-run): plan one.

    Called when a worker starts and by the hourly housekeeping; a duplicate run is harmless."""
    planted = 0
    for exercise_id in Exercise.objects.filter(status=ExerciseStatus.RUNNING).values_list(
        "pk", flat=True
    ):
        planted += schedule_release(exercise_id)
    return planted
