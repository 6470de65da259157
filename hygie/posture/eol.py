"""End-of-life dates of operating systems: the dataset shipped with Hygie and the matcher.

STAND-IN written by the lead: the assets helper replaces this module (same names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ReleaseSpec:
    product: str
    cycle: str
    label: str
    patterns: tuple[str, ...]
    released_on: dt.date | None
    support_ends_on: dt.date | None
    eol_on: dt.date | None
    extended_until: dt.date | None


def builtin_releases() -> list[ReleaseSpec]:
    return []


def match(os_name: str, os_version: str, releases) -> ReleaseSpec | None:
    """The release an OS string belongs to (releases: ReleaseSpec or EolRelease objects)."""
    return None
