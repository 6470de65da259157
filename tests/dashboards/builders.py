"""A small, hand-checkable governance world for the dashboard tests."""

from __future__ import annotations

import datetime as dt

from hygie.assessments import services as assessments
from hygie.assessments.models import Result
from hygie.orgs.models import Category, Kind
from tests import factories
from tests.governance import campaign, mini_framework

C, P, N, NA = Result.COMPLIANT, Result.PARTIAL, Result.NON_COMPLIANT, Result.NOT_APPLICABLE
TODAY = dt.date(2026, 3, 1)


def ght_world(w):
    """GHT A's two members, with figures worked out by hand in test_services.

    CHU A1 (2026-01-05): GOV.1 C (weight 3, maturity 4), GOV.2 C, TECH.1 N, TECH.2 P
        → GOV 100, TECH 25, overall 4.5 / 6 = 75.0, maturity 4.
    CH A2, old campaign (2025-01-10): everything compliant → 100 (trend only).
    CH A2, latest (2026-02-01): GOV.1 N, GOV.2 N, TECH.1 C, TECH.2 C
        → GOV 0, TECH 100, overall 2 / 6 = 33.3.
    """
    framework = mini_framework()
    a1 = campaign(
        w.est_a1,
        framework,
        starts_on=dt.date(2026, 1, 5),
        results={"GOV.1": C, "GOV.2": C, "TECH.1": N, "TECH.2": P},
    )
    answer = a1.answers.get(node__ref_id="GOV.1")
    assessments.update_answer(answer, user=None, maturity=4)
    campaign(
        w.est_a2,
        framework,
        starts_on=dt.date(2025, 1, 10),
        results={"GOV.1": C, "GOV.2": C, "TECH.1": C, "TECH.2": C},
    )
    campaign(
        w.est_a2,
        framework,
        starts_on=dt.date(2026, 2, 1),
        results={"GOV.1": N, "GOV.2": N, "TECH.1": C, "TECH.2": C},
    )
    return framework


def big_ght(w, size: int = 5, *, name: str = "GHT C", starts_on=dt.date(2026, 1, 15)):
    """A GHT of `size` establishments in region A; member i answers GOV.1 compliant when i is
    even, partially compliant otherwise, and everything else compliant."""
    framework = mini_framework()
    ght = factories.org(Kind.GHT, w.region_a, name=name)
    members = []
    for index in range(size):
        est = factories.org(
            Kind.ESTABLISHMENT,
            ght,
            name=f"{name} membre {index + 1}",
            category=Category.CHU if index == 0 else Category.CH,
        )
        campaign(
            est,
            framework,
            starts_on=starts_on,
            results={"GOV.1": C if index % 2 == 0 else P, "GOV.2": C, "TECH.1": C, "TECH.2": C},
        )
        members.append(est)
    return ght, members
