"""Attack simulations at scale: sending to a local SMTP sink, tracking under load, results page.

    python benchmarks/simulations.py [--recipients 100000] [--databases sqlite postgresql]
                                     [--tracking-requests 20000] [--concurrency 32]
                                     [--workers 1 2]

For each database (SQLite in a temporary directory; PostgreSQL as a throw-away cluster, as
benchmarks/governance.py does), in a child process:

1. `--recipients` staff members in 40 services of one establishment (bulk_create).
2. Launch: `hygie.phishing.services.launch` (targeting, tokens, lure per person, schedule),
   timed.
3. The sink: an aiosmtpd server in a separate process on 127.0.0.1 (no TLS, no auth) that
   keeps nothing but one line per message, its Message-ID and envelope recipient, so that
   every run can be checked. Its own ceiling is measured first: one Python client pushing
   ready-made bytes with `sendmail` over one connection (what the sink can take at best).
4. Sending: `hygie.phishing.sending.run` in this process (one worker, one SMTP connection,
   the send log written per message) until the campaign is sent out; messages per second
   and the ratio to the sink's ceiling.
4b. Several workers (`--workers`, default 1 then 2): for each N, a fresh campaign of the
   same people is launched (`services.launch`, which queues its first sending run), the task
   queue is given one sending run per worker, and N real `hygie worker` processes are
   started; they share the campaign by claiming rows. Messages per second from the first
   to the last message sent (the processes' start-up is left out and given apart), then
   exactly once is checked: every recipient marked sent, and at the sink every expected
   Message-ID (derived from the recipient's token) received once, for that recipient.
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
import re
import secrets
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
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


MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


def run_sink(port: int, log: Path) -> None:
    """The SMTP sink (a process of its own): one line per message received, its Message-ID
    and its envelope recipients, tab-separated; nothing else is kept."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    out = log.open("a", buffering=1, encoding="ascii")

    class Recorder:
        async def handle_DATA(self, server, session, envelope):
            head = envelope.content.split(b"\r\n\r\n", 1)[0]
            found = MESSAGE_ID.search(head)
            message_id = found.group(1).decode("ascii", "replace") if found else "-"
            out.write(f"{message_id}\t{','.join(envelope.rcpt_tos)}\n")
            return "250 OK"

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(Recorder()), "127.0.0.1", port)
    )
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        out.close()


def start_sink(log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--sink-port", str(port), "--sink-log", str(log)],
        stdout=subprocess.DEVNULL,
    )
    wait_port(port)
    return process, port


def exactly_once(simulation, log: Path) -> str:
    """Every recipient marked sent, and each one's Message-ID received once at the sink, for
    that recipient: "oui", or what is wrong."""
    from hygie.phishing.models import Recipient
    from hygie.phishing.sending import message_id

    domain = simulation.sending_profile.from_address.rpartition("@")[2] or "hygie.invalid"
    rows = list(Recipient.objects.filter(simulation=simulation).only("token", "email"))
    expected = {message_id(row, domain): row.email for row in rows}
    received: Counter[str] = Counter()
    wrong_recipient = 0
    with log.open(encoding="ascii") as lines:
        for line in lines:
            identifier, _tab, recipients = line.rstrip("\n").partition("\t")
            if identifier in expected:
                received[identifier] += 1
                wrong_recipient += recipients != expected[identifier]
    unsent = Recipient.objects.filter(simulation=simulation).exclude(send_status="sent").count()
    duplicates = sum(1 for identifier in expected if received[identifier] > 1)
    missing = sum(1 for identifier in expected if not received[identifier])
    if not (unsent or duplicates or missing or wrong_recipient):
        return f"oui ({len(expected)} Message-ID distincts, chacun reçu une fois)"
    return (
        f"NON : {unsent} non marqués envoyés, {missing} absents du puits, "
        f"{duplicates} reçus plusieurs fois, {wrong_recipient} au mauvais destinataire"
    )


