"""Killing the sending worker mid-campaign, then starting it again: every message goes out
exactly once. Real processes (`hygie worker`), a real SMTP relay, a database file of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.services import smtp as smtp_service

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 60
KILL_AT = 25  # the 25th message: the second batch of 20 is being sent

SETUP = """
import json, os
from datetime import time
from hygie.orgs.models import Kind, Organisation, StaffMember
from hygie.phishing import services
from hygie.phishing.models import SendingProfile, Simulation

region = Organisation.objects.filter(kind=Kind.REGION).first()
ght = Organisation.objects.create(kind=Kind.GHT, parent=region, name="GHT Test")
chu = Organisation.objects.create(
    kind=Kind.ESTABLISHMENT, parent=ght, name="CHU Test", finess_ej="010000024", category="CH"
)
lab = Organisation.objects.create(kind=Kind.SERVICE, parent=chu, name="Laboratoire")
for n in range({people}):
    StaffMember.objects.create(
        establishment=chu, service=lab, first_name="P", last_name=f"N{{n:03d}}",
        email=f"personne{{n:03d}}@chu-test.example", job_family="care",
    )
profile = SendingProfile.objects.create(
    organisation=chu, name="Relais", host="127.0.0.1", port={port},
    username={username!r}, password={password!r}, from_address="si@chu-test.example",
    ca_certificate=os.environ["TEST_CA_PEM"], timeout=5,
)
simulation = Simulation.objects.create(
    organisation=chu, name="Sans doublon", sending_profile=profile,
    lures=["resultats-laboratoire"], business_start=time(0, 0),
    business_end=time(23, 59, 59), business_days=[0, 1, 2, 3, 4, 5, 6], rate_per_minute=0,
)
services.launch(simulation, seed=1)
print(json.dumps({{"simulation": simulation.pk}}))
"""

REPORT = """
import json
from collections import Counter
from hygie.phishing.models import Recipient, Simulation
simulation = Simulation.objects.get(pk={pk})
rows = Recipient.objects.filter(simulation=simulation)
print(json.dumps({{
    "status": simulation.status,
    "send_status": dict(Counter(rows.values_list("send_status", flat=True))),
    "attempts": dict(Counter(rows.values_list("attempts", flat=True))),
}}))
"""


@pytest.fixture
def environment(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HYGIE_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        PYTHONPATH=str(ROOT),
        HYGIE_DEBUG="true",
        HYGIE_DATA_DIR=str(tmp_path / "data"),
        HYGIE_SIMULATION_CLAIM_LEASE="2",
        HYGIE_SIMULATION_RUN_SECONDS="20",
    )
    return env


def hygie(env, cwd, *args) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "hygie", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def start_worker(env, cwd, log):
    return subprocess.Popen(
        [sys.executable, "-m", "hygie", "worker", "--interval", "0.2"],
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_killing_the_worker_mid_campaign_sends_every_message_exactly_once(environment, tmp_path):
    with smtp_service.smtp_server() as relay:
        environment["TEST_CA_PEM"] = relay.ca_pem
        hygie(environment, tmp_path, "migrate", "-v0")
        script = SETUP.format(
            people=PEOPLE,
            port=relay.port,
            username=smtp_service.USERNAME,
            password=smtp_service.PASSWORD,
        )
        pk = json.loads(hygie(environment, tmp_path, "shell", "-c", script).splitlines()[-1])[
            "simulation"
        ]

        log = (tmp_path / "worker.log").open("w")
        worker = start_worker(environment, tmp_path, log)
        killed = threading.Event()
        seen = []

        def kill_on_the_25th(address, peer=None):
            # SIGKILL while the relay is about to accept the 25th message: the worker dies
            # with a batch claimed, part of it sent and recorded, one message in flight.
            seen.append((address, peer, killed.is_set()))
            if len(seen) == KILL_AT and not killed.is_set():
                worker.kill()
                worker.wait(timeout=10)
                killed.set()

        relay.on_rcpt = kill_on_the_25th
        try:
            assert wait_for(killed.is_set, 90), "the worker never reached the 25th message"
            sent_before_restart = len(relay.messages)
            assert sent_before_restart == KILL_AT - 1

            relay.on_rcpt = None
            worker = start_worker(environment, tmp_path, log)
            assert wait_for(lambda: len(relay.messages) >= PEOPLE, 90), (
                f"only {len(relay.messages)} of {PEOPLE} messages after the restart"
            )
            time.sleep(3)  # anything sent twice would arrive now (the lease is 2 s)
        finally:
            worker.kill()
            worker.wait(timeout=10)
            log.close()

        received = Counter(rcpts[0] for _sender, rcpts, _message in relay.messages)
        assert len(received) == PEOPLE, "no loss"
        assert set(received.values()) == {1}, (
            f"duplicates: {[a for a, n in received.items() if n > 1]}"
        )
        tokens = Counter(message["X-Hygie-Simulation"] for *_r, message in relay.messages)
        assert len(tokens) == PEOPLE

        state = json.loads(
            hygie(environment, tmp_path, "shell", "-c", REPORT.format(pk=pk)).splitlines()[-1]
        )
        assert state["send_status"] == {"sent": PEOPLE}
        assert state["status"] == "running"
        # The message in flight at the kill was not accepted by the relay, so its row was
        # taken back after the lease and sent once, on its first recorded attempt.
        assert state["attempts"] == {"1": PEOPLE}
