"""The decision log writer: decisions are appended in batches, never on the decision's path.

`record(...)` puts an unsaved `Decision` in a thread-safe buffer and returns at once; a
background thread writes the buffer with one `bulk_create` every `INTERVAL` seconds, or as soon
as `BATCH` rows are waiting. `flush()` writes what is waiting now (tests, shutdown).
`purge(now)` removes the decisions older than each application's retention — the only deletion
the log ever sees (`Decision.objects` refuses update and delete).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time

from django.db import close_old_connections, connections
from django.db.models import QuerySet
from django.utils import timezone

logger = logging.getLogger("hygie.access")

INTERVAL = 0.2
BATCH = 500
MAX_WAITING = 200_000  # beyond this the oldest waiting rows are dropped (and counted)

_lock = threading.Lock()
_wake = threading.Event()
_buffer: list = []
_thread: threading.Thread | None = None
stats = {"recorded": 0, "written": 0, "dropped": 0, "batches": 0, "failed": 0}
# False: no background thread, `flush()` writes (the tests of the request path use that).
background = True


def record(**fields) -> None:
    """Queue one decision (the `Decision` fields; `at` defaults to now)."""
    from hygie.access.models import Decision

    fields.setdefault("at", timezone.now())
    row = Decision(**fields)
    with _lock:
        _buffer.append(row)
        stats["recorded"] += 1
        if len(_buffer) > MAX_WAITING:
            del _buffer[: len(_buffer) - MAX_WAITING]
            stats["dropped"] += 1
        waiting = len(_buffer)
    if background:
        _ensure_thread()
        if waiting >= BATCH:
            _wake.set()


def waiting() -> int:
    with _lock:
        return len(_buffer)


def flush() -> int:
    """Write every waiting decision now; returns how many were written."""
    from hygie.access.models import Decision

    with _lock:
        rows = _buffer[:]
        _buffer.clear()
    if not rows:
        return 0
    try:
        for start in range(0, len(rows), BATCH):
            Decision.objects.bulk_create(rows[start : start + BATCH])
    except Exception:
        stats["failed"] += 1
        logger.exception(
            "decision log: %d decisions could not be written, kept for retry", len(rows)
        )
        with _lock:
            _buffer[:0] = rows
        raise
    stats["written"] += len(rows)
    stats["batches"] += 1
    return len(rows)


def _run() -> None:
    while True:
        _wake.wait(INTERVAL)
        _wake.clear()
        try:
            close_old_connections()
            flush()
        except Exception:  # noqa: BLE001 - logged in flush; keep the writer alive
            time.sleep(INTERVAL)


def _ensure_thread() -> None:
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread = threading.Thread(target=_run, name="hygie-decision-log", daemon=True)
        _thread.start()


def _at_exit() -> None:
    try:
        flush()
        connections.close_all()
    except Exception:  # noqa: BLE001 - the process is ending
        logger.exception("decision log: the last decisions could not be written")


atexit.register(_at_exit)


def purge(now=None) -> int:
    """Delete the decisions older than their application's retention; returns how many."""
    from hygie.access.models import Decision, ProtectedApplication

    now = now or timezone.now()
    removed = 0
    for app_id, days in ProtectedApplication.objects.values_list("pk", "log_retention_days"):
        old = Decision.objects.filter(application_id=app_id, at__lt=now - _days(days))
        # The append-only queryset refuses delete(); the purge is the one exception.
        removed += QuerySet.delete(old)[0]
    return removed


def _days(days: int):
    import datetime as dt

    return dt.timedelta(days=days)