def worker_processes(simulation_id: int, workers: int, recipients: int, log_dir: Path):
    """Launch a fresh campaign like `base`, give the queue one sending run per worker, start
    `workers` `hygie worker` processes and wait until the campaign is sent out. Returns the
    campaign, the seconds from the first to the last message sent, the wall-clock seconds
    from the processes' start and how many messages each worker sent."""
    from django.db import connection
    from django.db.models import Max, Min
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from hygie.phishing import services, tasks
    from hygie.phishing.models import Recipient, Simulation

    simulation = Simulation.objects.get(pk=simulation_id)
    simulation.pk = None
    simulation.name = f"Banc, {workers} processus"
    simulation.status = "draft"
    simulation.launched_at = simulation.sent_out_at = simulation.completed_at = None
    simulation.save()
    services.launch(simulation, seed=1)
    queued = DBTaskResult.objects.filter(
        task_path=tasks.send_simulation.module_path,
        status=TaskResultStatus.READY,
        args_kwargs__args=[simulation.pk],
    ).count()
    for _ in range(workers - queued):  # launch queues one run; one more per extra worker
        tasks.send_simulation.enqueue(simulation.pk)
    connection.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    processes, logs = [], []
    started = time.perf_counter()
    for number in range(workers):
        logs.append((log_dir / f"worker-{workers}-{number}.log").open("wb"))
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hygie",
                    "worker",
                    "--interval",
                    "0.2",
                    "--worker-id",
                    f"banc-{workers}-{number}",
                ],
                cwd=ROOT,
                env=env,
                stdout=logs[-1],
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + max(300, recipients / 10)
    try:
        while True:
            time.sleep(0.5)
            simulation.refresh_from_db(fields=["status"])
            left = Recipient.objects.filter(simulation=simulation).exclude(send_status="sent")
            if simulation.status == "running" and not left.exists():
                break
            dead = [process.returncode for process in processes if process.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{workers} processus : {left.count()} messages restants, "
                    f"codes de sortie {dead}; journaux dans {log_dir}"
                )
        wall = time.perf_counter() - started
        # Let the runs still finishing (nothing left to claim) record their result.
        runs = DBTaskResult.objects.filter(
            task_path=tasks.send_simulation.module_path, args_kwargs__args=[simulation.pk]
        )
        settle = time.monotonic() + 15
        while runs.filter(status=TaskResultStatus.RUNNING).exists() and time.monotonic() < settle:
            time.sleep(0.2)
        shares: Counter[str] = Counter()
        for worker_ids, value in runs.filter(status=TaskResultStatus.SUCCESSFUL).values_list(
            "worker_ids", "return_value"
        ):
            shares[worker_ids[-1] if worker_ids else "?"] += (value or {}).get("sent", 0)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in logs:
            handle.close()
    span = Recipient.objects.filter(simulation=simulation).aggregate(
        first=Min("sent_at"), last=Max("sent_at")
    )
    share = ", ".join(f"{name} {count}" for name, count in sorted(shares.items()))
    return simulation, (span["last"] - span["first"]).total_seconds(), wall, share


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


def child(
    database: str, recipients: int, requests: int, concurrency: int, workers: list[int]
) -> None:
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

        sink_log = data_dir / "sink.log"
        sink, port = start_sink(sink_log)
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
        checks = {"1 processus, en place": exactly_once(simulation, sink_log)}

        several = []
        for count in workers:
            campaign, span, wall, share = worker_processes(
                simulation.pk, count, recipients, data_dir
            )
            checks[f"{count} × hygie worker"] = exactly_once(campaign, sink_log)
            several.append((count, span, wall, share))

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
            *(
                (f"envoi Hygie ({count} processus `hygie worker`, 1 connexion chacun)", f"{recipients} messages en {span:.1f} s = {recipients / span:.0f} messages/s ({recipients / span / ceiling:.2f} × le plafond) ; {wall:.1f} s avec le démarrage des processus ; par processus : {share}")
                for count, span, wall, share in several
            ),
            *((f"exactement une fois ({label})", verdict) for label, verdict in checks.items()),
            (f"suivi : pixel + page d'arrivée, {concurrency} clients", f"{events:.0f} événements/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"),
            ("page de résultats de la campagne", page),
        ]  # fmt: skip
        for label, value in rows:
            print(f"| {database} | {label} | {value} |", flush=True)
        if any(not verdict.startswith("oui") for verdict in checks.values()):
            raise SystemExit(f"{database} : un envoi n'a pas été fait exactement une fois")
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
    parser.add_argument(
        "--workers",
        nargs="+",
        type=int,
        default=[1, 2],
        metavar="N",
        help="numbers of `hygie worker` processes sharing one campaign, each measured (1 2)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--sink-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sink-log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink_port:
        run_sink(args.sink_port, args.sink_log)
        return
    if any(count < 1 for count in args.workers):
        parser.error("--workers: at least one process")
    if args.child:
        child(args.child, args.recipients, args.tracking_requests, args.concurrency, args.workers)
        return
    from governance import start_postgres, stop_postgres

    print(f"<!-- {os.cpu_count()} CPU, Python {sys.version.split()[0]} -->")
    print("| base | mesure | résultat |")
    print("|---|---|---|")
    command = [
        sys.executable, __file__, "--recipients", str(args.recipients),
        "--tracking-requests", str(args.tracking_requests), "--concurrency", str(args.concurrency),
        "--workers", *map(str, args.workers),
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
