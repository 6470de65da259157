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
    app.active_policy = PolicyVersion.objects.create(application=app, number=1, text="// bench")
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
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        latencies.append(time.perf_counter() - scheduled)
        if status != 200:
            errors.append(status)
        pool.append((reader, writer))
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="250,500,1000")
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="hygie-bench-access-") as tmp:
        started = time.perf_counter()
        app = setup(Path(tmp))
        print(f"setup: {time.perf_counter() - started:.1f} s")
        from hygie.access.models import Decision
        from tests.access.nginx_service import free_port, nginx_front

        pdp_port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        pdp = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "hygie", "pdp", "--bind", f"127.0.0.1:{pdp_port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
        )
        pdp.stdout.readline()
        pdp_url = f"http://127.0.0.1:{pdp_port}"
        rows = []
        try:
            # The sample application is a static nginx server (a Python one would share the
            # load generator's CPU and measure itself).
            static = free_port()
            app.upstream = f"http://127.0.0.1:{static}"
            if True:
                for auth in (False, True):
                    with nginx_front(
                        app,
                        pdp_url=pdp_url,
                        hygie_url=pdp_url,
                        secret=SECRET,
                        auth=auth,
                        static_port=static,
                    ) as base:
                        asyncio.run(load(base, 100, 1))  # warm-up (caches, connections)
                        for rate in rates:
                            before = Decision.objects.count()
                            lat, errors, total = asyncio.run(load(base, rate, args.seconds))
                            time.sleep(0.6)
                            logged = Decision.objects.count() - before
                            rows.append(
                                (
                                    auth,
                                    rate,
                                    total,
                                    pct(lat, 0.5),
                                    pct(lat, 0.99),
                                    max(lat) * 1000,
                                    len(errors),
                                    logged,
                                )
                            )
        finally:
            pdp.terminate()
            pdp.wait(10)
        print(
            "| path | rate (req/s) | requests | p50 (ms) | p99 (ms) | max (ms) | errors | "
            "decisions logged |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for auth, rate, total, p50, p99, worst, errors, logged in rows:
            name = "nginx + auth_request → hygie pdp" if auth else "nginx alone"
            print(
                f"| {name} | {rate} | {total} | {p50:.2f} | {p99:.2f} | {worst:.1f} | "
                f"{errors} | {logged if auth else '—'} |"
            )
        base = {r[1]: r for r in rows if not r[0]}
        for auth, rate, _t, p50, p99, *_ in rows:
            if auth:
                print(
                    f"ratio at {rate}/s: p50 ×{p50 / base[rate][3]:.1f}, "
                    f"p99 ×{p99 / base[rate][4]:.1f}"
                )


if __name__ == "__main__":
    main()
