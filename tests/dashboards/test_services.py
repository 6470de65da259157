"""Dashboard figures on a small world, checked by hand (see tests/dashboards/builders.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from hygie.dashboards.services import build_dashboard
from hygie.orgs.models import Kind
from tests import factories
from tests.dashboards.builders import TODAY, big_ght, ght_world
from tests.governance import campaign

pytestmark = pytest.mark.django_db


def themes(dash, what="score"):
    return {f.theme.ref_id: getattr(f, what).value for f in dash.theme_figures}


def test_ght_figures_use_each_members_latest_campaign(world):
    framework = ght_world(world)
    dash = build_dashboard(world.ght_a, framework, today=TODAY)

    assert dash.establishment_count == 2 and dash.assessed_count == 2
    # (75 + 33.3) / 2 from the stored, rounded scores: CH A2's old, all-compliant campaign does not count.
    assert dash.score.value == 54.1
    assert dash.maturity.value == 4.0
    assert themes(dash) == {"GOV": 50.0, "TECH": 62.5}
    heat = {row.label: [cell.value for cell in row.scores] for row in dash.heatmap}
    assert heat == {"CH A2": [0.0, 100.0], "CHU A1": [100.0, 25.0]}


def test_adoption_counts_compliant_and_partial_separately(world):
    framework = ght_world(world)
    dash = build_dashboard(world.ght_a, framework, today=TODAY)

    # Only GOV.1 weighs 3 in the mini framework: it is the one priority measure.
    assert dash.priority_only
    [gov1] = dash.adoption
    assert gov1.measure.ref_id == "GOV.1"
    assert (gov1.compliant, gov1.partial, gov1.applicable) == (1, 0, 2)
    assert gov1.rate == 50.0 and gov1.partial_rate == 0.0


def test_trend_is_the_mean_score_per_quarter_and_per_year(world):
    framework = ght_world(world)
    quarters = build_dashboard(world.ght_a, framework, today=TODAY).trend
    assert [(p.label, p.score.value, p.score.count) for p in quarters] == [
        ("2025 T1", 100.0, 1),
        ("2026 T1", 54.1, 2),
    ]
    years = build_dashboard(world.ght_a, framework, period="year", today=TODAY).trend
    assert [(p.label, p.score.value) for p in years] == [("2025", 100.0), ("2026", 54.1)]


def test_ght_names_who_lags_and_on_which_theme(world):
    framework = ght_world(world)
    late = factories.org(Kind.ESTABLISHMENT, world.ght_a, name="CH en retard")
    campaign(late, framework, starts_on=dt.date(2024, 6, 1), results={"GOV.1": "compliant"})
    dash = build_dashboard(world.ght_a, framework, today=TODAY)

    lagging = {row.name: row for row in dash.lagging}
    assert set(lagging) == {"CH A2", "CH en retard"}
    # CH A2: 33.3 is more than 15 points under the mean; GOV at 0 against a GOV mean of 66.7.
    assert lagging["CH A2"].below_mean and not lagging["CH A2"].stale
    assert lagging["CH A2"].themes == ["GOV Gouvernance"]
    # The other one's latest campaign started more than 12 months before today.
    assert lagging["CH en retard"].stale
    assert dash.stale_count == 1


def test_region_is_aggregate_with_groups_under_five_masked(world):
    framework = ght_world(world)
    big_ght(world)
    dash = build_dashboard(world.region_a, framework, today=TODAY)

    assert not dash.masked and not dash.nominative
    assert dash.establishment_count == 8 and dash.assessed_count == 7
    assert dash.score.value == 79.8
    assert themes(dash) == {"GOV": 75.0, "TECH": 89.3}
    [gov1] = dash.adoption
    assert (gov1.compliant, gov1.partial, gov1.applicable) == (4, 2, 7)
    assert (gov1.rate, gov1.partial_rate) == (57.1, 28.6)
    heat = {row.label: (row.masked, [c.value for c in row.scores]) for row in dash.heatmap}
    assert heat == {
        "GHT A": (True, [None, None]),
        "GHT C": (False, [85.0, 100.0]),
        "Établissements hors GHT": (True, [None, None]),
    }
    groups = {row.label: (row.masked, row.score.value, row.lagging) for row in dash.groups}
    assert groups == {
        "GHT A": (True, None, 0),
        "GHT C": (False, 90.0, 0),
        "Établissements hors GHT": (True, None, 0),
    }
    categories = {row.label: (row.establishments, row.score.value) for row in dash.categories}
    # The CHU alone is masked; the CH group would give it away (level mean minus the CHs'), so
    # it is masked too (complementary suppression).
    assert categories == {
        "Centre hospitalier universitaire": (1, None),
        "Centre hospitalier": (7, None),
    }
    assert all(row.masked and row.lagging == 0 for row in dash.categories)
    assert dash.lagging == []
    # A quarter with fewer than five establishments assessed is masked too.
    assert [(p.label, p.score.masked, p.score.value) for p in dash.trend] == [
        ("2025 T1", True, None),
        ("2026 T1", False, 79.8),
    ]


def test_national_groups_by_region(world):
    framework = ght_world(world)
    big_ght(world)
    campaign(
        world.est_b1, framework, starts_on=dt.date(2026, 1, 20), results={"GOV.1": "compliant"}
    )
    dash = build_dashboard(world.national, framework, today=TODAY)

    groups = {row.label: (row.establishments, row.masked) for row in dash.groups}
    region_a, region_b = world.region_a.name, world.region_b.name
    # Region B alone would be masked; region A is masked with it, else B = national − A.
    assert groups[region_a] == (8, True) and groups[region_b] == (1, True)
    assert dash.establishment_count == 9 and dash.assessed_count == 8


def test_a_level_with_fewer_than_five_establishments_shows_nothing(world):
    framework = ght_world(world)
    dash = build_dashboard(world.region_a, framework, today=TODAY)  # a1, a2 and the clinic
    assert dash.masked
    assert dash.score.value is None and all(f.score.value is None for f in dash.theme_figures)
    assert all(a.rate is None for a in dash.adoption)


def test_establishment_level_shows_its_own_latest_campaign(world):
    framework = ght_world(world)
    dash = build_dashboard(world.est_a2, framework, today=TODAY)
    assert dash.score.value == 33.3
    assert themes(dash) == {"GOV": 0.0, "TECH": 100.0}
    assert dash.heatmap == [] and dash.lagging == []
    assert [(p.label, p.score.value) for p in dash.trend] == [("2025 T1", 100.0), ("2026 T1", 33.3)]


@pytest.mark.parametrize("level", ["ght", "region", "national"])
def test_query_count_does_not_grow_with_establishments(world, level, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    framework = ght_world(world)
    ght, _members = big_ght(world, 5)
    node = {"ght": ght, "region": world.region_a, "national": world.national}[level]

    with CaptureQueriesContext(connection) as small:
        small_dash = build_dashboard(node, framework, today=TODAY)
    for index in range(6):
        est = factories.org(Kind.ESTABLISHMENT, ght, name=f"Nouveau {index}")
        campaign(est, framework, starts_on=dt.date(2026, 1, 20), results={"GOV.1": "compliant"})
    with django_assert_num_queries(len(small)):
        large_dash = build_dashboard(node, framework, today=TODAY)
    assert large_dash.establishment_count == small_dash.establishment_count + 6


def test_complementary_suppression_masks_the_next_smallest_group_only_when_one_is_masked():
    from hygie.dashboards.services import Cell, GroupRow, complementary_suppression

    def row(label, count, masked=False):
        score = Cell(masked=True) if masked else Cell()
        return GroupRow(label, count, 0 if masked else count, score, 0 if masked else 1, masked)

    rows = [row("GHT 1", 3, masked=True), row("GHT 2", 12), row("GHT 3", 7)]
    result = {r.label: r.masked for r in complementary_suppression(rows)}
    assert result == {"GHT 1": True, "GHT 2": False, "GHT 3": True}
    # Two masked rows already protect each other; none masked needs nothing.
    two = [row("a", 3, masked=True), row("b", 4, masked=True), row("c", 9)]
    assert [r.masked for r in complementary_suppression(two)] == [True, True, False]
    none = [row("a", 6), row("b", 9)]
    assert [r.masked for r in complementary_suppression(none)] == [False, False]
