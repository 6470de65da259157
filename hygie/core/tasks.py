"""Background tasks of the core app, and the convention every app's `tasks.py` follows.

Convention (see docs/operations.md):

- a task is a plain function decorated with `django_tasks.task` (Django's tasks API,
  backported); services enqueue it with `.enqueue(...)`, views never do heavy work inline;
- arguments and return values are JSON (ids, not model instances): any backend can carry them;
- a task is idempotent and safe to run twice, on any worker, in any order: several workers
  run side by side and a broker may deliver a task more than once;
- the domain logic stays in `services.py`; the task is a thin wrapper around it;
- `@task()` takes no priority (RQ refuses priorities at import time); set it at enqueue
  time with `.using(priority=...)` when `task.get_backend().supports_priority`.

`housekeeping` keeps the database tidy. It reschedules itself, so one run is always waiting;
`hygie worker` plants the first one. With a broker that cannot defer tasks, run
`hygie housekeeping` from a timer instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from hygie.core.models import ThrottleBucket

logger = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = timedelta(hours=1)
# A bucket left alone this long has refilled completely (the longest refill period used by
# `throttle.allow` is minutes), so deleting it changes nothing for the person throttled.
THROTTLE_IDLE_AFTER = timedelta(days=1)
# Finished task results are history for the operator, not data: kept two weeks.
TASK_RESULTS_KEPT = timedelta(days=14)
# Below every user-facing task: housekeeping never delays a campaign or an import.
HOUSEKEEPING_PRIORITY = -50


@task()
def ping(message: str = "pong") -> dict:
    """Proves the pipeline end to end: enqueued by the web side, run by a worker."""
    return {"message": message, "at": timezone.now().isoformat()}


def prune_throttle_buckets(now=None) -> int:
    cutoff = (now or timezone.now()) - THROTTLE_IDLE_AFTER
    deleted, _ = ThrottleBucket.objects.filter(updated_at__lt=cutoff).delete()
    return deleted


def prune_task_results(now=None) -> int:
    """Finished results of the database backend older than TASK_RESULTS_KEPT."""
    if not _database_backend_in_use():
        return 0
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or timezone.now()) - TASK_RESULTS_KEPT
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def prune_expired_sessions() -> None:
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


# Clean-ups contributed by other apps (name -> function returning the number of rows removed),
# registered from their AppConfig.ready() so core depends on no domain app.
EXTRA_HOUSEKEEPING: dict[str, Callable[[], int]] = {}


def register_housekeeping(name: str, function: Callable[[], int]) -> None:
    EXTRA_HOUSEKEEPING[name] = function


# Run by `hygie worker` when it starts (e.g. to re-plant the chain of a task whose worker was
# killed): name -> function returning how many things it restarted.
WORKER_STARTUP: dict[str, Callable[[], int]] = {}


def register_worker_startup(name: str, function: Callable[[], int]) -> None:
    WORKER_STARTUP[name] = function


def run_worker_startup() -> dict:
    counts = {name: function() for name, function in WORKER_STARTUP.items()}
    if any(counts.values()):
        logger.info("worker start-up: %s", ", ".join(f"{name} {n}" for name, n in counts.items()))
    return counts


def run_housekeeping() -> dict:
    counts = {
        "throttle_buckets": prune_throttle_buckets(),
        "task_results": prune_task_results(),
    }
    for name, function in EXTRA_HOUSEKEEPING.items():
        counts[name] = function()
    prune_expired_sessions()
    logger.info(
        "housekeeping: %s",
        ", ".join(f"{name} {count}" for name, count in counts.items()),
    )
    return counts


@task()
def housekeeping() -> dict:
    counts = run_housekeeping()
    schedule_housekeeping(run_after=timezone.now() + HOUSEKEEPING_EVERY)
    return counts


def _database_backend_in_use() -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(housekeeping.get_backend(), DatabaseBackend)


def schedule_housekeeping(run_after=None) -> bool:
    """Enqueue a housekeeping run unless one is already waiting; True if one was added.

    Two workers starting together may both add one; each run then sees the other waiting
    and does not reschedule, so the chain settles back to a single pending run.
    """
    if not _database_backend_in_use():
        return False  # brokers: `hygie housekeeping` from a timer (docs/operations.md)
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=housekeeping.module_path,
        backend_name=housekeeping.backend,
        status=TaskResultStatus.READY,
    ).exists()
    if waiting:
        return False
    options = {"priority": HOUSEKEEPING_PRIORITY}
    if run_after is not None:
        options["run_after"] = run_after
    housekeeping.using(**options).enqueue()
    return True
