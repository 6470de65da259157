"""Live collection of an Active Directory as a background task ("Collecter maintenant").

The task reads the directory through `collect.collect(connection)` and records the audit; a
`CollectError` (unreachable host, TLS, bind refused…) is stored on the connection for the page
to show, and journalled. Safe to run twice: each run records its own audit of the data it read.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tasks import task

from hygie.core.audit import record_event
from hygie.posture.ad.snapshot import CollectError
from hygie.posture.models import DirectoryConnection


@task()
def collect_directory(connection_id: int, user_id: int | None = None) -> dict:
    return run_collection(connection_id, user_id)


def run_collection(connection_id: int, user_id: int | None = None) -> dict:
    from hygie.posture.ad import audits, collect

    connection = (
        DirectoryConnection.objects.select_related("organisation").filter(pk=connection_id).first()
    )
    if connection is None:
        return {"audit": None, "error": "deleted"}
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        snapshot = collect.collect(connection)
    except CollectError as exc:
        connection.last_error = str(exc)[:2000]
        connection.save(update_fields=["last_error"])
        record_event(
            "posture.ad_collect_failed",
            actor=user,
            target=connection,
            organisation=connection.organisation,
            details={"error": connection.last_error},
        )
        return {"audit": None, "error": connection.last_error}
    audit = audits.record_audit(connection.organisation, snapshot, user=user, connection=connection)
    connection.last_collected_at = timezone.now()
    connection.last_error = ""
    connection.save(update_fields=["last_collected_at", "last_error"])
    return {"audit": audit.pk, "error": ""}
