"""Background work of kits: e-mailing a kit to the services it was just distributed to.

Safe to run twice or side by side: each distribution is claimed before its e-mail goes out.
"""

from __future__ import annotations

from django_tasks import task


@task()
def send_kit_distributions(kit_id: int) -> dict:
    from hygie.awareness import kits
    from hygie.awareness.models import Kit

    kit = Kit.objects.filter(pk=kit_id).select_related("organisation").first()
    if kit is None:
        return {"sent": 0, "failed": 0}
    sent, failed = kits.send_pending(kit)
    return {"sent": sent, "failed": failed}
