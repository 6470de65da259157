"""One organisation's plan as lines (own items and shares of pooled GHT actions), filtered.

The page, the timeline and the XLSX/PDF exports all read the same lines, so they agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.actions import services
from hygie.actions.models import ActionItem, ActionMember, ActionStatus
from hygie.orgs.models import Organisation

SHARE_PREFIX = "PART-"


@dataclass
class PlanLine:
    item: ActionItem  # the action (for a share, the GHT-level action)
    share: ActionMember | None = None
    overdue: bool = False

    @property
    def key(self) -> str:
        """The ID column: an item's number, or PART-n for a member's share of a pooled action."""
        return f"{SHARE_PREFIX}{self.share.pk}" if self.share else str(self.item.pk)

    @property
    def status(self) -> str:
        return self.share.status if self.share else self.item.status

    @property
    def status_label(self) -> str:
        return str(ActionStatus(self.status).label)

    @property
    def progress(self) -> int:
        return self.share.progress if self.share else self.item.progress

    @property
    def is_pooled(self) -> bool:
        return self.share is not None or bool(self._members)

    @property
    def _members(self) -> list[ActionMember]:
        if self.share is not None:
            return []
        return list(self.item.members.all())

    @property
    def members(self) -> list[ActionMember]:
        return self._members

    @property
    def pooling_text(self) -> str:
        """The "Mutualisation" column: members' progress, or who carries the pooled action."""
        if self.share is not None:
            return _("Mutualisée par %(ght)s (moyenne %(mean)s %%)") % {
                "ght": self.item.organisation,
                "mean": self.item.progress,
            }
        return " ; ".join(
            f"{share.member} : {share.progress} % ({ActionStatus(share.status).label})"
            for share in self._members
        )

    @property
    def start(self) -> dt.date:
        return self.item.starts_on or timezone.localtime(self.item.created_at).date()


def lines_for(organisation: Organisation, filters: dict | None = None) -> list[PlanLine]:
    filters = filters or {}
    today = timezone.localdate()
    items = services.plan_items(organisation)
    shares = services.shares_of(organisation)
    if filters.get("priority"):
        items = items.filter(priority=filters["priority"])
        shares = shares.filter(action__priority=filters["priority"])
    if filters.get("owner"):
        items = items.filter(owner=filters["owner"])
        shares = shares.filter(action__owner=filters["owner"])
    if filters.get("status"):
        items = items.filter(status=filters["status"])
        shares = shares.filter(status=filters["status"])
    lines = [PlanLine(item) for item in items] + [PlanLine(share.action, share) for share in shares]
    for line in lines:
        line.overdue = services.is_overdue(line.item.due_on, line.status, today)
    if filters.get("overdue"):
        lines = [line for line in lines if line.overdue]
    far = dt.date.max
    lines.sort(key=lambda line: (line.item.due_on or far, line.item.priority, line.item.pk))
    return lines
