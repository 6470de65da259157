"""The decision log writer: batched appends off the decision path, the retention purge, and
nothing else ever changing the log."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.utils import timezone

from hygie.access.models import Decision
from hygie.access.pdp import log
from hygie.core.tasks import EXTRA_HOUSEKEEPING


def _record(app, n=1, at=None, **extra):
    for i in range(n):
        log.record(
            application_id=app.pk,
            at=at or timezone.now(),
            principal=f"u{i}",
            action="read",
            resource='Record::"P1"',
            allowed=True,
            enforced=True,
            **extra,
        )


@pytest.mark.django_db
def test_decisions_wait_in_the_buffer_and_are_written_in_one_batch(ehr):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    threads = [threading.Thread(target=_record, args=(ehr.app, 250)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.waiting() == 1000 and not Decision.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        assert log.flush() == 1000
    # Bulk inserts (SQLite splits them by its variable limit), not one statement per row.
    assert len(queries) <= 20
    assert Decision.objects.count() == 1000 and log.waiting() == 0


@pytest.mark.django_db
def test_a_written_decision_reads_back_as_recorded(ehr):
    at = timezone.now().replace(microsecond=123456) - dt.timedelta(hours=3)
    log.record(
        application_id=ehr.app.pk,
        at=at,
        request_id="req-1",
        principal='User::"ide.martin"',
        action="read",
        resource='Patient::"P1"',
        allowed=False,
        enforced=False,
        break_glass=True,
        policies=["soin-unite", "bris-de-glace"],
        inputs={"zone": "care", "mfa": True, "units": ["Cardiologie"], "note": "é « »"},
        errors=["engine error: x"],
        policy_version=7,
        micros=42,
    )
    _record(ehr.app)  # the defaults
    assert log.flush() == 2
    full, plain = Decision.objects.order_by("id")
    assert full.at == at and full.request_id == "req-1"
    assert (full.allowed, full.enforced, full.break_glass) == (False, False, True)
    assert full.policies == ["soin-unite", "bris-de-glace"]
    assert full.inputs == {"zone": "care", "mfa": True, "units": ["Cardiologie"], "note": "é « »"}
    assert full.errors == ["engine error: x"]
    assert (full.policy_version, full.micros) == (7, 42)
    assert (plain.policies, plain.inputs, plain.errors) == ([], {}, [])
    assert (plain.request_id, plain.break_glass, plain.policy_version) == ("", False, None)
    # The log's own filters still work on what the writer stored.
    assert Decision.objects.filter(inputs__zone="care").get() == full
    with pytest.raises(TypeError, match="unknown decision fields: colour"):
        log.record(application_id=ehr.app.pk, colour="red")
    # A row the database would refuse never enters the buffer (it would block every batch).
    with pytest.raises(TypeError, match="missing: allowed, enforced"):
        log.record(application_id=ehr.app.pk, principal="u", action="read", resource="r")
    assert log.waiting() == 0


@pytest.mark.django_db
def test_the_log_refuses_updates_and_deletes_and_purge_keeps_the_retention(ehr):
    now = timezone.now()
    ehr.app.log_retention_days = 30
    ehr.app.save()
    _record(ehr.app, 2, at=now - dt.timedelta(days=31))
    _record(ehr.app, 3, at=now - dt.timedelta(days=29))
    log.flush()
    with pytest.raises(ValueError, match="append-only"):
        Decision.objects.filter(application=ehr.app).update(allowed=False)
    with pytest.raises(ValueError, match="append-only"):
        Decision.objects.all().delete()
    assert EXTRA_HOUSEKEEPING["access_decision_log_purge"] is log.purge
    assert log.purge(now) == 2
    assert Decision.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_background_writer_flushes_within_a_fraction_of_a_second(ehr):
    log.background = True
    started = time.monotonic()
    _record(ehr.app, 10)
    while not Decision.objects.count() and time.monotonic() - started < 3:
        time.sleep(0.02)
    assert Decision.objects.count() == 10
    assert time.monotonic() - started < 1.0
    log.background = False
