"""`hygie pdp --workers N`: several decision processes on one port, supervised — run as an
operator would, in a process of its own."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.access.nginx_service import free_port

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYGIE_DATABASE")}
    env.update(
        HYGIE_DATA_DIR=str(tmp_path),
        PYTHONPATH=str(ROOT),
        HYGIE_TESTING="false",
        HYGIE_SECRET_KEY=secrets.token_urlsafe(64),
    )
    return env


def start(env, *args):
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "hygie", "pdp", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process


def test_workers_share_the_port_are_restarted_and_stop_together(environment):
    port = free_port()
    process = start(environment, "--bind", f"127.0.0.1:{port}", "--workers", "2")
    try:
        assert process.stdout.readline().strip() == (
            f"hygie pdp: listening on 127.0.0.1:{port} (2 workers)"
        )
        workers = wait_for(lambda: len(children(process.pid)) == 2 and children(process.pid))
        for _ in range(20):  # every connection is answered, whichever worker takes it
            response = requests.get(f"http://127.0.0.1:{port}/sante", timeout=5)
            assert (response.status_code, response.text) == (200, "ok\n")

        # A worker that dies is replaced; the port keeps answering meanwhile.
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for(
            lambda: (now := children(process.pid)) and len(now) == 2 and victim not in now and now
        )
        assert replaced - workers and (workers - {victim}) <= replaced
        assert requests.get(f"http://127.0.0.1:{port}/sante", timeout=5).status_code == 200

        # Stopped at once after another restart (the new worker barely started): every worker
        # stops, none is left serving.
        second = min(workers - {victim})
        os.kill(second, signal.SIGKILL)
        replaced = wait_for(
            lambda: (now := children(process.pid)) and len(now) == 2 and second not in now and now
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        stderr = process.stderr.read()
        for pid in (victim, second):
            assert re.search(rf"worker [01] \(pid {pid}\) ended \(signal 9\); restarting", stderr)
        for pid in replaced:
            assert (
                not Path(f"/proc/{pid}").exists()
                or "Z" in (Path(f"/proc/{pid}/stat").read_text().split()[2])
            )
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_a_port_already_taken_is_reported_in_words(environment):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            process = start(environment, "--bind", f"127.0.0.1:{port}", "--workers", workers)
            _out, err = process.communicate(timeout=30)
            assert process.returncode != 0
            assert f"impossible d'écouter sur 127.0.0.1:{port}" in err
            assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bind", "8300"], "--bind attend adresse:port"),
        (["--workers", "0"], "--workers attend un nombre entre 1 et 64"),
    ],
)
def test_bad_arguments_are_refused_in_words(environment, args, message):
    process = start(environment, *args)
    _out, err = process.communicate(timeout=30)
    assert process.returncode != 0 and message in err
