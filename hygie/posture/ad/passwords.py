"""Password policy and password ages of a domain, against ANSSI and the establishment's policy.

STAND-IN written by the lead: the rules helper replaces this module (same names).
"""

from __future__ import annotations

import datetime as dt

from hygie.posture.ad.snapshot import Snapshot


def analyse(snapshot: Snapshot, *, now: dt.datetime, target=None) -> dict:
    """JSON-serialisable figures stored in ADAudit.stats["passwords"]."""
    return {}


def fact_summary(analysis: dict) -> tuple[str, float | None]:
    """(summary, value) of the posture.password_policy evidence fact."""
    return "", None
