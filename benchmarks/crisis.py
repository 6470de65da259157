"""Live crisis exercise under load: N participants polling the live state through `hygie serve`.

`python benchmarks/crisis.py --participants 200 --stimuli 10 --speed 10`

1. A fresh database (SQLite file, or PostgreSQL with `--databases postgresql`), migrated; one
   exercise with `--participants` players entering through personal links (signed cookie, no
   session row) and `--stimuli` phone/press stimuli 10 s of exercise time apart.
2. `hygie serve` (gunicorn, 2 workers × 4 threads) and one `hygie worker --interval 0.1`.
3. The exercise is started as the facilitators' console does (clock.start + the release
   task planned); every participant polls `etat.json?since=<cursor>` every `--poll` seconds
   (1.5 s, as static/crisis/run.js), from its own thread, with one keep-alive connection.
4. Figures: stimulus release delay (due time on the wall clock → `released_at`), update
   latency (`released_at` → the moment a participant's answer contained it; the poll period
   bounds it), and the poll request time, each p50/p99.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def populate(participants: int, stimuli: int, speed: float):
    from hygie.crisis import participant_links
    from hygie.crisis.models import (
        Exercise,
        ExerciseStatus,
        Participant,
        ParticipantRole,
        Stimulus,
    )
    from hygie.orgs.models import Kind, Organisation

    region = Organisation.objects.filter(kind=Kind.REGION).first()
    ght = Organisation.objects.create(kind=Kind.GHT, parent=region, name="GHT Banc")
    chu = Organisation.objects.create(
        kind=Kind.ESTABLISHMENT, parent=ght, name="CHU Banc", finess_ej="010000024", category="CH"
    )
    exercise = Exercise.objects.create(
        organisation=chu, title="Exercice de charge", status=ExerciseStatus.READY, speed=speed
    )
    for n in range(stimuli):
        Stimulus.objects.create(
            exercise=exercise,
            position=n,
            offset_seconds=10 * (n + 1),
            channel="phone" if n % 2 else "press",
            sender=f"Personnage {n}",
            subject=f"Stimulus {n}",
            content="Appel entrant : les écrans des urgences affichent une demande de rançon.",
        )
    cookies = []
    for n in range(participants):
        participant = Participant.objects.create(
            exercise=exercise, role=ParticipantRole.PLAYER, name=f"Joueur {n:03d}"
        )
        participant_links.issue(participant)
        name = participant_links.cookie_name(exercise.pk)
        cookies.append(f"{name}={participant_links.cookie_value(participant)}")
    return exercise, cookies


def child(database: str, participants: int, stimuli: int, speed: float, poll: float) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-crisis-"))
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ["HYGIE_ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ.setdefault("HYGIE_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["HYGIE_SSL_REDIRECT"] = "false"  # plain HTTP on loopback, as behind nginx
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import warnings

    import django

    django.setup()
    from django.core.management import call_command

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No directory at")
        call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.db import connection

    from hygie.crisis import clock, tasks
    from hygie.crisis.models import Stimulus

    exercise, cookies = populate(participants, stimuli, speed)
    connection.close()
    port = free_port()
    env = dict(os.environ)
    logs = data_dir / "logs"
    logs.mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "hygie", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(logs / "serve.log").open("w"),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "hygie", "worker", "--interval", "0.1"],
        env=env,
        cwd=ROOT,
        stdout=(logs / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    seen: dict[int, list[float]] = {}
    request_times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    path = f"/crise/exercices/{exercise.pk}/etat.json"
    try:
        wait_port(port)
        time.sleep(1.0)

        def participant(cookie: str, seed: int) -> None:
            rng = random.Random(seed)
            time.sleep(rng.random() * poll)  # people do not open the page in the same instant
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            cursor, mine_seen, mine_times = 0, [], []
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    conn.request("GET", f"{path}?since={cursor}", headers={"Cookie": cookie})
                    response = conn.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        errors.append(type(exc).__name__)
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    time.sleep(poll)
                    continue
                now = time.time()
                mine_times.append(time.perf_counter() - started)
                if response.status != 200:
                    with lock:
                        errors.append(f"HTTP {response.status}")
                else:
                    state = json.loads(body)
                    cursor = state["cursor"]
                    mine_seen.extend((s["id"], now) for s in state["stimuli"])
                stop.wait(poll)
            conn.close()
            with lock:
                request_times.extend(mine_times)
                for stimulus_id, at in mine_seen:
                    seen.setdefault(stimulus_id, []).append(at)

        threads = [
            threading.Thread(target=participant, args=(cookie, n), daemon=True)
            for n, cookie in enumerate(cookies)
        ]
        for thread in threads:
            thread.start()
        time.sleep(poll + 0.5)  # every participant is polling
        clock.start(exercise)
        tasks.schedule_release(exercise.pk)
        started_at = exercise.started_at
        run_for = 10 * stimuli / speed + 2 * poll + 2
        time.sleep(run_for)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        rows = list(Stimulus.objects.filter(exercise=exercise))
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=30)
    delays = [
        (s.released_at - started_at).total_seconds() - s.offset_seconds / speed
        for s in rows
        if s.released_at is not None
    ]
    latencies = [
        at - s.released_at.timestamp()
        for s in rows
        if s.released_at is not None
        for at in seen.get(s.pk, [])
    ]
    complete = sum(1 for s in rows if len(seen.get(s.pk, [])) == participants)
    print(
        f"| {database} | {participants} | {len(delays)}/{len(rows)} "
        f"| {percentile(delays, 0.5) * 1000:.0f} / {percentile(delays, 0.99) * 1000:.0f} "
        f"| {percentile(latencies, 0.5) * 1000:.0f} / {percentile(latencies, 0.99) * 1000:.0f} "
        f"| {percentile(request_times, 0.5) * 1000:.0f} / "
        f"{percentile(request_times, 0.99) * 1000:.0f} "
        f"| {len(request_times) / run_for:.0f} | {complete}/{len(rows)} | {len(errors)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--stimuli", type=int, default=10)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--poll", type=float, default=1.5)
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite"]
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.participants, args.stimuli, args.speed, args.poll)
        return
    print(f"<!-- {os.cpu_count()} CPU, Python {sys.version.split()[0]} -->")
    print(
        "| base | participants | diffusés | délai de diffusion p50 / p99 (ms) "
        "| latence de mise à jour p50 / p99 (ms) | requête etat.json p50 / p99 (ms) "
        "| requêtes/s | stimuli vus par tous | erreurs |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    command = [
        sys.executable, __file__, "--participants", str(args.participants),
        "--stimuli", str(args.stimuli), "--speed", str(args.speed), "--poll", str(args.poll),
    ]  # fmt: skip
    for database in args.databases:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYGIE_")}
        if database == "sqlite":
            subprocess.run([*command, "--child", database], check=True, env=env)
            continue
        from governance import start_postgres, stop_postgres

        url, pg_dir, pg_bin = start_postgres()
        try:
            env["HYGIE_DATABASE_URL"] = url
            subprocess.run([*command, "--child", database], check=True, env=env)
        finally:
            stop_postgres(pg_dir, pg_bin)


if __name__ == "__main__":
    main()
