"""Access-log review at scale: N million access events analysed by `run_review`.

`python benchmarks/access_review_engine.py --events 10000000` (events written straight to
Parquet; `benchmarks/access_review.py` runs the whole path: generate, import, review, score)

1. A fresh SQLite database and data directory under a temporary folder, migrated.
2. One establishment with `--staff` people in 40 units (the staff file's service), `--patients`
   patients each staying the whole month in one unit, care teams, appointments and orders
   (written with bulk_create, as the ingestion would), a few VIP and staff patients.
3. `--events` access events over March 2024 written straight to the import's Parquet file by
   DuckDB (the layout `import_file` writes): 90 % of accesses are to a patient of the user's
   unit (explained), 10 % to any patient. `--ingest-lines` more lines go through
   `import_file` as CSV to measure the ingestion itself.
4. Figures: Parquet size, ingestion lines/s, `run_review` wall time, events, explained, cases.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--staff", type=int, default=4_000)
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--ingest-lines", type=int, default=200_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hygie-review-bench-"))
    os.environ.update(
        HYGIE_DATA_DIR=str(work / "data"),
        HYGIE_DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
        HYGIE_DEBUG="1",
        DJANGO_SETTINGS_MODULE="hygie.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from datetime import UTC, datetime

    from hygie.access.models import CareRelation, LogKind, PersonRecord, ReviewImport
    from hygie.access.review import store
    from hygie.access.review.engine import run_review
    from hygie.access.review.ingest import import_file
    from hygie.orgs.models import Kind, Organisation

    org = Organisation.objects.create(kind=Kind.ESTABLISHMENT, name="CHU Bench")
    units = 40
    month = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
    began = time.monotonic()
    PersonRecord.objects.bulk_create(
        [
            PersonRecord(
                organisation=org,
                kind="staff",
                person_id=f"u{u}",
                last_name=f"Nom{u % 997}",
                service=f"Unit {u % units}",
                schedule=("day", "night", "any")[u % 3],
                address_key=f"{u:064x}",
            )
            for u in range(args.staff)
        ],
        batch_size=5000,
    )
    PersonRecord.objects.bulk_create(
        [
            PersonRecord(
                organisation=org,
                kind="patient",
                person_id=f"p{p}",
                last_name=f"Nom{p % 1999}",
                vip=p % 5000 == 0,
                staff_id=f"u{p % args.staff}" if p % 997 == 0 else "",
                address_key=f"{p + 7:064x}",
            )
            for p in range(args.patients)
        ],
        batch_size=5000,
    )
    relations = [
        CareRelation(
            organisation=org,
            kind="stay",
            patient_id=f"p{p}",
            unit=f"Unit {p % units}",
            starts_at=month[0],
            ends_at=month[1],
        )
        for p in range(args.patients)
    ]
    relations += [
        CareRelation(
            organisation=org,
            kind="team",
            user_id=f"u{u}",
            unit=f"Unit {(u + 1) % units}",
            starts_at=month[0],
        )
        for u in range(0, args.staff, 4)
    ]
    relations += [
        CareRelation(
            organisation=org,
            kind="appointment" if k % 2 else "order",
            patient_id=f"p{(k * 7919) % args.patients}",
            user_id=f"u{k % args.staff}",
            starts_at=datetime(2024, 3, 1 + k % 31, 9, tzinfo=UTC),
        )
        for k in range(100_000)
    ]
    CareRelation.objects.bulk_create(relations, batch_size=5000)
    print(f"reference data: {len(relations):,} relations in {time.monotonic() - began:.1f} s")

    imp = ReviewImport.objects.create(organisation=org, kind=LogKind.ACCESS, filename="bench")
    path = store.access_path(imp)
    path.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    con = store.connect()
    per_unit = args.patients // units
    con.execute(
        f"""
        COPY (
          WITH r AS (
            SELECT i AS line, (hash(i) % {args.staff})::BIGINT AS u,
              TIMESTAMP '2024-03-01' + to_microseconds((hash(i * 3) % 2678400000000)::BIGINT) AS ts,
              hash(i * 5) % 10 AS dice, (hash(i * 7) % {args.patients})::BIGINT AS anyp,
              (hash(i * 11) % {per_unit})::BIGINT AS k
            FROM range({args.events}) t(i)
          )
          SELECT line, ts, CAST(ts + INTERVAL 1 HOUR AS DATE) AS day,
            hour(ts + INTERVAL 1 HOUR)::TINYINT AS hour, 'u' || u AS user_id,
            'p' || CASE WHEN dice < 9 THEN k * {units} + u % {units} ELSE anyp END AS patient_id,
            'read' AS action, 'DPI' AS application, 'PC-' || (u % 500) AS workstation,
            line % 20000 = 0 AS break_glass,
            CASE WHEN line % 20000 = 0 THEN 'test' ELSE '' END AS reason
          FROM r
        ) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
        """  # noqa: S608 - generated numbers and our own path
    )
    con.close()
    print(
        f"events: {args.events:,} written in {time.monotonic() - began:.1f} s, "
        f"{path.stat().st_size / 1e6:.0f} MB of Parquet"
    )

    if args.ingest_lines:
        csv_path = work / "access.csv"
        with open(csv_path, "w") as handle:
            handle.write(
                "timestamp;user_id;patient_id;action;application;workstation;break_glass;reason\n"
            )
            for n in range(args.ingest_lines):
                handle.write(
                    f"2024-03-{1 + n % 28:02}T{n % 24:02}:{n % 60:02}:00+01:00;u{n % args.staff};"
                    f"p{n % args.patients};read;DPI;PC-{n % 500};0;\n"
                )
        began = time.monotonic()
        ingested = import_file(org, LogKind.ACCESS, "access.csv", csv_path)
        seconds = time.monotonic() - began
        print(
            f"ingestion: {ingested.lines:,} CSV lines in {seconds:.1f} s "
            f"({ingested.lines / seconds:,.0f} lines/s), {ingested.rejected} rejected"
        )

    began = time.monotonic()
    run = run_review(org, start=datetime(2024, 3, 1, tzinfo=UTC), end=month[1])
    seconds = time.monotonic() - began
    print(
        f"run_review: {run.events:,} events in {seconds:.1f} s "
        f"(engine {run.seconds:.1f} s), {run.explained:,} explained "
        f"({run.explained / max(run.events, 1):.1%}), {run.flagged:,} cases; "
        f"patterns {dict(sorted(run.figures['patterns'].items()))}; "
        f"timings {run.figures['timings']}"
    )


if __name__ == "__main__":
    main()
