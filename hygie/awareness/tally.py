"""The progress tally: a maintained summary of the assignments the dashboard reads (decision 0538).

One `ProgressTally` row counts the assignments of an establishment sharing a service, site,
job family, state, due date, month of assignment and month of completion. At 20,000 learners
and 220,000 assignments that is a few thousand rows, read instead of every assignment.

- `add(assignments)` after creating assignments, `move(before, after)` after an assignment's
  state, due date or completion time changed (`snapshot` takes the "before"), both in the
  transaction of the change. Each is one `INSERT … ON CONFLICT (key) DO UPDATE SET count =
  count + n` per batch: atomic on SQLite and PostgreSQL, so concurrent learners never lose
  an increment and a missing row is created once.
- `rebuild(establishment)` recomputes an establishment's rows from its assignments (one
  grouped query, replaced in one transaction): after cascading deletions (campaign, person,
  organisation: `post_delete` → `transaction.on_commit`), after bulk updates that bypass the
  functions above, by housekeeping once a day as a safety net, and by
  `hygie awareness-tally rebuild`.

On PostgreSQL, writers take a shared transaction-level advisory lock on the establishment and
`rebuild` an exclusive one, so a rebuild never reads the assignments while a learner's change
is half applied (SQLite serialises write transactions anyway: "transaction_mode" IMMEDIATE).

Months are calendar months in UTC: a rebuild on SQLite then reads the month straight from the
stored text (a time-zone conversion would call Python for each of 220,000 rows, 7 s instead
of 1 s). A module finished in the last hour or two of a month in France counts in the next
month's figures — never in the wrong year's total, and only the monthly trend shows it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import CharField, Count, Q
from django.db.models.functions import Substr, TruncMonth
from django.db.models.signals import pre_delete
from django.utils import timezone

from hygie.awareness.models import Assignment, ProgressTally

logger = logging.getLogger(__name__)

LOCK_CLASS = 5380  # advisory lock namespace of the tally (decision 0538)
BATCH = 500

# The columns of a tally row, in key order; the assignment's own fields they come from.
COLUMNS = (
    "establishment_id",
    "service_id",
    "site_id",
    "job_family",
    "state",
    "due_date",
    "assigned_month",
    "completed_month",
)
FIELDS = (
    "establishment_id",
    "service_id",
    "site_id",
    "job_family",
    "state",
    "due_date",
    "assigned_at",
    "completed_at",
)


def month_of(value) -> dt.date | None:
    """The first day of the value's month, in UTC (see the module's docstring)."""
    if value is None:
        return None
    if isinstance(value, str):  # "YYYY-MM…": SQLite's text, or a raw update on an instance
        value = dt.datetime.fromisoformat(value) if len(value) > 7 else value + "-01"
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(dt.UTC)
        value = value.date()
    return value.replace(day=1)


def _month(field: str):
    if connection.vendor == "sqlite":
        # SQLite stores UTC times as ISO text: the first 7 characters are the month, where
        # TruncMonth would call Python once per row (seconds at 220,000 rows).
        return Substr(field, 1, 7, output_field=CharField())
    return TruncMonth(field, tzinfo=dt.UTC)


def _date(value) -> dt.date | None:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def snapshot(assignment: Assignment) -> tuple:
    """The tally key of an assignment as it is now (take it before changing the assignment)."""
    return (
        assignment.establishment_id,
        assignment.service_id,
        assignment.site_id,
        assignment.job_family or "",
        assignment.state,
        _date(assignment.due_date),
        month_of(assignment.assigned_at),
        month_of(assignment.completed_at),
    )


def _key_text(key: tuple) -> str:
    return "|".join("-" if part is None else str(part) for part in key)


def add(assignments: Iterable[Assignment], *, sign: int = 1) -> None:
    """Count newly created assignments (their `assigned_at` set, i.e. after the insert)."""
    apply(Counter(snapshot(assignment) for assignment in assignments), sign=sign)


def move(before: tuple, after: tuple) -> None:
    """One assignment went from the key `before` to the key `after`."""
    if before != after:
        apply(Counter({before: -1, after: 1}))


def apply(deltas: Counter, *, sign: int = 1) -> None:
    """Add each delta to its row (created when missing), atomically."""
    deltas = {key: sign * n for key, n in deltas.items() if n}
    if not deltas:
        return
    table = connection.ops.quote_name(ProgressTally._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in (*COLUMNS, "count", "key"))
    count = connection.ops.quote_name("count")
    with transaction.atomic():
        _lock({key[0] for key in deltas}, exclusive=False)
        items = sorted(deltas.items(), key=lambda item: _key_text(item[0]))  # one lock order
        with connection.cursor() as cursor:
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                placeholders = ", ".join(["(" + ", ".join(["%s"] * 10) + ")"] * len(chunk))
                params: list = []
                for key, n in chunk:
                    params.extend((*key, n, _key_text(key)))
                # Identifiers come from the model, values are parameters.
                cursor.execute(
                    f"INSERT INTO {table} ({names}) VALUES {placeholders} "  # noqa: S608
                    f'ON CONFLICT ("key") DO UPDATE SET {count} = {table}.{count} + '
                    f"EXCLUDED.{count}",
                    params,
                )


def _lock(establishment_ids: Iterable[int], *, exclusive: bool) -> None:
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        for establishment_id in sorted(establishment_ids):
            cursor.execute(
                f"SELECT {function}(%s, %s)", [LOCK_CLASS, int(establishment_id) & 0x7FFFFFFF]
            )


def computed(establishment_id: int) -> dict[tuple, int]:
    """The establishment's tally computed from its assignments (one grouped query)."""
    rows = (
        Assignment.objects.filter(establishment_id=establishment_id)
        .order_by()
        .values(
            "service_id",
            "site_id",
            "job_family",
            "state",
            "due_date",
            assigned=_month("assigned_at"),
            completed=_month("completed_at"),
        )
        .annotate(n=Count("pk"))
    )
    result: Counter = Counter()
    for row in rows:
        key = (
            establishment_id,
            row["service_id"],
            row["site_id"],
            row["job_family"] or "",
            row["state"],
            row["due_date"],
            month_of(row["assigned"]),
            month_of(row["completed"]),
        )
        result[key] += row["n"]
    return dict(result)


