"""The `hygie` command as an operator runs it: a fresh interpreter, a fresh data directory."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hygie.orgs.roles import Role

ROOT = Path(__file__).resolve().parents[2]


def hygie_env(data_dir: Path, **extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HYGIE_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(PYTHONPATH=str(ROOT), HYGIE_DATA_DIR=str(data_dir), **extra)
    return env


def hygie(*args, data_dir: Path, input: str | None = None, timeout=180, **extra):
    return subprocess.run(
        [sys.executable, "-m", "hygie", *args],
        env=hygie_env(data_dir, **extra),
        cwd=data_dir.parent,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(data_dir: Path, sql: str, *params):
    with sqlite3.connect(data_dir / "hygie.sqlite3") as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    result = hygie("demo", "--no-serve", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return data_dir, result.stdout


def staff_names(data_dir: Path):
    return query(
        data_dir,
        "SELECT external_id, first_name, last_name, email, job_family, arrival_date "
        "FROM orgs_staffmember ORDER BY external_id, email",
    )


def test_demo_builds_a_ght_with_its_establishments_staff_and_one_user_per_role(demo):
    data_dir, output = demo
    assert "http://127.0.0.1:8000/" in output
    assert "rssi" in output and "hygie-demo-2026" in output
    [(ght_id, ght_path)] = query(
        data_dir, "SELECT id, path FROM orgs_organisation WHERE code = 'GHT-DEMO-HDF'"
    )
    establishments = query(
        data_dir,
        "SELECT name, category FROM orgs_organisation WHERE parent_id = ? AND kind = 'establishment'",
        ght_id,
    )
    assert len(establishments) == 4
    assert sorted(category for _, category in establishments) == ["ch", "ch", "chu", "ehpad"]
    [(ght_staff,)] = query(
        data_dir,
        "SELECT COUNT(*) FROM orgs_staffmember s JOIN orgs_organisation o "
        "ON s.establishment_id = o.id WHERE o.path LIKE ?",
        ght_path + "%",
    )
    [(all_staff,)] = query(data_dir, "SELECT COUNT(*) FROM orgs_staffmember")
    assert 1800 <= ght_staff <= all_staff <= 2200
    roles = {role for (role,) in query(data_dir, "SELECT role FROM orgs_membership")}
    assert roles == set(Role.values)
    [(admins,)] = query(data_dir, "SELECT COUNT(*) FROM accounts_user WHERE is_superuser")
    assert admins == 1


def test_demo_is_deterministic(demo, tmp_path):
    data_dir, _ = demo
    other = tmp_path / "data"
    result = hygie("demo", "--no-serve", "-v0", data_dir=other)
    assert result.returncode == 0, result.stderr
    assert staff_names(other) == staff_names(data_dir)
    names = "SELECT kind, name, finess_ej, finess_et FROM orgs_organisation ORDER BY path"
    assert query(other, names) == query(data_dir, names)


def test_demo_is_idempotent(demo):
    data_dir, _ = demo
    before = staff_names(data_dir)
    result = hygie("demo", "--no-serve", "-v0", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "déjà présentes" in result.stdout
    assert staff_names(data_dir) == before
    assert query(data_dir, "SELECT COUNT(*) FROM accounts_user") == [(10,)]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("court", "au moins 12 caractères"),
        ("aaaaaaaaaaaaaaaa", "trop répétitif"),
        ("password1234", "trop courant"),
    ],
)
def test_createadmin_refuses_a_weak_password(demo, password, reason):
    data_dir, _ = demo
    result = hygie(
        "createadmin",
        "chef-projet",
        "--email",
        "chef.projet@chu-valmont.example",
        "--password-stdin",
        data_dir=data_dir,
        input=password + "\n",
        HYGIE_DEMO="1",
    )
    assert result.returncode != 0
    assert "Mot de passe refusé" in result.stderr
    assert reason in result.stderr.lower()
    assert query(data_dir, "SELECT 1 FROM accounts_user WHERE username = 'chef-projet'") == []


def test_createadmin_with_a_long_passphrase_is_journalled(demo):
    data_dir, _ = demo
    result = hygie(
        "createadmin",
        "rssi-astreinte",
        "--email",
        "astreinte@chu-valmont.example",
        "--password-stdin",
        data_dir=data_dir,
        input="marée basse sur la digue de Valmont\n",
        HYGIE_DEMO="1",
    )
    assert result.returncode == 0, result.stderr
    assert "Administrateur « rssi-astreinte » créé." in result.stdout
    assert query(
        data_dir,
        "SELECT is_superuser FROM accounts_user WHERE username = 'rssi-astreinte'",
    ) == [(1,)]
    assert query(
        data_dir,
        "SELECT target_label FROM core_auditevent WHERE action = 'auth.admin_created'",
    ) == [("rssi-astreinte",)]


def test_hygie_without_arguments_prints_its_commands(tmp_path):
    # No configuration at all: help must still work, and not drown in Django's list.
    result = hygie(data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    for command in ("hygie demo", "hygie serve", "hygie worker", "hygie backup", "hygie restore"):
        assert command in result.stdout
    assert "HYGIE_" in result.stdout
    assert hygie("--help", data_dir=tmp_path / "data").stdout == result.stdout
    assert hygie("--version", data_dir=tmp_path / "data").stdout.startswith("hygie ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_on_its_port_and_stops_on_sigterm(demo):
    data_dir, _ = demo
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hygie", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=hygie_env(data_dir, HYGIE_DEMO="1"),
        cwd=data_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        page = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion/", timeout=5) as r:
                    page = (r.status, r.headers, r.read().decode())
                break
            except OSError:
                time.sleep(0.2)
        assert page is not None, server.stderr.read().decode() if server.poll() else "timeout"
        status, headers, body = page
        assert status == 200
        assert 'name="username"' in body and 'name="password"' in body
        assert headers["X-Frame-Options"] == "DENY"
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/hygie/hygie.css", timeout=5
        ) as css:
            assert css.status == 200, "assets are served by Hygie itself, no CDN"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
