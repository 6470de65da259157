"""Server time and query count of the consolidated dashboards at national scale.

    python benchmarks/governance.py [--establishments 300 3000] [--runs 7]
                                    [--databases sqlite postgresql]

For each database: a throw-away install (SQLite in a temporary directory; PostgreSQL as a
throw-away cluster on 127.0.0.1, started and stopped like scripts/test does) filled with a
generated data set: establishments in GHTs of 20 across the 18 regions, a 200-measure framework
written in CISO Assistant's library format and imported through the normal loader, and three
yearly campaigns per establishment with every answer (bulk_create) and their theme scores
(computed with `hygie.assessments.services.tally`, the function the application itself uses).

The data set grows through the sizes given (300 then 3,000 establishments) in the same
database; at each size the national and regional dashboards are requested through Django's test
client, in process (server time, no network): median of `--runs` runs after a warm-up, and the
number of SQL queries, which must be the same at every size.

Hook: the 200-measure assessment page (`/campagnes/<id>/`) is measured the same way when that
URL exists; otherwise the table says it is not there yet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

THEMES = 10
MEASURES_PER_THEME = 20
PRIORITY_PER_THEME = 4  # weight 3: 40 priority measures
GHT_SIZE = 20
CAMPAIGN_YEARS = (2, 1, 0)  # campaigns started 2 years ago, 1 year ago, 1 month ago
FRAMEWORK_URN = "urn:hygie-bench:risk:framework:national"


# Data set ---------------------------------------------------------------------------------------
def framework_yaml() -> bytes:
    """A 200-measure framework in CISO Assistant's library format."""
    import yaml

    nodes = []
    for theme in range(1, THEMES + 1):
        theme_urn = f"urn:hygie-bench:risk:req_node:national:t{theme}"
        nodes.append(
            {
                "urn": theme_urn,
                "assessable": False,
                "depth": 1,
                "ref_id": f"T{theme}",
                "name": f"Thème {theme}",
            }
        )
        for measure in range(1, MEASURES_PER_THEME + 1):
            nodes.append(
                {
                    "urn": f"{theme_urn}.{measure}",
                    "assessable": True,
                    "depth": 2,
                    "parent_urn": theme_urn,
                    "ref_id": f"T{theme}.{measure}",
                    "name": f"Mesure {measure} du thème {theme}",
                    "description": "Mesure générée pour le banc d'essai.",
                    "implementation_groups": ["S"] if measure % 3 else ["S", "R"],
                    "weight": 3 if measure <= PRIORITY_PER_THEME else 1,
                }
            )
    library = {
        "urn": "urn:hygie-bench:risk:library:national",
        "locale": "fr",
        "ref_id": "BENCH",
        "name": "Référentiel du banc d'essai",
        "description": "200 mesures en 10 thèmes.",
        "copyright": "Hygie contributors",
        "version": 1,
        "publication_date": "2026-01-01",
        "provider": "Hygie",
        "packager": "hygie-bench",
        "objects": {
            "framework": {
                "urn": FRAMEWORK_URN,
                "ref_id": "BENCH",
                "name": "Référentiel du banc d'essai",
                "min_score": 0,
                "max_score": 5,
                "implementation_groups_definition": [
                    {"ref_id": "S", "name": "Standard"},
                    {"ref_id": "R", "name": "Renforcé"},
                ],
                "requirement_nodes": nodes,
            }
        },
    }
    return yaml.safe_dump(library, allow_unicode=True, sort_keys=False).encode()


def load_framework():
    from hygie.frameworks.models import Framework
    from hygie.frameworks.services import import_library

    existing = Framework.objects.filter(urn=FRAMEWORK_URN).first()
    return existing or import_library(framework_yaml()).framework


