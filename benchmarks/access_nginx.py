"""Benchmark: the decision point through a real nginx (`auth_request`), open-loop load.

1. A fresh SQLite database, migrated; one establishment with a protected application (shadow
   mode, so every request reaches the sample application whatever the stand-in policy says),
   routes, network zones, 2,000 staff and 5,000 patients with their current stays.
2. The dedicated decision process (`hygie pdp --bind`) in its own process, a sample
   application, and nginx (1 worker) — once with `auth_request` (the configuration Hygie
   generates), once straight to the application (baseline).
3. An asyncio open-loop generator sends GET /dossiers/<patient>/ at fixed rates (requests are
   scheduled on a clock, latency counted from the scheduled time, so a slow answer does not
   slow the sending — no coordinated omission) and reports p50/p99/max and errors, then checks
   that the decision log has written every decision.

    python benchmarks/access_nginx.py [--rates 250,500,1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "benchmark-proxy-secret-0123456789"  # noqa: S105 - a throw-away test secret


def setup(data_dir: Path):
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ["HYGIE_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    os.environ.setdefault("HYGIE_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["HYGIE_SSL_REDIRECT"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import timezone

    from hygie.access.models import (
        CareRelation,
        Mode,
        NetworkZone,
        PolicyVersion,
        ProtectedApplication,
        Route,
    )
    from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember

    est = Organisation.objects.create(
        kind=Kind.ESTABLISHMENT, name="CHU Bench", finess_ej="010000001"
    )
    services = [
        Organisation.objects.create(kind=Kind.SERVICE, parent=est, name=f"Unité {i}")
        for i in range(40)
    ]
    StaffMember.objects.bulk_create(
        [
            StaffMember(
                establishment=est,
                service=services[i % 40],
                external_id=f"u{i}",
                first_name="A",
                last_name=f"B{i}",
                job_family=JobFamily.CARE,
            )
            for i in range(2000)
        ]
    )
    now = timezone.now()
    CareRelation.objects.bulk_create(
        [
            CareRelation(
                organisation=est,
                kind="stay",
                patient_id=f"P{i}",
                unit=f"Unité {i % 40}",
                starts_at=now - timezone.timedelta(days=1),
            )
            for i in range(5000)
        ]
    )
    NetworkZone.objects.create(organisation=est, cidr="127.0.0.0/8", zone="care")
    app = ProtectedApplication.objects.create(
        organisation=est,
        name="DPI",
        slug="dpi",
        upstream="http://127.0.0.1:1",
        mode=Mode.SHADOW,
        proxy_secret=SECRET,
    )
    from hygie.access.pdp.engine import DEFAULT_POLICY

    app.active_policy = PolicyVersion.objects.create(application=app, number=1, text=DEFAULT_POLICY)
    app.save()
    Route.objects.create(application=app, pattern="/dossiers/<patient>/", action="read")
    return app


async def _one(host, port, path, user, pool, latencies, errors, scheduled):
    try:
        if pool:
            reader, writer = pool.pop()
        else:
            reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: dpi\r\nX-Remote-User: {user}\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length, keep = 0, True
        for line in head.split(b"\r\n"):
            lowered = line.lower()
            if lowered.startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif lowered.startswith(b"connection:") and b"close" in lowered:
                keep = False  # nginx closes a connection after keepalive_requests
        if length:
            await reader.readexactly(length)
        latencies.append(time.perf_counter() - scheduled)
        if status != 200:
            errors.append(status)
        if keep:
            pool.append((reader, writer))
        else:
            writer.close()
    except Exception as error:  # noqa: BLE001 - counted
        errors.append(repr(error))


async def load(base: str, rate: int, seconds: float):
    host, port = base.split("://")[1].split(":")
    port = int(port)
    pool, latencies, errors, tasks = [], [], [], []
    rng = random.Random(rate)
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        path = f"/dossiers/P{rng.randrange(5000)}/"
        tasks.append(
            asyncio.create_task(
                _one(
                    host, port, path, f"u{rng.randrange(2000)}", pool, latencies, errors, scheduled
                )
            )
        )
    await asyncio.gather(*tasks)
    for _r, w in pool:
        w.close()
    return latencies, errors, total


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


def start_pdp(tmp: Path, workers: int):
    from tests.access.nginx_service import free_port

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "hygie", "pdp", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(  # noqa: S603 - our own command
        [*command, "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(tmp / f"pdp-{workers}.log", "w"),  # noqa: SIM115 - closed with the process
    )
    process.stdout.readline()
    return process, f"http://127.0.0.1:{port}"


def measure(app, pdp_url, static, auth, rates, seconds, label, rows):
    from hygie.access.models import Decision
    from tests.access.nginx_service import nginx_front

    with nginx_front(
        app, pdp_url=pdp_url, hygie_url=pdp_url, secret=SECRET, auth=auth, static_port=static
    ) as base:
        asyncio.run(load(base, 100, 1))  # warm-up (caches, connections)
        time.sleep(0.6)  # the warm-up's decisions are written
        for rate in rates:
            before = Decision.objects.count()
            # The generator must not pause to collect its own garbage mid-run: such a pause
            # would be counted as the servers' latency.
            gc.collect()
            gc.disable()
            try:
                lat, errors, total = asyncio.run(load(base, rate, seconds))
            finally:
                gc.enable()
            time.sleep(0.6)
            logged = Decision.objects.count() - before
            if errors:
                print(f"{label} at {rate}/s, errors:", sorted(set(map(str, errors)))[:3])
            rows.append(
                (
                    label,
                    rate,
                    total,
                    pct(lat, 0.5),
                    pct(lat, 0.99),
                    max(lat) * 1000,
                    len(errors),
                    logged if auth else "—",
                )
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="250,500,1000")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--workers", default="1,2", help="hygie pdp --workers to compare")
    parser.add_argument("--no-baseline", action="store_true", help="skip nginx alone")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="hygie-bench-access-") as tmp:
        started = time.perf_counter()
        app = setup(Path(tmp))
        print(f"setup: {time.perf_counter() - started:.1f} s")
        # The sample application is a static nginx server (a Python one would share the load
        # generator's CPU and measure itself).
        from tests.access.nginx_service import free_port

        static = free_port()
        app.upstream = f"http://127.0.0.1:{static}"
        rows = []
        if not args.no_baseline:
            unused = "http://127.0.0.1:9"  # nginx alone never asks it
            measure(app, unused, static, False, rates, args.seconds, "nginx alone", rows)
        for workers in [int(w) for w in args.workers.split(",")]:
            pdp, pdp_url = start_pdp(Path(tmp), workers)
            label = f"nginx + auth_request → hygie pdp --workers {workers}"
            try:
                measure(app, pdp_url, static, True, rates, args.seconds, label, rows)
            finally:
                pdp.terminate()
                pdp.wait(10)
                problems = (Path(tmp) / f"pdp-{workers}.log").read_text()
                if problems:
                    print(f"decision process ({workers}) said:", problems[-3000:])
        print(
            "| path | rate (req/s) | requests | p50 (ms) | p99 (ms) | max (ms) | errors | "
            "decisions logged |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for label, rate, total, p50, p99, worst, errors, logged in rows:
            print(
                f"| {label} | {rate} | {total} | {p50:.2f} | {p99:.2f} | {worst:.1f} | "
                f"{errors} | {logged} |"
            )
        base = {r[1]: r for r in rows if r[0] == "nginx alone"}
        for label, rate, _t, p50, p99, *_ in rows:
            if label != "nginx alone" and rate in base:
                print(
                    f"{label}, {rate}/s: p50 ×{p50 / base[rate][3]:.1f}, "
                    f"p99 ×{p99 / base[rate][4]:.1f} nginx alone"
                )


if __name__ == "__main__":
    main()
