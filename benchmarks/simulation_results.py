"""Results page of a large simulation: `python benchmarks/simulation_results.py [--recipients N]`.

Builds, in a throw-away SQLite install (or the empty PostgreSQL database named by
HYGIE_DATABASE_URL), one establishment with 200 services on 4 sites and a completed campaign of
N recipients (default 100,000; 30 % opened, 12 % clicked, 3 % typed, 15 % reported), then times
the server side of the results page, its CSV and the individual-results page (median of 5
requests each, logged-in RSSI, no network), and counts their SQL queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("HYGIE_DATA_DIR", tempfile.mkdtemp(prefix="hygie-bench-"))
    os.environ.setdefault("HYGIE_TESTING", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from hygie.orgs.models import JobFamily, Kind, Membership, Organisation, StaffMember
    from hygie.orgs.roles import Role
    from hygie.phishing.models import Recipient, SendingProfile, Simulation

    call_command("migrate", verbosity=0)
    region = Organisation.objects.filter(kind=Kind.REGION).first()
    est = Organisation.objects.create(kind=Kind.ESTABLISHMENT, parent=region, name="CHU Bench")
    sites = [
        Organisation.objects.create(kind=Kind.SITE, parent=est, name=f"Site {n}") for n in range(4)
    ]
    services = [
        Organisation.objects.create(kind=Kind.SERVICE, parent=sites[n % 4], name=f"Service {n}")
        for n in range(200)
    ]
    families = [choice for choice, _label in JobFamily.choices]
    profile = SendingProfile.objects.create(
        organisation=est, name="Relais", host="127.0.0.1", from_address="it@bench.example"
    )
    launched = timezone.now() - timedelta(days=20)
    simulation = Simulation.objects.create(
        organisation=est, name="Bench", sending_profile=profile, status="completed",
        launched_at=launched, sent_out_at=launched + timedelta(hours=8),
        completed_at=launched + timedelta(days=7),
    )  # fmt: skip
    started = time.perf_counter()
    staff = StaffMember.objects.bulk_create(
        (
            StaffMember(
                establishment=est,
                service=services[i % 200],
                site=sites[i % 200 % 4],
                first_name="Agent",
                last_name=f"N{i}",
                email=f"agent{i}@bench.example",
                job_family=families[i % len(families)],
            )  # fmt: skip
            for i in range(args.recipients)
        ),
        batch_size=5000,
    )
    rows = []
    for i, member in enumerate(staff):
        sent = launched + timedelta(seconds=i % 28800)
        rows.append(
            Recipient(
                simulation=simulation,
                staff=member,
                email=member.email,
                service_id=member.service_id,
                site_id=member.site_id,
                establishment=est,
                job_family=member.job_family,
                lure="resultats-laboratoire",
                token=f"bench-{i:08d}",
                send_status="sent",
                sent_at=sent,
                first_open_at=sent + timedelta(minutes=3) if i % 10 < 3 else None,
                first_click_at=sent + timedelta(minutes=5 + i % 60) if i % 25 < 3 else None,
                submitted_at=sent + timedelta(minutes=7) if i % 100 < 3 else None,
                reported_at=sent + timedelta(minutes=2 + i % 240) if i % 20 >= 17 else None,
            )  # fmt: skip
        )
    Recipient.objects.bulk_create(rows, batch_size=5000)
    print(f"built {args.recipients} recipients in {time.perf_counter() - started:.1f} s")

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("rssi-bench", password="x" * 20)
    Membership.objects.create(user=user, organisation=est, role=Role.RSSI)
    client = Client()
    client.force_login(user)
    session = client.session
    session["hygie_mfa"] = True
    from hygie.accounts.middleware import SESSION_AUTH_AT, SESSION_MFA

    session[SESSION_AUTH_AT], session[SESSION_MFA] = time.time(), True
    session.save()
    for name in ("phishing:results", "phishing:results_csv", "phishing:results_people"):
        url = reverse(name, args=[simulation.pk])
        timings = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = client.get(url, HTTP_HOST="127.0.0.1")
                timings.append(time.perf_counter() - begin)
            assert response.status_code == 200, response.status_code
        print(
            f"{name:26s} median {statistics.median(timings) * 1000:6.0f} ms, "
            f"{len(queries)} queries ({connection.vendor})"
        )


if __name__ == "__main__":
    main()