def grow(total: int, framework) -> dict[str, float]:
    """Add establishments (with their GHTs, campaigns, answers, theme scores) up to `total`."""
    from django.db import connection, transaction

    from hygie.assessments.models import Answer, Campaign, CampaignStatus, Result, ThemeScore
    from hygie.assessments.services import tally
    from hygie.orgs.finess import luhn_key
    from hygie.orgs.models import Category, Kind, Organisation

    timings = {}
    started = time.perf_counter()
    regions = list(Organisation.objects.filter(kind=Kind.REGION).order_by("code"))
    existing = Organisation.objects.filter(kind=Kind.ESTABLISHMENT).count()
    measures = list(
        framework.nodes.filter(assessable=True)
        .order_by("order")
        .values_list("pk", "theme_id", "weight")
    )
    ghts = {ght.code: ght for ght in Organisation.objects.filter(kind=Kind.GHT)}
    categories = [Category.CH, Category.CH, Category.CH, Category.CHS, Category.CHU, Category.EHPAD]
    today = dt.date.today()
    new = []
    with transaction.atomic():
        for index in range(existing, total):
            region = regions[index % len(regions)]
            code = f"GHT-{region.code}-{(index // len(regions)) // GHT_SIZE + 1:02d}"
            if code not in ghts:
                ghts[code] = Organisation.objects.create(
                    kind=Kind.GHT, parent=region, name=f"GHT {code[4:]}", code=code
                )
            body = f"{index + 10_000_000:08d}"
            new.append(
                Organisation.objects.create(
                    kind=Kind.ESTABLISHMENT,
                    parent=ghts[code],
                    name=f"Établissement {index + 1:05d}",
                    finess_ej=body + luhn_key(body),
                    category=categories[index % len(categories)],
                )
            )
    timings["organisations"] = time.perf_counter() - started

    started = time.perf_counter()
    results = [Result.COMPLIANT, Result.PARTIAL, Result.NON_COMPLIANT, Result.NOT_APPLICABLE]
    answers_written = 0
    for chunk_start in range(0, len(new), 50):
        chunk = new[chunk_start : chunk_start + 50]
        with transaction.atomic():
            campaigns, planned = [], []
            for est in chunk:
                rng = random.Random(est.pk)
                level = rng.uniform(0.2, 0.9)  # this establishment's maturity
                for years_ago in CAMPAIGN_YEARS:
                    level = min(level + 0.05, 0.95)
                    rows = []
                    for node_id, theme_id, weight in measures:
                        draw = rng.random()
                        result = (
                            results[3]
                            if draw < 0.03
                            else results[0]
                            if draw < level
                            else results[1]
                            if draw < level + 0.15
                            else results[2]
                        )
                        rows.append((node_id, theme_id, weight, result, rng.randint(0, 5)))
                    overall, themes = tally((t, w, r, m) for _n, t, w, r, m in rows)
                    starts_on = today - dt.timedelta(days=365 * years_ago + 30)
                    campaigns.append(
                        Campaign(
                            organisation=est,
                            framework=framework,
                            name=f"Campagne {starts_on:%Y}",
                            starts_on=starts_on,
                            due_on=starts_on + dt.timedelta(days=90),
                            status=CampaignStatus.CLOSED if years_ago else CampaignStatus.OPEN,
                            score=overall.score,
                            maturity=overall.maturity,
                            progress=100.0,
                        )
                    )
                    planned.append((rows, themes))
            Campaign.objects.bulk_create(campaigns)
            answers, scores = [], []
            for campaign, (rows, themes) in zip(campaigns, planned, strict=True):
                answers.extend(
                    Answer(campaign=campaign, node_id=node_id, result=result, maturity=maturity)
                    for node_id, _theme, _weight, result, maturity in rows
                )
                scores.extend(
                    ThemeScore(
                        campaign=campaign,
                        theme_id=theme_id,
                        score=theme.score,
                        maturity=theme.maturity,
                        assessed=theme.assessed,
                        applicable=theme.applicable,
                        total=theme.total,
                    )
                    for theme_id, theme in themes.items()
                )
            Answer.objects.bulk_create(answers, batch_size=2000)
            ThemeScore.objects.bulk_create(scores, batch_size=2000)
            answers_written += len(answers)
    timings["campagnes et réponses"] = time.perf_counter() - started
    timings["réponses écrites"] = answers_written
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum would have them after such a load: without
        # them PostgreSQL plans for empty tables and the dashboards take 10× longer.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        timings["ANALYZE"] = time.perf_counter() - started
    return timings


# Measurement ------------------------------------------------------------------------------------
def client_for(user):
    from django.test import Client

    from hygie.accounts.middleware import SESSION_AUTH_AT, SESSION_MFA

    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_AUTH_AT] = time.time()
    session[SESSION_MFA] = True
    session.save()
    return client


def timed(client, url: str, runs: int) -> tuple[float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    def call():
        response = client.get(url, secure=True)  # production settings redirect to HTTPS
        assert response.status_code == 200, (url, response.status_code)

    call()  # warm-up (templates, caches)
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        call()
    count = len(queries)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), count


def people():
    from django.contrib.auth import get_user_model

    from hygie.orgs.models import Kind, Membership, Organisation
    from hygie.orgs.roles import Role

    users = get_user_model().objects
    national = Organisation.objects.get(kind=Kind.NATIONAL)
    region = Organisation.objects.filter(kind=Kind.REGION).order_by("code").first()
    analyst_fr = users.filter(username="bench-national").first()
    if analyst_fr is None:
        analyst_fr = users.create_user("bench-national", email="national@bench.example")
        Membership.objects.create(
            user=analyst_fr, organisation=national, role=Role.NATIONAL_ANALYST
        )
        analyst_region = users.create_user("bench-region", email="region@bench.example")
        Membership.objects.create(
            user=analyst_region, organisation=region, role=Role.REGIONAL_ANALYST
        )
        users.create_user("bench-admin", email="admin@bench.example", is_superuser=True)
    return (
        national,
        region,
        users.get(username="bench-national"),
        users.get(username="bench-region"),
        users.get(username="bench-admin"),
    )


