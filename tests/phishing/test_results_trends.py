"""An organisation's campaigns over time, and the people who click again and again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from hygie.orgs.models import Kind
from hygie.phishing import results
from hygie.phishing.privacy import pseudonym
from tests import factories
from tests.clients import browser
from tests.phishing.results_data import campaign, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_campaigns(world):
    """Urgences A1 (8 people) and Accueil (3 people) in three campaigns; in Urgences the same
    two people click every time, a third only once; Accueil's first person clicks twice."""
    world.desk = factories.org(Kind.SERVICE, world.site_a1, name="Accueil A1")
    urgences = factories.staff(world.est_a1, service=world.service_a1)
    crew = [urgences] + [factories.staff(world.est_a1, service=world.service_a1) for _ in range(7)]
    desk = [factories.staff(world.est_a1, service=world.desk) for _ in range(3)]
    simulations = []
    for index, (clicked, reported) in enumerate([(3, 1), (2, 3), (2, 5)]):
        simulation = campaign(
            world.est_a1, f"Campagne {index + 1}", launched_days_ago=90 - index * 30
        )
        # The third person clicks in the first campaign only (clicked=3 there).
        people(
            simulation,
            8,
            establishment=world.est_a1,
            site=world.site_a1,
            service=world.service_a1,
            staff=crew,
            clicked=clicked,
            reported=reported,
            report_after=timedelta(minutes=20 * (3 - index)),
        )
        people(
            simulation,
            3,
            establishment=world.est_a1,
            site=world.site_a1,
            service=world.desk,
            staff=desk,
            clicked=1 if index < 2 else 0,
        )
        simulations.append(simulation)
    world.crew, world.desk_staff = crew, desk
    return simulations


def test_trend_per_campaign_and_per_service(world, three_campaigns):
    trend = results.trend(world.est_a1)
    assert [p.simulation.name for p in trend.points] == ["Campagne 1", "Campagne 2", "Campagne 3"]
    assert [p.figures.click_rate for p in trend.points] == [36.4, 27.3, 18.2]
    assert [p.figures.report_rate for p in trend.points] == [9.1, 27.3, 45.5]
    assert [p.figures.report_median for p in trend.points] == [
        timedelta(minutes=60),
        timedelta(minutes=40),
        timedelta(minutes=20),
    ]
    # Accueil has 3 people: never shown; Urgences alone would then be the total minus
    # Accueil... so it is masked as well (complementary suppression).
    assert trend.services == []


def test_trend_page(world, three_campaigns):
    body = browser(world.reader).get(reverse("phishing:results_trends", args=[world.est_a1.pk]))
    text = body.content.decode()
    assert text.count('data-testid="trend-row"') == 3
    assert 'data-chart="chart-trend-clicks"' in text and "36.4 %" in text.replace(",", ".")


def test_repeat_clickers_counted_per_service_and_listed_pseudonymised(world, three_campaigns):
    repeat = results.repeat_clickers(world.est_a1)
    # Two people of Urgences clicked three times, one of Accueil twice.
    assert repeat.total == 3
    assert [p.campaigns for p in repeat.people] == [3, 3, 2]
    expected = {pseudonym(world.est_a1.pk, s.pk, s.email) for s in world.crew[:2]}
    expected.add(pseudonym(world.est_a1.pk, world.desk_staff[0].pk, world.desk_staff[0].email))
    assert {p.pseudonym for p in repeat.people} == expected
    rows = {row.label: row for row in repeat.per_service}
    assert rows["Accueil A1"].masked and rows["Urgences A1"].masked  # complement of Accueil

    editor = browser(world.editor).get(reverse("phishing:results_trends", args=[world.est_a1.pk]))
    text = editor.content.decode()
    assert 'data-testid="repeat-total">3<' in text
    assert len(re.findall(r'data-testid="repeat-person"', text)) == 3
    assert world.crew[0].last_name not in text
    # Readers get the counts, not the list.
    reader = browser(world.reader).get(reverse("phishing:results_trends", args=[world.est_a1.pk]))
    assert 'data-testid="repeat-person"' not in reader.content.decode()


def test_repeat_clickers_of_a_large_service_are_counted(world, three_campaigns):
    other = factories.org(Kind.SERVICE, world.site_a1, name="Cardiologie A1")
    cardio = [factories.staff(world.est_a1, service=other) for _ in range(9)]
    for simulation in three_campaigns:
        people(simulation, 9, establishment=world.est_a1, service=other, staff=cardio, clicked=1)
    rows = {row.label: row for row in results.repeat_clickers(world.est_a1).per_service}
    assert (rows["Cardiologie A1"].targeted, rows["Cardiologie A1"].clicked) == (9, 1)
    # Accueil (3 people) is masked, and Urgences, the next smallest, with it.
    assert rows["Accueil A1"].masked and rows["Urgences A1"].masked


def test_trends_of_another_organisation_answer_404(world, three_campaigns):
    for user in (world.outsider, world.analyst):
        url = reverse("phishing:results_trends", args=[world.est_a1.pk])
        assert browser(user).get(url).status_code == 404
    # A service or a region has no campaigns of its own.
    for node in (world.service_a1, world.region_a):
        url = reverse("phishing:results_trends", args=[node.pk])
        assert browser(world.editor).get(url).status_code == 404


def test_large_services_appear_in_the_trend_with_their_time_to_report(world, three_campaigns):
    other = factories.org(Kind.SERVICE, world.site_a1, name="Cardiologie A1")
    cardio = [factories.staff(world.est_a1, service=other) for _ in range(9)]
    for simulation in three_campaigns:
        people(simulation, 9, establishment=world.est_a1, service=other, staff=cardio,
               clicked=3, reported=2, report_after=timedelta(minutes=25))  # fmt: skip
    trend = results.trend(world.est_a1)
    assert [label for _key, label in trend.services] == ["Cardiologie A1"]
    cells = [point.services[other.pk] for point in trend.points]
    assert [c.click_rate for c in cells] == [33.3, 33.3, 33.3]
    assert [c.report_delay for c in cells] == ["25 min"] * 3
    page = browser(world.reader).get(reverse("phishing:results_trends", args=[world.est_a1.pk]))
    assert "33,3 % / 22,2 % / 25 min" in page.content.decode()


def test_the_navigation_leads_to_the_results(world):
    assert 'data-testid="nav-simulation-results"' in browser(world.editor).get("/").content.decode()
    home = browser(world.analyst).get("/").content.decode()
    assert 'data-testid="nav-simulation-overview"' in home
    assert 'data-testid="nav-simulation-results"' not in home
