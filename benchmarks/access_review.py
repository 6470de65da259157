"""Access-log review at scale: generate, import and review 10 million events.

    python benchmarks/access_review.py [--events 10000000] [--staff 5000] [--patients 200000]
                                       [--seed 1] [--keep DIR]

1. Generate (hygie.access.review.synthetic.generate): a hospital of `--staff` people and
   `--patients` patients over 28 days, `--events` access events (CSV, streamed hour by hour),
   with stays, orders, appointments, care teams and the planted misuse (truth.json).
2. Import every file (hygie.access.review.ingest.import_file) into a fresh SQLite database,
   in a temporary data directory (production settings).
3. Review the period (hygie.access.review.engine.run_review) and score the run against the
   planted truth (hygie.access.review.quality.score): precision and recall overall and per
   pattern. Target: the review of 10 million events within 60 s on this machine.

Each phase is timed with wall-clock time; the figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--staff", type=int, default=5_000)
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()

    from hygie.access.review import synthetic

    files = args.keep or Path(tempfile.mkdtemp(prefix="hygie-bench-review-files-"))
    data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-review-"))
    try:
        started = time.perf_counter()
        truth = synthetic.generate(
            files, staff=args.staff, patients=args.patients, events=args.events, seed=args.seed
        )
        generate_s = time.perf_counter() - started
        size = sum((files / name).stat().st_size for name in truth.files.values())
        print(
            f"generate: {truth.events:,} events, {len(truth.cases)} planted cases, "
            f"{size / 1e6:,.0f} MB in {generate_s:.1f} s "
            f"({truth.events / generate_s:,.0f} events/s)",
            flush=True,
        )
        review(files, truth, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(files, ignore_errors=True)


def review(files: Path, truth, data_dir: Path) -> None:
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("HYGIE_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HYGIE_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import warnings

    import django

    django.setup()
    from django.core.management import call_command

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No directory at")
        call_command("migrate", verbosity=0)
    from hygie.access.review import engine, ingest, quality
    from hygie.orgs.models import Category, Kind, Organisation

    region = Organisation.objects.filter(kind=Kind.REGION).first()
    ght = Organisation.objects.create(kind=Kind.GHT, parent=region, name="GHT Bench")
    est = Organisation.objects.create(
        kind=Kind.ESTABLISHMENT,
        parent=ght,
        name="CHU Bench",
        finess_ej="590000017",
        category=Category.CH,
    )
    started = time.perf_counter()
    order = ["staff", "patients", "care_teams", "stays", "appointments", "orders", "access"]
    for kind in order:
        phase = time.perf_counter()
        with open(files / truth.files[kind], "rb") as handle:
            imported = ingest.import_file(est, kind, truth.files[kind], handle)
        print(
            f"  import {kind}: {imported.lines:,} lines, {imported.rejected} rejected, "
            f"{time.perf_counter() - phase:.1f} s",
            flush=True,
        )
    print(f"import: {time.perf_counter() - started:.1f} s", flush=True)
    start, end = truth.period
    started = time.perf_counter()
    run = engine.run_review(est, start=start, end=end)
    review_s = time.perf_counter() - started
    print(
        f"review: {run.events:,} events, {run.explained:,} explained, {run.flagged} cases "
        f"in {review_s:.1f} s",
        flush=True,
    )
    print(quality.report(quality.score(run, truth)))


if __name__ == "__main__":
    main()
