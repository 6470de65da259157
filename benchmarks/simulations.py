"""Attack simulations at scale: sending to a local SMTP sink, tracking under load, results page.

    python benchmarks/simulations.py [--recipients 100000] [--databases sqlite postgresql]
                                     [--tracking-requests 20000] [--concurrency 32]

For each database (SQLite in a temporary directory; PostgreSQL as a throw-away cluster, as
benchmarks/governance.py does), in a child process:

1. `--recipients` staff members in 40 services of one establishment (bulk_create).
2. Launch: `hygie.phishing.services.launch` (targeting, tokens, lure per person, schedule),
   timed.
3. The sink: aiosmtpd's `Sink` handler in a separate process on 127.0.0.1 (no TLS, no auth).
   Its own ceiling is measured first: one Python client pushing ready-made bytes with
   `sendmail` over one connection (what the sink can take at best).
4. Sending: `hygie.phishing.sending.run` in this process (one worker, one SMTP connection,
   the send log written per message) until the campaign is sent out; messages per second
   and the ratio to the sink's ceiling.
5. Tracking: `hygie serve` (gunicorn, 2 workers) and `--concurrency` client threads
   requesting the open pixel and the landing page for random recipients; events per second,
   p50 and p99 latency as the client sees it.
6. Results: the campaign's results page when that URL exists (`phishing:results`), through
   Django's test client in process: median server time of 5 runs and its query count.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SERVICES = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_sink() -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
         "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_port(port)
    return process, port


def sink_ceiling(port: int, count: int = 3000) -> float:
    body = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: ceiling\r\n\r\n"
        + (b"x" * 76 + b"\r\n") * 26
    )
    with smtplib.SMTP("127.0.0.1", port) as client:
        started = time.perf_counter()
        for _ in range(count):
            client.sendmail("a@example.org", ["b@example.org"], body)
        return count / (time.perf_counter() - started)


def populate(recipients: int):
    from datetime import time as clock

    from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember
    from hygie.phishing.models import SendingProfile, Simulation

    region = Organisation.objects.filter(kind=Kind.REGION).first()
    ght = Organisation.objects.create(kind=Kind.GHT, parent=region, name="GHT banc")
    chu = Organisation.objects.create(
        kind=Kind.ESTABLISHMENT, parent=ght, name="CHU banc", finess_ej="010000024"
    )
    site = Organisation.objects.create(kind=Kind.SITE, parent=chu, name="Site principal")
    services = [
        Organisation.objects.create(kind=Kind.SERVICE, parent=site, name=f"Service {n:02d}")
        for n in range(SERVICES)
    ]
    families = [value for value, _label in JobFamily.choices]
    rng = random.Random(1)
    StaffMember.objects.bulk_create(
        [
            StaffMember(
                establishment=chu,
                site=site,
                service=services[n % SERVICES],
                first_name="Prénom",
                last_name=f"Nom{n:06d}",
                email=f"personne{n:06d}@chu-banc.example",
                job_family=rng.choice(families),
            )
            for n in range(recipients)
        ],
        batch_size=5000,
    )
    profile = SendingProfile.objects.create(
        organisation=chu,
        name="Puits",
        host="127.0.0.1",
        port=1,
        security="none",
        from_address="si@chu-banc.example",
    )
    simulation = Simulation.objects.create(
        organisation=chu,
        name="Banc",
        sending_profile=profile,
        lures=["resultats-laboratoire", "paie-mutuelle", "mise-a-jour-dpi"],
        business_start=clock(0, 0),
        business_end=clock(23, 59, 59),
        business_days=[0, 1, 2, 3, 4, 5, 6],
        rate_per_minute=0,
    )
    return chu, simulation


def tracking_load(tokens: list[str], requests: int, concurrency: int) -> tuple[float, float, float]:
    """Start `hygie serve` and hit the pixel and the landing page; events/s, p50, p99 (ms)."""
    port = free_port()
    env = dict(os.environ)
    env["HYGIE_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    env["HYGIE_SIMULATION_SCANNER_SECONDS"] = "0"
    env["HYGIE_SSL_REDIRECT"] = "false"  # plain HTTP on loopback, as behind nginx
    server = subprocess.Popen(
        [sys.executable, "-m", "hygie", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, 60)
        latencies: list[float] = []
        lock = threading.Lock()
        per_thread = requests // concurrency

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine = []
            for n in range(per_thread):
                token = rng.choice(tokens)
                path = f"/s/o/{token}.gif" if n % 2 else f"/s/c/{token}/"
                started = time.perf_counter()
                connection.request("GET", path, headers={"User-Agent": "Mozilla/5.0 banc"})
                response = connection.getresponse()
                response.read()
                mine.append(time.perf_counter() - started)
                if response.status != 200:
                    raise RuntimeError(f"{path}: {response.status}")
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[int(len(latencies) * 0.99)] * 1000
        return len(latencies) / elapsed, p50, p99
    finally:
        server.terminate()
        server.wait(timeout=30)


def results_page(simulation, organisation) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse
    from governance import client_for

    from hygie.orgs.models import Membership

    try:
        url = reverse("phishing:results", args=[simulation.pk])
    except NoReverseMatch:
        return "pas encore de page de résultats"
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("rssi-banc", password=secrets.token_urlsafe(16))
    Membership.objects.create(user=user, organisation=organisation, role="rssi")
    client = client_for(user)
    timings = []
    for _ in range(6):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
    return f"{statistics.median(timings[1:]) * 1000:.0f} ms, {len(queries)} requêtes SQL"


def child(database: str, recipients: int, requests: int, concurrency: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-sim-"))
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("HYGIE_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HYGIE_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import warnings

    import django

    sink = None
    try:
        django.setup()
        from django.core.management import call_command

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at")
            call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from django.db import connection

        from hygie.phishing import sending, services
        from hygie.phishing.models import Recipient, SendingProfile

        started = time.perf_counter()
        chu, simulation = populate(recipients)
        print(
            f"<!-- {database}: {recipients} staff created in {time.perf_counter() - started:.1f} s -->"
        )

        started = time.perf_counter()
        preparation = services.launch(simulation, seed=1)
        launch_seconds = time.perf_counter() - started

        sink, port = start_sink()
        SendingProfile.objects.filter(pk=simulation.sending_profile_id).update(port=port)
        ceiling = sink_ceiling(port)

        started = time.perf_counter()
        while True:
            report = sending.run(simulation.pk, seconds=3600)
            if report.finished or report.next_run is None:
                break
        send_seconds = time.perf_counter() - started
        sent = Recipient.objects.filter(simulation=simulation, send_status="sent").count()
        rate = sent / send_seconds

        tokens = list(
            Recipient.objects.filter(simulation=simulation).values_list("token", flat=True)
        )
        connection.close()  # gunicorn's workers get their own connections
        events, p50, p99 = tracking_load(tokens, requests, concurrency)
        page = results_page(simulation, chu)

        rows = [
            ("lancement (ciblage, jetons, planning)", f"{preparation.recipients} destinataires en {launch_seconds:.1f} s"),
            ("plafond du puits SMTP (octets prêts, 1 connexion)", f"{ceiling:.0f} messages/s"),
            ("envoi Hygie (1 processus, 1 connexion)", f"{sent} messages en {send_seconds:.0f} s = {rate:.0f} messages/s ({rate / ceiling:.2f} × le plafond)"),
            (f"suivi : pixel + page d'arrivée, {concurrency} clients", f"{events:.0f} événements/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"),
            ("page de résultats de la campagne", page),
        ]  # fmt: skip
        for label, value in rows:
            print(f"| {database} | {label} | {value} |", flush=True)
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--tracking-requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.recipients, args.tracking_requests, args.concurrency)
        return
    from governance import start_postgres, stop_postgres

    print(f"<!-- {os.cpu_count()} CPU, Python {sys.version.split()[0]} -->")
    print("| base | mesure | résultat |")
    print("|---|---|---|")
    command = [
        sys.executable, __file__, "--recipients", str(args.recipients),
        "--tracking-requests", str(args.tracking_requests), "--concurrency", str(args.concurrency),
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
