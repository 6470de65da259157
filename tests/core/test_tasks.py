"""Background tasks: what is enqueued gets run by `hygie worker`, and the queue keeps itself tidy."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hygie.core import tasks, throttle
from hygie.core.models import ThrottleBucket

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def run_worker(*options):
    call_command("worker", "--batch", "--interval", "0", *options, verbosity=0)


def test_enqueued_task_is_run_by_the_worker():
    result = tasks.ping.enqueue("bonjour")
    assert result.status == TaskResultStatus.READY

    run_worker()

    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["message"] == "bonjour"


def test_worker_only_serves_the_queues_it_is_given(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "urgent", "reports"],
        }
    }
    urgent = tasks.ping.using(queue_name="urgent").enqueue("urgent")
    later = tasks.ping.using(queue_name="reports").enqueue("later")

    run_worker("--queue-name", "urgent")

    urgent.refresh(), later.refresh()
    assert urgent.status == TaskResultStatus.SUCCESSFUL
    assert later.status == TaskResultStatus.READY


def test_housekeeping_prunes_idle_buckets_and_old_results_then_reschedules_itself():
    old = tasks.ping.enqueue("old")
    recent = tasks.ping.enqueue("recent")
    run_worker()  # runs both, and plants the first housekeeping run (due at once)
    assert throttle.allow("login-ip", "203.0.113.7", capacity=5, per_seconds=60)
    assert throttle.allow("login-ip", "198.51.100.9", capacity=5, per_seconds=60)
    long_ago = timezone.now() - timedelta(days=30)
    ThrottleBucket.objects.filter(key_hash=_hash("198.51.100.9")).update(updated_at=long_ago)
    DBTaskResult.objects.filter(pk=old.id).update(finished_at=long_ago)
    # An hour later, the next housekeeping run is due.
    waiting = DBTaskResult.objects.get(
        task_path=tasks.housekeeping.module_path, status=TaskResultStatus.READY
    )
    assert waiting.run_after > timezone.now() + timedelta(minutes=55)
    DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=timezone.now())

    run_worker()

    assert list(ThrottleBucket.objects.values_list("key_hash", flat=True)) == [
        _hash("203.0.113.7")
    ], "the idle bucket is gone, the live one kept"
    assert not DBTaskResult.objects.filter(pk=old.id).exists()
    assert DBTaskResult.objects.filter(pk=recent.id).exists()
    assert DBTaskResult.objects.get(pk=waiting.pk).return_value == {
        "throttle_buckets": 1,
        "task_results": 1,
        "password_reset_links": 0,  # contributed by the accounts app
        "assessment_reminders": 0,  # contributed by the assessments app
        "simulations_completed": 0,  # contributed by the phishing app
        "simulations_restarted": 0,
        "mail_reports_purged": 0,  # contributed by the mailreports app
        "mailbox_polls_planted": 0,
        "simulation_individual_data": 0,  # contributed by the phishing app (retention)
        "awareness_onboarding": 0,  # contributed by the awareness app (tracking)
        "awareness_invitations": 0,
        "awareness_reminders": 0,
        "awareness_session_reminders": 0,
        "awareness_kit_reminders": 0,
        "awareness_coverage_facts": 0,
        "awareness_xapi": 0,
        "awareness_tally": 0,
        "crisis_release": 0,
        "crisis_notification_reminders": 0,
        "access_decision_log_purge": 0,  # contributed by the access app (decision log retention)
        "access_review_orphan_files": 0,  # the access app (review files no import owns)
    }
    assert DBTaskResult.objects.filter(
        task_path=tasks.housekeeping.module_path,
        status=TaskResultStatus.READY,
        run_after__gt=timezone.now() + timedelta(minutes=55),
    ).exists(), "the next run is planned"


def test_several_workers_keep_a_single_housekeeping_run_waiting():
    for _ in range(3):
        run_worker()
    assert (
        DBTaskResult.objects.filter(
            task_path=tasks.housekeeping.module_path, status=TaskResultStatus.READY
        ).count()
        == 1
    )
    assert (
        DBTaskResult.objects.filter(
            task_path=tasks.housekeeping.module_path, status=TaskResultStatus.SUCCESSFUL
        ).count()
        == 1
    ), "the waiting run is due in an hour: later workers do not run housekeeping again"


def test_a_failing_task_is_recorded_and_the_worker_goes_on():
    broken = tasks.ping.enqueue(message={"not": "a string"})
    DBTaskResult.objects.filter(pk=broken.id).update(task_path="hygie.core.tasks.no_such_task")
    fine = tasks.ping.enqueue("fine")

    run_worker()

    assert DBTaskResult.objects.get(pk=broken.id).status == TaskResultStatus.FAILED
    fine.refresh()
    assert fine.status == TaskResultStatus.SUCCESSFUL


def test_worker_refuses_a_broker_backend_with_a_pointer_to_the_docs(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with pytest.raises(CommandError, match="DummyBackend.*docs/operations.md"):
        run_worker()


def _hash(ip):
    return hashlib.sha256(f"login-ip:{ip}".encode()).hexdigest()


def test_housekeeping_command_for_timers():
    assert throttle.allow("totp", "42", capacity=5, per_seconds=300)
    ThrottleBucket.objects.update(updated_at=timezone.now() - timedelta(days=2))
    out = io.StringIO()
    call_command("housekeeping", stdout=out)
    assert "1 compteur(s) de limitation inactif(s)" in out.getvalue()
    assert not ThrottleBucket.objects.exists()


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server on a free loopback port, stopped by PID afterwards."""
    binary = shutil.which("redis-server")
    if binary is None or importlib.util.find_spec("django_tasks_rq") is None:
        pytest.skip("needs Debian's redis-server and the django-tasks-rq package")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_same_tasks_run_on_redis_with_rq_workers(redis_url, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HYGIE_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        PYTHONPATH=str(ROOT),
        HYGIE_DEBUG="true",
        HYGIE_DATA_DIR=str(tmp_path / "data"),
        HYGIE_TASKS_BACKEND="django_tasks_rq.RQBackend",
        HYGIE_REDIS_URL=redis_url,
    )

    def hygie(*args):
        result = subprocess.run(
            [sys.executable, "-m", "hygie", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    hygie("migrate", "-v0")
    result_id = hygie(
        "shell", "-c", "from hygie.core.tasks import ping; print(ping.enqueue('par Redis').id)"
    ).splitlines()[-1]
    hygie("worker", "--batch", "-v0")
    shown = hygie(
        "shell",
        "-c",
        "from hygie.core.tasks import ping; "
        f"r = ping.get_result({result_id!r}); print(r.status, r.return_value['message'])",
    )
    assert shown.strip().endswith("SUCCESSFUL par Redis")
