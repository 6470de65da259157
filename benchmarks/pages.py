"""Server time and query count of the main pages as the staff directory grows.

    python benchmarks/pages.py [--staff 2000 20000 100000] [--runs 15]

For each size: a throw-away SQLite install (or the empty PostgreSQL database named by
HYGIE_DATABASE_URL) with the demo GHT, grown with extra staff spread over its establishments.
The demo RSSI (a GHT-level role) requests each page through Django's test client, in process,
so the figures are server time without network. The same staff query is also run without the
visibility filter, to give the cost of the choke point as a ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(data_dir: Path) -> None:
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("HYGIE_DEMO", "1")
    os.environ.setdefault("HYGIE_ALLOWED_HOSTS", "testserver")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import django

    django.setup()


def grow(total_staff: int) -> None:
    from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember

    establishments = list(
        Organisation.objects.filter(kind=Kind.ESTABLISHMENT, parent__kind=Kind.GHT)
    )
    missing = total_staff - StaffMember.objects.count()
    families = list(JobFamily.values)
    batch = []
    for index in range(max(missing, 0)):
        est = establishments[index % len(establishments)]
        batch.append(
            StaffMember(
                establishment=est,
                first_name="Agent",
                last_name=f"Bench{index:07d}",
                email=f"agent.{index}@bench.example",
                job_family=families[index % len(families)],
            )
        )
        if len(batch) == 5000:
            StaffMember.objects.bulk_create(batch)
            batch.clear()
    StaffMember.objects.bulk_create(batch)


def timed(function, runs: int) -> tuple[float, float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    function()  # warm-up (template loading, caches)
    samples = []
    reset_queries()  # each request also resets the log; start the capture from an empty one
    with CaptureQueriesContext(connection) as queries:
        function()
    query_count = len(queries)  # read now: later requests reset the log it is sliced from
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return statistics.median(samples), p95, query_count


def measure(size: int, runs: int) -> list[tuple]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from hygie.accounts.middleware import SESSION_AUTH_AT, SESSION_MFA
    from hygie.orgs.demo import load_demo
    from hygie.orgs.models import Kind, Organisation, StaffMember
    from hygie.orgs.roles import VIEW

    load_demo()
    grow(size)
    ght = Organisation.objects.get(kind=Kind.GHT, code="GHT-DEMO-HDF")
    rssi = get_user_model().objects.get(username="rssi")
    client = Client()
    client.force_login(rssi)
    session = client.session
    session[SESSION_AUTH_AT] = time.time()
    session[SESSION_MFA] = True
    session.save()

    def get(url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            if response.streaming:
                b"".join(response.streaming_content)

        return call

    pages = [
        ("tableau de bord du GHT", f"/organisations/{ght.pk}/"),
        ("liste des personnels (page 1)", f"/organisations/{ght.pk}/personnels/"),
        ("liste filtrée (recherche « bench1 »)", f"/organisations/{ght.pk}/personnels/?q=bench1"),
        ("liste : dernière page", f"/organisations/{ght.pk}/personnels/?page=last"),
        ("API staff : 100 lignes", "/api/v1/staff/?limit=100&offset=1000"),
        ("journal de sécurité", "/journal/"),
    ]
    rows = []
    for label, url in pages:
        median, p95, queries = timed(get(url), runs)
        rows.append((size, label, median, p95, queries))
    export_median, _, export_queries = timed(
        get(f"/organisations/{ght.pk}/personnels/export.csv"), 3
    )
    rows.append(
        (
            size,
            f"export CSV complet ({StaffMember.objects.count()} lignes)",
            export_median,
            None,
            export_queries,
        )
    )

    # The visibility choke point against the same query written without it.
    def with_filter():
        list(
            StaffMember.objects.visible_to(rssi, VIEW)
            .filter(establishment__path__startswith=ght.path)
            .order_by("last_name")[:50]
        )

    def without_filter():
        list(
            StaffMember.objects.filter(establishment__path__startswith=ght.path).order_by(
                "last_name"
            )[:50]
        )

    filtered, _, _ = timed(with_filter, runs)
    plain, _, _ = timed(without_filter, runs)
    rows.append(
        (size, "choke point / même requête sans filtre (ratio)", filtered / plain, None, None)
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, nargs="+", default=[2000, 20000, 100000])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # one size, in a child process
    args = parser.parse_args()
    if args.size:
        data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-pages-"))
        setup_django(data_dir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        for size, label, median, p95, queries in measure(args.size, args.runs):
            p95_text = f"{p95:.1f}" if p95 is not None else "—"
            queries_text = str(queries) if queries is not None else "—"
            unit = "" if "ratio" in label else " ms"
            print(
                f"| {size:,} | {label} | {median:.2f}{unit} | {p95_text} | {queries_text} |".replace(
                    ",", " "
                )
            )
        return
    print("| personnels | page | médiane | p95 (ms) | requêtes SQL |")
    print("|---|---|---|---|---|")
    import subprocess

    for size in args.staff:
        subprocess.run(
            [sys.executable, __file__, "--size", str(size), "--runs", str(args.runs)], check=True
        )


if __name__ == "__main__":
    main()
