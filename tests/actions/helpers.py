"""Builders for action-plan tests."""

from __future__ import annotations

import datetime as dt

from hygie.actions.models import ActionItem
from hygie.frameworks.models import RequirementNode
from tests.governance import mini_framework


def measure(ref_id: str) -> RequirementNode:
    return RequirementNode.objects.get(framework=mini_framework(), ref_id=ref_id)


def item(organisation, title="Rédiger la PSSI", *, ref_id: str | None = None, **extra):
    if ref_id:
        extra["node"] = measure(ref_id)
    extra.setdefault("starts_on", dt.date(2026, 1, 5))
    extra.setdefault("due_on", dt.date(2026, 6, 30))
    return ActionItem.objects.create(organisation=organisation, title=title, **extra)
