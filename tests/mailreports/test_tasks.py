"""The poll chain: one poll always waiting, planted by a new mailbox and by housekeeping."""

from __future__ import annotations

from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hygie.core.tasks import run_housekeeping
from hygie.mailreports import tasks
from hygie.mailreports.models import Mailbox


def waiting_polls() -> int:
    return DBTaskResult.objects.filter(
        task_path=tasks.poll_mailboxes.module_path, status=TaskResultStatus.READY
    ).count()


def test_housekeeping_plants_one_poll_when_a_mailbox_exists(world):
    assert tasks.schedule_poll() is False  # no mailbox, nothing to poll
    Mailbox.objects.create(
        organisation=world.est_a1, name="A1", host="127.0.0.1", port=1, username="u", timeout=1
    )
    assert run_housekeeping()["mailbox_polls_planted"] == 1
    assert run_housekeeping()["mailbox_polls_planted"] == 0
    assert waiting_polls() == 1


def test_a_poll_reschedules_itself_and_a_busy_mailbox_is_left_alone(world):
    mailbox = Mailbox.objects.create(
        organisation=world.est_a1, name="A1", host="127.0.0.1", port=1, username="u", timeout=1
    )
    assert tasks.claim(mailbox.pk)
    assert tasks.poll_all()["busy"] == 1  # another worker holds it
    Mailbox.objects.update(poll_claimed_at=None)
    counts = tasks.poll_mailboxes.call()
    assert counts["failed"] == 1  # nothing listens on port 1: reported, not raised
    assert waiting_polls() == 1
    mailbox.refresh_from_db()
    assert mailbox.last_poll_ok is False and "Connexion impossible" in mailbox.last_poll_message
