"""Awareness tracking at scale: assignment time and the progress dashboard's server time.

    python benchmarks/awareness.py [--learners 20000] [--modules 10] [--runs 5]
                                   [--databases sqlite postgresql]

For each database (SQLite in a temporary directory; PostgreSQL as a throw-away cluster, started
and stopped as benchmarks/governance.py does), in a child process with production settings:

1. `--learners` staff members in one establishment, 200 services on 4 sites (bulk_create).
2. Assignment through `hygie.awareness.services.assign`, timed: an annual campaign of one
   module (one assignment per person), then one of `--modules` modules (learners × modules).
3. Progress: every assignment of the second campaign passed, spread over the last twelve
   months (200,000 completions with the defaults); the first campaign overdue, a quarter in
   progress, a quarter failed, half not started.
   The progress tally is then rebuilt from the assignments (timed), since raw updates bypass
   the learner functions that maintain it.
4. The progress dashboard (`awareness:progress`) for the establishment's RSSI (every group and
   the overdue list) and for a regional analyst (aggregate), and the HR CSV export, through
   Django's test client in process: median of `--runs` runs after a warm-up, and query counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from governance import client_for, start_postgres, stop_postgres, timed  # noqa: E402

SERVICES = 200
SITES = 4


def build(learners: int, modules: int) -> tuple[dict, dict]:
    from django.db import connection
    from django.utils import timezone

    from hygie.awareness import services, tally
    from hygie.awareness.models import Campaign, CampaignKind, CampaignStatus, Module
    from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember

    region = Organisation.objects.filter(kind=Kind.REGION).first()
    ght = Organisation.objects.create(kind=Kind.GHT, parent=region, name="GHT Bench")
    est = Organisation.objects.create(
        kind=Kind.ESTABLISHMENT, parent=ght, name="CHU Bench", finess_ej="590000017"
    )
    sites = [
        Organisation.objects.create(kind=Kind.SITE, parent=est, name=f"Site {n}")
        for n in range(SITES)
    ]
    units = [
        Organisation.objects.create(kind=Kind.SERVICE, parent=sites[n % SITES], name=f"Service {n}")
        for n in range(SERVICES)
    ]
    families = [choice for choice, _label in JobFamily.choices]
    timings: dict = {}
    started = time.perf_counter()
    StaffMember.objects.bulk_create(
        (
            StaffMember(
                establishment=est,
                service=units[i % SERVICES],
                site=sites[i % SERVICES % SITES],
                first_name="Agent",
                last_name=f"N{i:06d}",
                email=f"agent{i}@bench.example",
                job_family=families[i % len(families)],
                arrival_date=dt.date(2020, 1, 1) + dt.timedelta(days=i % 1500),
            )  # fmt: skip
            for i in range(learners)
        ),
        batch_size=5000,
    )
    timings["personnels"] = time.perf_counter() - started
    catalogue = [
        Module.objects.create(
            slug=f"module-{n}",
            title=f"Module {n}",
            digest=f"{n:064d}",
            pass_mark=80,
            content={"steps": []},
        )  # fmt: skip
        for n in range(modules)
    ]
    today = timezone.localdate()

    def campaign(name, chosen, due):
        created = Campaign.objects.create(
            organisation=est, name=name, kind=CampaignKind.ANNUAL, status=CampaignStatus.OPEN,
            opened_at=timezone.now(), due_date=due,
        )  # fmt: skip
        created.modules.set(chosen)
        return created

    overdue = campaign("Rappel", catalogue[:1], today - dt.timedelta(days=10))
    started = time.perf_counter()
    counts = {"one": services.assign_to_staff(
        StaffMember.objects.all(), overdue.modules.all(), organisation=est,
        due_date=overdue.due_date, campaign=overdue,
    )}  # fmt: skip
    timings[f"attribution 1 module ({counts['one']})"] = time.perf_counter() - started
    annual = campaign("CaRE", catalogue, today + dt.timedelta(days=60))
    started = time.perf_counter()
    counts["many"] = services.assign_to_staff(
        StaffMember.objects.all(), annual.modules.all(), organisation=est,
        due_date=annual.due_date, campaign=annual,
    )  # fmt: skip
    timings[f"attribution {modules} modules ({counts['many']})"] = time.perf_counter() - started

    started = time.perf_counter()
    now = timezone.now()
    with connection.cursor() as cursor:
        for month in range(12):
            cursor.execute(
                "UPDATE awareness_assignment SET state = %s, completed_at = %s, started_at = %s, "
                "best_score = %s, attempts = 1 WHERE campaign_id = %s AND id %% 12 = %s",
                ["passed", now - dt.timedelta(days=30 * month), now - dt.timedelta(days=30 * month),
                 80 + month, annual.pk, month],
            )  # fmt: skip
        cursor.execute(
            "UPDATE awareness_assignment SET state = %s, started_at = %s WHERE campaign_id = %s "
            "AND id %% 4 = 1",
            ["incomplete", now, overdue.pk],
        )
        cursor.execute(
            "UPDATE awareness_assignment SET state = %s, best_score = 40, attempts = 1 "
            "WHERE campaign_id = %s AND id %% 4 = 2",
            ["failed", overdue.pk],
        )
    timings["états"] = time.perf_counter() - started
    # The raw updates above bypass the learner functions that keep the progress tally: rebuild
    # it from the assignments, as housekeeping would (one grouped read of 220,000 rows).
    started = time.perf_counter()
    tally.rebuild(est)
    timings["reconstruction du décompte"] = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"est": est, "region": region}, timings


def measure(learners: int, modules: int, runs: int, database: str) -> list[tuple]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from hygie.awareness.models import Assignment
    from hygie.orgs.models import Membership
    from hygie.orgs.roles import Role

    nodes, timings = build(learners, modules)
    done = Assignment.objects.filter(state__in=["completed", "passed"]).count()
    print(
        f"<!-- {database}: {learners} personnes, {done} modules terminés; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        + " -->",
        flush=True,
    )
    users = get_user_model().objects
    rssi = users.create_user(
        "rssi-bench", email="rssi@bench.example", password=secrets.token_urlsafe(16)
    )
    Membership.objects.create(user=rssi, organisation=nodes["est"], role=Role.RSSI)
    analyst = users.create_user(
        "analyste-bench", email="analyste@bench.example", password=secrets.token_urlsafe(16)
    )
    Membership.objects.create(
        user=analyst, organisation=nodes["region"], role=Role.REGIONAL_ANALYST
    )
    rows = [
        (database, "attribution", label, f"{value:.1f} s", "")
        for label, value in timings.items()
        if label.startswith(("attribution", "reconstruction"))
    ]
    from hygie.awareness.models import ProgressTally

    print(f"<!-- {database}: {ProgressTally.objects.count()} lignes de décompte -->", flush=True)
    pages = [
        ("tableau de bord (RSSI, établissement)", rssi, reverse("awareness:progress", args=[nodes["est"].pk])),
        ("tableau de bord (analyste régional, vue agrégée)", analyst, reverse("awareness:progress", args=[nodes["est"].pk])),
    ]  # fmt: skip
    for label, user, url in pages:
        median, count = timed(client_for(user), url, runs)
        rows.append((database, f"{learners} / {done}", label, f"{median:.0f} ms", count))
    from hygie.awareness import services

    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        services.dashboard(nodes["est"], nominative=True)
        samples.append((time.perf_counter() - started) * 1000)
    rows.insert(
        len(rows) - 1,
        (database, f"{learners} / {done}", "dont calcul des chiffres (`services.dashboard`)",
         f"{statistics.median(samples):.0f} ms", ""),
    )  # fmt: skip
    client = client_for(rssi)
    url = reverse("awareness:progress_csv", args=[nodes["est"].pk])
    samples = []
    for _ in range(max(2, runs // 2)):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            size = sum(len(chunk) for chunk in response.streaming_content)
            samples.append((time.perf_counter() - started) * 1000)
    rows.append(
        (database, f"{learners} / {done}", f"export CSV RH ({size // 1024} Kio)",
         f"{statistics.median(samples):.0f} ms", len(queries))
    )  # fmt: skip
    return rows


def child(learners: int, modules: int, runs: int, database: str) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-aw-"))
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("HYGIE_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HYGIE_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import warnings

    import django

    try:
        django.setup()
        from django.core.management import call_command

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at")
            call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        for row in measure(learners, modules, runs, database):
            print("| " + " | ".join(str(cell) for cell in row) + " |", flush=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--modules", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.learners, args.modules, args.runs, args.child)
        return
    print(f"<!-- {os.cpu_count()} CPU, Python {sys.version.split()[0]} -->")
    print("| base | personnes / terminés | mesure | médiane | requêtes SQL |")
    print("|---|---|---|---|---|")
    command = [
        sys.executable, __file__, "--learners", str(args.learners), "--modules",
        str(args.modules), "--runs", str(args.runs),
    ]  # fmt: skip
    for database in args.databases:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYGIE_")}
        if database == "sqlite":
            subprocess.run([*command, "--child", database], check=True, env=env)
            continue
        url, pg_dir, pg_bin = start_postgres()
        try:
            env["HYGIE_DATABASE_URL"] = url
            subprocess.run([*command, "--child", database], check=True, env=env)
        finally:
            stop_postgres(pg_dir, pg_bin)


if __name__ == "__main__":
    main()
