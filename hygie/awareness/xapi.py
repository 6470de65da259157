"""Delivering the xAPI outbox (`Statement`) to each organisation's learning record store.

xAPI 1.0.3: POST <endpoint>/statements with a JSON array, `X-Experience-API-Version: 1.0.3`,
HTTP Basic authentication. Each statement carries its outbox UUID as its id, so sending the
same batch twice stores nothing twice on the LRS side (a known id is a no-op or a 409
Conflict, which counts as delivered). A failed batch is tried again later with exponential
back-off, per statement (decision 0535).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from hygie.awareness.models import LearningRecordStore, Statement
from hygie.core.net import verified_tls_context

logger = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
BATCH_SIZE = 50
TIMEOUT_SECONDS = 15
FIRST_RETRY = dt.timedelta(minutes=5)
LONGEST_RETRY = dt.timedelta(hours=12)


class DeliveryError(Exception):
    pass


@dataclass
class PushReport:
    sent: int = 0
    failed: int = 0


def statements_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + "/statements"


def backoff(attempts: int) -> dt.timedelta:
    """5 min, 10, 20, 40… at most 12 hours between tries."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def _post(store: LearningRecordStore, statements: list[dict]) -> None:
    credentials = base64.b64encode(f"{store.username}:{store.password}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 — the scheme is checked by the settings form
        statements_url(store.endpoint),
        data=json.dumps(statements).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Experience-API-Version": XAPI_VERSION,
            "Authorization": f"Basic {credentials}",
        },
    )
    context = verified_tls_context() if store.endpoint.startswith("https://") else None
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=context) as answer:  # noqa: S310
            answer.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 409 and len(statements) == 1:
            return  # the LRS already holds this id: delivered before
        detail = exc.read()[:200].decode("utf-8", "replace")
        raise DeliveryError(f"HTTP {exc.code} {detail}".strip()) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(str(getattr(exc, "reason", exc))) from None


def _due(store: LearningRecordStore, deeper_paths: list[str], now):
    statements = Statement.objects.filter(
        establishment__path__startswith=store.organisation.path, sent_at__isnull=True
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    for path in deeper_paths:  # an establishment with its own LRS sends there, not to its GHT's
        statements = statements.exclude(establishment__path__startswith=path)
    return statements.order_by("created_at", "pk")


def push_store(store: LearningRecordStore, *, now=None, limit: int = 5000) -> PushReport:
    now = now or timezone.now()
    report = PushReport()
    deeper = list(
        LearningRecordStore.objects.filter(
            organisation__path__startswith=store.organisation.path, enabled=True
        )
        .exclude(pk=store.pk)
        .values_list("organisation__path", flat=True)
    )
    pending = list(_due(store, deeper, now)[:limit])
    for start in range(0, len(pending), BATCH_SIZE):
        batch = pending[start : start + BATCH_SIZE]
        try:
            try:
                _post(store, [s.statement for s in batch])
            except DeliveryError as exc:
                if not str(exc).startswith("HTTP 409") or len(batch) == 1:
                    raise
                # Some ids are known already: one by one, each 409 meaning "delivered".
                for statement in batch:
                    _post(store, [statement.statement])
        except DeliveryError as exc:
            message = str(exc)[:500]
            for statement in batch:
                statement.attempts += 1
                statement.last_error = message
                statement.next_attempt_at = now + backoff(statement.attempts)
            Statement.objects.bulk_update(batch, ["attempts", "last_error", "next_attempt_at"])
            LearningRecordStore.objects.filter(pk=store.pk).update(last_error=message)
            report.failed += len(batch)
            logger.warning("xAPI delivery to %s failed: %s", store.endpoint, message)
            break  # the LRS is unwell: the rest waits for the next run
        Statement.objects.filter(pk__in=[s.pk for s in batch]).update(
            sent_at=now, last_error="", next_attempt_at=None
        )
        LearningRecordStore.objects.filter(pk=store.pk).update(last_sent_at=now, last_error="")
        report.sent += len(batch)
    return report


def push_pending(now=None) -> int:
    """Housekeeping: every enabled LRS receives its due statements; returns how many went."""
    sent = 0
    for store in LearningRecordStore.objects.filter(enabled=True).select_related("organisation"):
        sent += push_store(store, now=now).sent
    return sent