def measure(size: int, runs: int, framework, database: str) -> list[tuple]:
    from django.urls import Resolver404, resolve

    from hygie.assessments.models import Campaign
    from hygie.dashboards.services import build_dashboard

    national, region, analyst_fr, analyst_region, admin = people()
    query = f"?referentiel={framework.pk}"
    rows = []

    def page(label: str, client, url: str) -> None:
        median, count = timed(client, url, runs)
        rows.append((database, size, label, f"{median:.0f} ms", count))

    page(
        "tableau de bord national",
        client_for(analyst_fr),
        f"/organisations/{national.pk}/tableau-de-bord/{query}",
    )
    # The figures alone (no template, no layout), to tell them from the page around them.
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        build_dashboard(national, framework)
        samples.append((time.perf_counter() - started) * 1000)
    median = statistics.median(samples)
    rows.append((database, size, "dont calcul des chiffres", f"{median:.0f} ms", ""))
    page(
        f"tableau de bord régional ({region})",
        client_for(analyst_region),
        f"/organisations/{region.pk}/tableau-de-bord/{query}",
    )
    page(
        "téléchargement XLSX (adoption, national)",
        client_for(analyst_fr),
        f"/organisations/{national.pk}/tableau-de-bord/{query}&format=xlsx&chart=adoption",
    )
    # Hook: the assessment page of one campaign (200 measures), once the lead's page exists.
    campaign = Campaign.objects.filter(framework=framework).order_by("-starts_on", "pk").first()
    path = f"/campagnes/{campaign.pk}/"
    try:
        resolve(path)
    except Resolver404:
        rows.append((database, size, "page d'évaluation (200 mesures)", "page absente", "—"))
    else:
        page("page d'évaluation (200 mesures)", client_for(admin), path)
    return rows


# Processes --------------------------------------------------------------------------------------
def child(sizes: list[int], runs: int, database: str) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-gov-"))
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("HYGIE_ALLOWED_HOSTS", "testserver")
    # Production-like settings (DEBUG off), with throw-away keys.
    os.environ.setdefault("HYGIE_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import warnings

    import django

    try:
        django.setup()
        from django.core.management import call_command

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at")  # collected just below
            call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        framework = load_framework()
        for size in sizes:
            timings = grow(size, framework)
            print(
                f"<!-- {database} {size}: "
                + ", ".join(
                    f"{k} {v:.1f} s" if isinstance(v, float) else f"{k} {v}"
                    for k, v in timings.items()
                )
                + " -->",
                flush=True,
            )
            for row in measure(size, runs, framework, database):
                print("| " + " | ".join(str(cell) for cell in row) + " |", flush=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def as_postgres(*command: str, **kwargs):
    if os.getuid() == 0:
        command = ("runuser", "-u", "postgres", "--", *command)
    return subprocess.run(command, check=True, cwd="/", **kwargs)


def start_postgres() -> tuple[str, Path, Path]:
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    pg_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-pg-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = os.urandom(12).hex()
    (pg_dir / "pwfile").write_text(password + "\n")
    if os.getuid() == 0:
        shutil.chown(pg_dir, "postgres")
        shutil.chown(pg_dir / "pwfile", "postgres")
    as_postgres(
        str(pg_bin / "initdb"), "-D", str(pg_dir / "data"), "-U", "hygie",
        f"--pwfile={pg_dir / 'pwfile'}", "--auth=scram-sha-256", "--encoding=UTF8",
        "--locale=C.UTF-8", stdout=subprocess.DEVNULL,
    )  # fmt: skip
    as_postgres(
        str(pg_bin / "pg_ctl"), "-D", str(pg_dir / "data"), "-l", str(pg_dir / "server.log"),
        "-w", "-o",
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={pg_dir} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        "start", stdout=subprocess.DEVNULL,
    )  # fmt: skip
    subprocess.run(
        [str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "hygie", "hygie"],
        check=True,
        env={**os.environ, "PGPASSWORD": password},
    )
    return f"postgres://hygie:{password}@127.0.0.1:{port}/hygie", pg_dir, pg_bin


def stop_postgres(pg_dir: Path, pg_bin: Path) -> None:
    try:
        as_postgres(
            str(pg_bin / "pg_ctl"), "-D", str(pg_dir / "data"), "-m", "fast", "-w", "stop",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        shutil.rmtree(pg_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--establishments", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one database, in a child process
    args = parser.parse_args()
    sizes = sorted(args.establishments)
    if args.child:
        child(sizes, args.runs, args.child)
        return
    print(f"<!-- {os.cpu_count()} CPU, Python {sys.version.split()[0]} -->")
    print("| base | établissements | page | médiane | requêtes SQL |")
    print("|---|---|---|---|---|")
    command = [sys.executable, __file__, "--runs", str(args.runs), "--establishments"]
    command += [str(size) for size in sizes]
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
