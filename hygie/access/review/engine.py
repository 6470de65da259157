"""The access review engine: explain accesses by the care relationship, flag the rest.

`run_review(organisation, start=, end=)` runs SQL in DuckDB over the organisation's Parquet
files (store.py) and the care relations and person records loaded from the database for the
run. Explanation first, then flags (decision 0832):

- an access is **explained** when the patient stays in one of the user's units at the time
  (the unit of the user's service in the staff file, or a unit whose care team the user is in
  then) — the stay counting from STAY_BEFORE before its start to STAY_AFTER after its end — or
  when an appointment or order links the user and the patient within ±1 day;
- patterns that fire on every access: self-access, and break-the-glass with an implausible
  reason;
- **context** patterns fire only on unexplained accesses: same surname or birth name, same
  address digest, a colleague's record, a VIP record, off hours for a day-schedule person,
  bulk browsing.

Accesses with a pattern are grouped per (user, patient) into `ReviewCase` rows scored by
WEIGHTS. The SQL is plain enough to run unchanged on Spark SQL or Trino (docs/access-review.md).
"""

from __future__ import annotations

import tempfile
import time as clock
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from hygie.access.models import (
    CareRelation,
    CaseStatus,
    Pattern,
    PersonRecord,
    ReviewCase,
    ReviewRun,
)
from hygie.access.review import store
from hygie.access.review.ingest import normalise_text
from hygie.core.audit import record_event

# Thresholds (decision 0833).
STAY_BEFORE = timedelta(hours=12)  # pre-admission, emergency arrival registered late
STAY_AFTER = timedelta(hours=24)  # discharge letter, late results
LINK_DAYS = 1  # appointment / order: the same day ±1
BULK_PER_HOUR = 15  # more than this many distinct unexplained patients in one clock hour
BULK_PER_DAY = 20  # … or in one day (a morning of 20–30 strangers is bulk browsing)
OFF_HOURS = (22, 6)  # 22:00–06:00 local time, for a day-schedule person
REASON_MIN_CHARS = 15  # a break-the-glass reason shorter than this is implausible
REASON_MIN_LETTERS = 5  # fewer distinct letters: "xxxxxxxxxxxxxxxx", "test test test…"
REASON_REPEATS = 3  # the same reason for this many different patients by one user
EVIDENCE_EVENTS = 10  # accesses listed in a case's evidence
MAX_CASES = 10_000  # cases queued per run, highest scores first (the rest counted in figures)

WEIGHTS = {
    Pattern.UNEXPLAINED: 20,
    Pattern.SAME_NAME: 30,
    Pattern.SAME_ADDRESS: 35,
    Pattern.COLLEAGUE: 25,
    Pattern.VIP: 30,
    Pattern.SELF: 40,
    Pattern.BULK: 30,
    Pattern.OFF_HOURS: 15,
    Pattern.BREAK_GLASS: 35,
}
PATTERN_ORDER = list(WEIGHTS)
_FAR = datetime(9999, 1, 1)


def score(patterns) -> int:
    return min(100, sum(WEIGHTS[Pattern(p)] for p in patterns))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return moment.astimezone(UTC).replace(tzinfo=None)


