"""Background polling of the abuse mailboxes (conventions: hygie/core/tasks.py).

`poll_mailboxes` reads every active mailbox then reschedules itself, so one run is always
waiting; creating a mailbox and the hourly housekeeping plant it when it is missing. With a
broker that cannot defer tasks, run `hygie mailreports-poll` from a timer instead.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from hygie.mailreports.models import Mailbox

logger = logging.getLogger(__name__)

# Longer than any poll takes (a batch of 200 messages with a 20 s timeout per command).
LEASE = timedelta(minutes=15)


def poll_every() -> timedelta:
    return timedelta(seconds=settings.MAILREPORTS_POLL_SECONDS)


def claim(mailbox_id: int, now=None) -> bool:
    """Take the mailbox for this worker; False when another one is polling it."""
    now = now or timezone.now()
    return bool(
        Mailbox.objects.filter(pk=mailbox_id, active=True)
        .filter(Q(poll_claimed_at__isnull=True) | Q(poll_claimed_at__lt=now - LEASE))
        .update(poll_claimed_at=now)
    )


def poll_all(mailbox_ids=None) -> dict:
    from hygie.mailreports import imap

    mailboxes = Mailbox.objects.filter(active=True).select_related("organisation")
    if mailbox_ids:
        mailboxes = mailboxes.filter(pk__in=mailbox_ids)
    counts = {"mailboxes": 0, "stored": 0, "credited": 0, "failed": 0, "busy": 0}
    for mailbox in mailboxes:
        if not claim(mailbox.pk):
            counts["busy"] += 1
            continue
        try:
            outcome = imap.poll(mailbox)
        finally:
            Mailbox.objects.filter(pk=mailbox.pk).update(poll_claimed_at=None)
        counts["mailboxes"] += 1
        counts["stored"] += outcome.stored
        counts["credited"] += outcome.credited
        counts["failed"] += int(not outcome.ok)
        if not outcome.ok:
            logger.warning("mailbox %s: %s", mailbox.pk, outcome.message)
    return counts


@task()
def poll_mailboxes() -> dict:
    try:
        return poll_all()
    finally:
        schedule_poll(run_after=timezone.now() + poll_every())


def _database_backend_in_use() -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(poll_mailboxes.get_backend(), DatabaseBackend)


def schedule_poll(run_after=None) -> bool:
    """Enqueue a poll unless one is already waiting; True if one was added."""
    if not _database_backend_in_use():
        return False
    if not Mailbox.objects.filter(active=True).exists():
        return False
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=poll_mailboxes.module_path,
        backend_name=poll_mailboxes.backend,
        status=TaskResultStatus.READY,
    ).exists()
    if waiting:
        return False
    options = {"run_after": run_after} if run_after is not None else {}
    poll_mailboxes.using(**options).enqueue()
    return True


def ensure_poll_scheduled() -> int:
    """For housekeeping: 1 when the poll chain had to be planted again."""
    return int(schedule_poll())