def stored(establishment_id: int) -> dict[tuple, int]:
    """The establishment's tally as stored (rows at zero left out)."""
    return {
        tuple(row[:-1]): row[-1]
        for row in ProgressTally.objects.filter(establishment_id=establishment_id)
        .exclude(count=0)
        .values_list(*COLUMNS, "count")
    }


def rebuild(establishment) -> bool:
    """Replace the establishment's tally by the one computed from its assignments (left alone
    when they agree); returns whether it differed."""
    establishment_id = getattr(establishment, "pk", establishment)
    with transaction.atomic():
        _lock([establishment_id], exclusive=True)
        fresh = computed(establishment_id)
        if stored(establishment_id) == fresh:
            return False
        ProgressTally.objects.filter(establishment_id=establishment_id).delete()
        ProgressTally.objects.bulk_create(
            (
                ProgressTally(**dict(zip(COLUMNS, key, strict=True)), count=n, key=_key_text(key))
                for key, n in fresh.items()
            ),
            batch_size=BATCH,
        )
    return True


def establishments() -> set[int]:
    """Every establishment with assignments or tally rows."""
    ids = set(Assignment.objects.order_by().values_list("establishment_id", flat=True).distinct())
    ids |= set(
        ProgressTally.objects.order_by().values_list("establishment_id", flat=True).distinct()
    )
    return ids


def rebuild_all() -> int:
    """Housekeeping's safety net: every establishment checked; returns how many were rebuilt
    (logged: a difference means a write path that does not maintain the tally)."""
    differed = [pk for pk in sorted(establishments()) if rebuild(pk)]
    if differed:
        logger.warning("progress tally rebuilt for establishments %s", differed)
    return len(differed)


def rebuild_soon(establishment_ids: Iterable[int]) -> None:
    """Rebuild after the current transaction commits (deletions cascade without signals on
    every assignment)."""
    pending = {int(pk) for pk in establishment_ids if pk}
    if not pending:
        return

    def run():
        for establishment_id in sorted(pending):
            rebuild(establishment_id)

    transaction.on_commit(run)


# Deletions cascade to assignments without a signal per row: rebuild once it is committed.
def _before_campaign_delete(sender, instance, **kwargs):
    rebuild_soon(
        instance.assignments.order_by().values_list("establishment_id", flat=True).distinct()
    )


def _before_staff_delete(sender, instance, **kwargs):
    rebuild_soon(
        Assignment.objects.filter(staff_id=instance.pk)
        .order_by()
        .values_list("establishment_id", flat=True)
        .distinct()
    )


def _before_organisation_delete(sender, instance, **kwargs):
    # A service or site: its assignments and rows lose it (SET NULL). An establishment takes
    # its rows with it (CASCADE).
    rebuild_soon(
        ProgressTally.objects.filter(Q(service_id=instance.pk) | Q(site_id=instance.pk))
        .exclude(establishment_id=instance.pk)
        .order_by()
        .values_list("establishment_id", flat=True)
        .distinct()
    )


def connect() -> None:
    from hygie.awareness.models import Campaign
    from hygie.orgs.models import Organisation, StaffMember

    pre_delete.connect(_before_campaign_delete, sender=Campaign, dispatch_uid="tally-campaign")
    pre_delete.connect(_before_staff_delete, sender=StaffMember, dispatch_uid="tally-staff")
    pre_delete.connect(
        _before_organisation_delete, sender=Organisation, dispatch_uid="tally-organisation"
    )


CHECK_HOUR = 3  # local time: the daily check runs with the housekeeping of that hour


def daily_check(now=None) -> int:
    """Housekeeping (hourly): `rebuild_all` once a day, in the night."""
    if timezone.localtime(now or timezone.now()).hour != CHECK_HOUR:
        return 0
    return rebuild_all()
