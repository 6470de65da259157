"""The decision log writer: decisions are appended in batches, never on the decision's path.

`record(...)` puts a decision's values in a thread-safe buffer and returns at once; a
background thread writes the buffer with one prepared INSERT (executemany) every `INTERVAL`
seconds, or as soon as `BATCH` rows are waiting. `flush()` writes what is waiting now (tests, shutdown).
`purge(now)` removes the decisions older than each application's retention — the only deletion
the log ever sees (`Decision.objects` refuses update and delete).
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time

from django.db import connection, connections, transaction
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


COLUMNS = (
    "application_id",
    "at",
    "request_id",
    "principal",
    "action",
    "resource",
    "allowed",
    "enforced",
    "break_glass",
    "policies",
    "inputs",
    "errors",
    "policy_version",
    "micros",
)
DEFAULTS = {"request_id": "", "break_glass": False, "policy_version": None, "micros": 0}
JSON_COLUMNS = {"policies": list, "inputs": dict, "errors": list}
_KNOWN = frozenset(COLUMNS)
# Without these a row could never be written, and every batch it joined would be refused.
_REQUIRED = _KNOWN - set(DEFAULTS) - set(JSON_COLUMNS) - {"at"}


def record(**fields) -> None:
    """Queue one decision (the `Decision` fields; `at` defaults to now)."""
    if not _KNOWN.issuperset(fields) or not _REQUIRED.issubset(fields):
        unknown, missing = set(fields) - _KNOWN, _REQUIRED - set(fields)
        raise TypeError(
            f"unknown decision fields: {', '.join(sorted(unknown)) or '—'}; "
            f"missing: {', '.join(sorted(missing)) or '—'}"
        )
    fields.setdefault("at", timezone.now())
    # JSON is written here, on the request's thread, in small pieces: the writer thread then
    # holds the interpreter only briefly, and the requests waiting for it do not stall.
    row = tuple(
        json.dumps(fields.get(name) or JSON_COLUMNS[name]())
        if name in JSON_COLUMNS
        else fields.get(name, DEFAULTS.get(name))
        for name in COLUMNS
    )
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
    with _lock:
        rows = _buffer[:]
        _buffer.clear()
    if not rows:
        return 0
    try:
        _insert(rows)
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


def _insert(rows: list) -> None:
    """One prepared INSERT run over the rows (executemany): the ORM's bulk_create compiled
    every value of every row through the field machinery, which was most of the decision
    process's time under load. Values are stored exactly as the fields would store them."""
    from hygie.access.models import Decision

    ops = connection.ops
    at, json_at = COLUMNS.index("at"), [COLUMNS.index(name) for name in JSON_COLUMNS]
    as_json = _json_parameter()
    adapted = []
    for row in rows:
        values = list(row)
        values[at] = ops.adapt_datetimefield_value(values[at])
        if as_json is not None:
            for index in json_at:
                values[index] = as_json(values[index])
        adapted.append(values)
    table = ops.quote_name(Decision._meta.db_table)
    columns = ", ".join(ops.quote_name(name) for name in COLUMNS)
    marks = ", ".join(["%s"] * len(COLUMNS))
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(adapted), BATCH):
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - fixed names
                adapted[start : start + BATCH],
            )


def _json_parameter():
    """How a JSON text already written is passed: as is to SQLite, as jsonb to PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    from psycopg.types.json import Jsonb

    return lambda text: Jsonb(text, dumps=str)  # the text is the JSON already


def _run() -> None:
    # The writer keeps its own database connection between batches (reconnecting five times a
    # second cost more than the writes); after a failure it is dropped and opened afresh.
    while True:
        _wake.wait(INTERVAL)
        _wake.clear()
        try:
            flush()
        except Exception:  # noqa: BLE001 - logged in flush; keep the writer alive
            connection.close()
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
