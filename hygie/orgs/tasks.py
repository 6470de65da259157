"""Background work of the orgs app, run by `hygie worker` (django-tasks)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tasks import task

from hygie.orgs.ldap_sync import sync_directory
from hygie.orgs.models import DirectorySource


@task()
def sync_directory_source(source_id: int, actor_id: int | None = None) -> dict:
    """Sync one establishment's staff from its LDAP directory; the report is kept on the source."""
    source = DirectorySource.objects.select_related("establishment").filter(pk=source_id).first()
    if source is None:
        return {"status": "failed", "error": "source removed"}
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return sync_directory(source, actor=actor).as_dict()
