"""The rules of the Active Directory audit, their scores and the maturity level.

STAND-IN written by the lead: the rules helper replaces this module (same names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hygie.posture.ad.snapshot import Snapshot

RULES_VERSION = "0"
MAX_LISTED = 200  # object names kept per finding


@dataclass(frozen=True)
class Rule:
    id: str  # e.g. "P-ADMIN-SPN"
    category: str  # models.Category value
    title: str  # French, gettext_lazy
    description: str
    remediation: str
    level: int  # ANSSI maturity level 1–5 this rule belongs to
    points: int  # points when triggered (or per object, see per_object)
    per_object: bool = False
    max_points: int = 100
    reference: str = ""  # ANSSI checkpoint or other reference


@dataclass
class Finding:
    rule: Rule
    objects: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.objects)

    @property
    def points(self) -> int:
        if self.rule.per_object:
            return min(self.rule.max_points, self.rule.points * max(1, self.count))
        return self.rule.points


def catalogue() -> list[Rule]:
    return []


def evaluate(snapshot: Snapshot, *, now: dt.datetime | None = None, releases=None) -> list[Finding]:
    return []


def category_scores(findings: list[Finding]) -> dict[str, int]:
    scores = {"stale": 0, "privileged": 0, "trusts": 0, "anomalies": 0}
    for finding in findings:
        scores[finding.rule.category] = min(100, scores[finding.rule.category] + finding.points)
    return scores


def maturity(findings: list[Finding]) -> int:
    return min((finding.rule.level for finding in findings), default=5)