def _cell(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(" ")
    text = str(value)
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return text


def _load(con, name: str, columns: list[tuple[str, str]], rows, spill: Path) -> None:
    """Create table `name` in DuckDB from Python rows, through a tab-separated file."""
    with tempfile.NamedTemporaryFile(
        "w", suffix=".tsv", dir=spill, delete=False, encoding="utf-8"
    ) as handle:
        for row in rows:
            handle.write("\t".join(_cell(v) for v in row) + "\n")
    try:
        spec = "{" + ", ".join(f"'{n}': '{t}'" for n, t in columns) + "}"
        con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT * FROM read_csv('{handle.name}', "  # noqa: S608
            f"delim = '\t', header = false, quote = '', escape = '', nullstr = '\\N', "
            f"auto_detect = false, columns = {spec})"
        )
    finally:
        Path(handle.name).unlink(missing_ok=True)


def _load_relations(con, organisation, start: datetime, end: datetime, spill: Path) -> None:
    zone = ZoneInfo(settings.TIME_ZONE)
    relations = CareRelation.objects.filter(organisation=organisation)
    lo = start - timedelta(days=LINK_DAYS + 1)
    hi = end + timedelta(days=LINK_DAYS + 1)
    spans = relations.filter(kind__in=[CareRelation.Kind.STAY, CareRelation.Kind.TEAM]).exclude(
        ends_at__lt=lo
    )
    spans = spans.filter(starts_at__lt=hi + STAY_BEFORE)
    stays, teams = [], []
    for kind, patient_id, user_id, unit, s, e in spans.values_list(
        "kind", "patient_id", "user_id", "unit", "starts_at", "ends_at"
    ).iterator(chunk_size=5000):
        if kind == CareRelation.Kind.STAY:
            stays.append(
                (patient_id, unit, _utc(s - STAY_BEFORE), _utc(e + STAY_AFTER) if e else _FAR)
            )
        else:
            teams.append((user_id, unit, _utc(s), _utc(e) if e else _FAR))
    links = []
    linked = relations.filter(
        kind__in=[CareRelation.Kind.APPOINTMENT, CareRelation.Kind.ORDER],
        starts_at__lt=hi,
    ).exclude(starts_at__lt=lo - timedelta(days=366))
    for patient_id, user_id, s, e in linked.values_list(
        "patient_id", "user_id", "starts_at", "ends_at"
    ).iterator(chunk_size=5000):
        d0 = s.astimezone(zone).date() - timedelta(days=LINK_DAYS)
        d1 = (e or s).astimezone(zone).date() + timedelta(days=LINK_DAYS)
        links.append((patient_id, user_id, d0, d1))
    span = [("s", "TIMESTAMP"), ("e", "TIMESTAMP")]
    _load(con, "stays", [("patient_id", "VARCHAR"), ("unit", "VARCHAR"), *span], stays, spill)
    _load(con, "teams", [("user_id", "VARCHAR"), ("unit", "VARCHAR"), *span], teams, spill)
    _load(
        con,
        "links",
        [("patient_id", "VARCHAR"), ("user_id", "VARCHAR"), ("d0", "DATE"), ("d1", "DATE")],
        links,
        spill,
    )


@lru_cache(maxsize=100_000)
def _name(value: str) -> str:
    return normalise_text(value)


def _load_persons(con, organisation, spill: Path) -> dict[str, tuple[str, str]]:
    """Load patients and staff; return {user_id: (label, service)} for the cases."""
    people = PersonRecord.objects.filter(organisation=organisation)
    patients, staff, labels = [], [], {}
    for row in people.values_list(
        "kind",
        "person_id",
        "last_name",
        "birth_name",
        "first_name",
        "address_key",
        "service",
        "schedule",
        "vip",
        "staff_id",
    ).iterator(chunk_size=5000):
        kind, pid, last, birth, first, address, service, schedule, vip, staff_id = row
        names = (_name(last), _name(birth))
        if kind == PersonRecord.Kind.PATIENT:
            patients.append((pid, *names, address, vip, staff_id))
        else:
            staff.append((pid, *names, address, service, schedule))
            labels[pid] = (f"{first} {last}".strip(), service)
    text = "VARCHAR"
    _load(
        con,
        "patients",
        [
            ("patient_id", text),
            ("last_n", text),
            ("birth_n", text),
            ("addr", text),
            ("vip", "BOOLEAN"),
            ("staff_id", text),
        ],
        patients,
        spill,
    )
    _load(
        con,
        "staff",
        [
            ("user_id", text),
            ("last_n", text),
            ("birth_n", text),
            ("addr", text),
            ("service", text),
            ("schedule", text),
        ],
        staff,
        spill,
    )
    return labels


ANALYSIS = """
-- The user's units: the unit of their service (staff file), and care-team memberships.
CREATE TEMP TABLE units AS
    SELECT user_id, service AS unit, TIMESTAMP '0001-01-01' AS s, TIMESTAMP '9999-01-01' AS e
    FROM staff WHERE service <> ''
    UNION ALL SELECT user_id, unit, s, e FROM teams;

-- Accesses explained by a stay in one of the user's units or by an appointment/order.
CREATE TEMP TABLE explained AS
    SELECT e.import_id, e.line FROM ev e
    JOIN stays s ON s.patient_id = e.patient_id AND e.ts >= s.s AND e.ts < s.e
    JOIN units u ON u.user_id = e.user_id AND u.unit = s.unit AND e.ts >= u.s AND e.ts < u.e
    UNION
    SELECT e.import_id, e.line FROM ev e
    JOIN links l ON l.patient_id = e.patient_id AND l.user_id = e.user_id
        AND e.day >= l.d0 AND e.day <= l.d1;

CREATE TEMP TABLE evx AS
    SELECT e.*, k.line IS NULL AS unexplained FROM ev e
    LEFT JOIN explained k ON k.import_id = e.import_id AND k.line = e.line;

-- Bulk browsing: many distinct unexplained patients in one clock hour or one day.
CREATE TEMP TABLE bulk_hours AS
    SELECT user_id, day, hour, count(DISTINCT patient_id) AS patients FROM evx
    WHERE unexplained GROUP BY user_id, day, hour
    HAVING count(DISTINCT patient_id) > {bulk_hour};
CREATE TEMP TABLE bulk_days AS
    SELECT user_id, day, count(DISTINCT patient_id) AS patients FROM evx
    WHERE unexplained GROUP BY user_id, day
    HAVING count(DISTINCT patient_id) > {bulk_day};

-- Break-the-glass reasons, with how many patients each user gave the same text for.
CREATE TEMP TABLE reasons AS
    SELECT user_id, reason_n, count(DISTINCT patient_id) AS patients,
        CASE
            WHEN reason_n = '' THEN 'empty'
            WHEN length(reason_n) < {reason_chars} THEN 'short'
            WHEN length(list_distinct(string_split(
                regexp_replace(reason_n, '[^[:alpha:]]', '', 'g'), ''))) < {reason_letters}
                THEN 'meaningless'
            WHEN count(DISTINCT patient_id) >= {reason_repeats} THEN 'repeated'
        END AS implausible
    FROM (SELECT user_id, patient_id, lower(trim(reason)) AS reason_n FROM evx WHERE break_glass)
    GROUP BY user_id, reason_n;

CREATE TEMP TABLE flagged AS
SELECT x.*, st.service,
    x.unexplained AS f_unexplained,
    coalesce(p.staff_id = x.user_id, false) AS f_self,
    coalesce(x.unexplained AND p.staff_id <> x.user_id AND (
        (st.last_n <> '' AND st.last_n IN (p.last_n, p.birth_n))
        OR (st.birth_n <> '' AND st.birth_n IN (p.last_n, p.birth_n))), false) AS f_same_name,
    coalesce(x.unexplained AND p.staff_id <> x.user_id AND st.addr <> ''
        AND st.addr = p.addr, false) AS f_same_address,
    coalesce(x.unexplained AND p.staff_id <> '' AND p.staff_id <> x.user_id, false)
        AS f_colleague,
    coalesce(x.unexplained AND p.vip, false) AS f_vip,
    coalesce(x.unexplained AND st.schedule = 'day'
        AND (x.hour >= {off_start} OR x.hour < {off_end}), false) AS f_off_hours,
    coalesce(x.break_glass AND r.implausible IS NOT NULL, false) AS f_break_glass,
    r.implausible AS reason_problem,
    coalesce(x.unexplained AND (bh.user_id IS NOT NULL OR bd.user_id IS NOT NULL), false)
        AS f_bulk,
    greatest(bh.patients, bd.patients) AS bulk_patients
FROM evx x
LEFT JOIN patients p ON p.patient_id = x.patient_id
LEFT JOIN staff st ON st.user_id = x.user_id
LEFT JOIN reasons r ON x.break_glass AND r.user_id = x.user_id
    AND r.reason_n = lower(trim(x.reason))
LEFT JOIN bulk_hours bh ON bh.user_id = x.user_id AND bh.day = x.day AND bh.hour = x.hour
LEFT JOIN bulk_days bd ON bd.user_id = x.user_id AND bd.day = x.day
WHERE x.unexplained OR p.staff_id = x.user_id
    OR (x.break_glass AND r.implausible IS NOT NULL);
"""

CASES = """
WITH pairs AS (
    SELECT user_id, patient_id, any_value(service) AS service, min(ts) AS first_at,
        max(ts) AS last_at, count(*) AS accesses,
        bool_or(f_unexplained) AS u, bool_or(f_same_name) AS n, bool_or(f_same_address) AS a,
        bool_or(f_colleague) AS c, bool_or(f_vip) AS v, bool_or(f_self) AS s,
        bool_or(f_bulk) AS b, bool_or(f_off_hours) AS o, bool_or(f_break_glass) AS g,
        list(DISTINCT reason_problem) FILTER (WHERE reason_problem IS NOT NULL) AS problems,
        max(bulk_patients) AS bulk_patients,
        count(*) FILTER (WHERE NOT unexplained) AS explained_accesses
    FROM flagged GROUP BY user_id, patient_id
), scored AS (
    SELECT *, least(100, {score_sql}) AS score FROM pairs
)
SELECT user_id, patient_id, service, first_at, last_at, accesses, u, n, a, c, v, s, b, o, g,
    problems, bulk_patients,
    (SELECT list([strftime(f.ts, '%Y-%m-%dT%H:%M:%SZ'), f.action, f.application, f.workstation,
            CASE WHEN f.break_glass THEN f.reason END] ORDER BY f.ts)[1:{events}]
     FROM flagged f WHERE f.user_id = scored.user_id AND f.patient_id = scored.patient_id),
    explained_accesses, (SELECT count(*) FROM scored) AS found
FROM (SELECT * FROM scored ORDER BY score DESC, accesses DESC, user_id, patient_id
      LIMIT {limit}) scored
"""

FIGURES = """
SELECT coalesce(st.service, '') AS service, count(*) AS events,
    count(*) FILTER (WHERE NOT x.unexplained) AS explained,
    count(DISTINCT x.user_id) AS users, count(DISTINCT x.patient_id) AS patients
FROM evx x LEFT JOIN staff st ON st.user_id = x.user_id GROUP BY 1 ORDER BY 1
"""


def _covered_runs(organisation, start: datetime, end: datetime):
    return ReviewRun.objects.filter(
        organisation=organisation, period_start__gte=start, period_end__lte=end
    )


def run_review(organisation, *, start: datetime, end: datetime, user=None) -> ReviewRun:
    """Analyse the organisation's imported accesses in [start, end); see the module docstring.

    Earlier runs whose period lies within [start, end) are replaced: their open cases go, the
    cases the DPO already decided stay (moved to the new run), and a (user, patient) pair
    already decided is not queued again unless it shows a new pattern or later accesses
    (decision 0834)."""
    began = clock.monotonic()
    spill = Path(settings.DATA_DIR) / "access" / "tmp"
    spill.mkdir(parents=True, exist_ok=True)
    con = store.connect()
    try:
        files = store.access_files(organisation)
        # A view takes no parameters: the bounds are timestamps we format ourselves.
        lo, hi = (_utc(moment).isoformat(" ") for moment in (start, end))
        con.execute(
            f"CREATE TEMP VIEW ev AS SELECT * FROM {store.read_access_sql(files)} "  # noqa: S608
            f"WHERE ts >= TIMESTAMP '{lo}' AND ts < TIMESTAMP '{hi}'"
        )
        timings = {}
        mark = clock.monotonic()
        _load_relations(con, organisation, start, end, spill)
        labels = _load_persons(con, organisation, spill)
        timings["load"] = round(clock.monotonic() - mark, 2)
        mark = clock.monotonic()
        con.execute(
            ANALYSIS.format(
                bulk_hour=BULK_PER_HOUR,
                bulk_day=BULK_PER_DAY,
                reason_chars=REASON_MIN_CHARS,
                reason_letters=REASON_MIN_LETTERS,
                reason_repeats=REASON_REPEATS,
                off_start=OFF_HOURS[0],
                off_end=OFF_HOURS[1],
            )
        )
        timings["analysis"] = round(clock.monotonic() - mark, 2)
        mark = clock.monotonic()
        letters = "unacvsbog"
        score_sql = " + ".join(
            f"CASE WHEN {letter} THEN {WEIGHTS[p]} ELSE 0 END"
            for letter, p in zip(letters, PATTERN_ORDER, strict=True)
        )
        cases = con.execute(
            CASES.format(events=EVIDENCE_EVENTS, score_sql=score_sql, limit=MAX_CASES)
        ).fetchall()
        services = con.execute(FIGURES).fetchall()
        timings["cases"] = round(clock.monotonic() - mark, 2)
    finally:
        con.close()
    return _record(organisation, start, end, user, cases, services, labels, began, timings)


def _record(organisation, start, end, user, rows, services, labels, began, timings):
    mark = clock.monotonic()
    figures = {
        "timings": timings,
        "services": {},
        "patterns": {p.value: 0 for p in Pattern},
        "thresholds": {
            "stay_before_hours": STAY_BEFORE.total_seconds() / 3600,
            "stay_after_hours": STAY_AFTER.total_seconds() / 3600,
            "link_days": LINK_DAYS,
            "bulk_per_hour": BULK_PER_HOUR,
            "bulk_per_day": BULK_PER_DAY,
            "off_hours": list(OFF_HOURS),
            "reason_min_chars": REASON_MIN_CHARS,
            "reason_repeats": REASON_REPEATS,
        },
        "weights": {p.value: w for p, w in WEIGHTS.items()},
    }
    figures["cases_found"] = 0
    figures["cases_limit"] = MAX_CASES
    total = explained = 0
    for service, events, n_explained, users, patients in services:
        figures["services"][service] = {
            "events": events,
            "explained": n_explained,
            "unexplained": events - n_explained,
            "users": users,
            "patients": patients,
            "cases": 0,
            "patterns": {},
        }
        total += events
        explained += n_explained
    cases = []
    for row in rows:
        (user_id, patient_id, service, first, last, count, *flags) = row[:15]
        reason_problems, bulk_patients, events, explained_events, found = row[15:]
        figures["cases_found"] = found
        patterns = [p.value for p, on in zip(PATTERN_ORDER, flags, strict=True) if on]
        if not patterns:
            continue
        evidence = {
            "accesses": [
                dict(zip(("at", "action", "application", "workstation", "reason"), e, strict=True))
                for e in events
            ],
            "explained_accesses": explained_events,
        }
        if reason_problems:
            evidence["break_glass_reason"] = sorted(reason_problems)
        if bulk_patients:
            evidence["bulk_patients"] = bulk_patients
        label, staff_service = labels.get(user_id, ("", ""))
        cases.append(
            ReviewCase(
                organisation=organisation,
                user_id=user_id,
                user_label=label[:200],
                service=(service or staff_service or "")[:160],
                patient_id=patient_id,
                patterns=patterns,
                score=score(patterns),
                first_at=first.replace(tzinfo=UTC),
                last_at=last.replace(tzinfo=UTC),
                accesses=count,
                evidence=evidence,
            )
        )
    with transaction.atomic():
        run = ReviewRun.objects.create(
            organisation=organisation,
            period_start=start,
            period_end=end,
            events=total,
            explained=explained,
            started_by=user if user is not None and user.is_authenticated else None,
        )
        decided = _carry_over(organisation, start, end, run)
        kept = []
        for case in cases:
            previous = decided.get((case.user_id, case.patient_id))
            if previous is not None and not _news(case, previous):
                continue
            if previous is not None:
                case.evidence["previous_case"] = previous.pk
            case.run = run
            kept.append(case)
        ReviewCase.objects.bulk_create(kept, batch_size=1000)
        for case in kept:
            bucket = figures["services"].setdefault(
                case.service,
                {"events": 0, "explained": 0, "unexplained": 0, "cases": 0, "patterns": {}},
            )
            bucket["cases"] += 1
            for p in case.patterns:
                bucket["patterns"][p] = bucket["patterns"].get(p, 0) + 1
                figures["patterns"][p] += 1
        run.flagged = len(kept)
        timings["record"] = round(clock.monotonic() - mark, 2)
        run.figures = figures
        run.seconds = round(clock.monotonic() - began, 3)
        run.save(update_fields=["flagged", "figures", "seconds"])
    record_event(
        "access.review.run",
        actor=user,
        target=run,
        organisation=organisation,
        details={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "events": run.events,
            "flagged": run.flagged,
            "seconds": run.seconds,
        },
    )
    return run


def _carry_over(organisation, start, end, run) -> dict:
    """Replace the runs the new one covers; return the decided cases by (user, patient)."""
    covered = _covered_runs(organisation, start, end).exclude(pk=run.pk)
    ReviewCase.objects.filter(run__in=covered, status=CaseStatus.OPEN).delete()
    ReviewCase.objects.filter(run__in=covered).update(run=run)
    covered.delete()
    decided = {}
    for case in ReviewCase.objects.filter(run=run).exclude(status=CaseStatus.OPEN):
        key = (case.user_id, case.patient_id)
        if key not in decided or case.last_at > decided[key].last_at:
            decided[key] = case
    return decided


def _news(case: ReviewCase, previous: ReviewCase) -> bool:
    """Whether a pair already decided shows something the decision did not cover."""
    return bool(set(case.patterns) - set(previous.patterns)) or case.last_at > previous.last_at
