"""Results pages run a fixed number of queries, whatever the number of recipients, services,
sites, job families or campaigns (a 100,000-recipient campaign must stay fast)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hygie.orgs.models import JobFamily, Kind
from tests import factories
from tests.clients import browser
from tests.phishing.results_data import campaign, people

pytestmark = pytest.mark.django_db
FAMILIES = [JobFamily.CARE, JobFamily.MEDICAL, JobFamily.ADMINISTRATIVE, JobFamily.TECHNICAL]


def build(world, establishment, services: int, per_service: int, campaigns: int = 2):
    """`campaigns` campaigns over `services` services spread on two sites."""
    sites = [factories.org(Kind.SITE, establishment, name=f"Site {n}") for n in range(2)]
    units = [
        factories.org(Kind.SERVICE, sites[n % 2], name=f"Service {n}") for n in range(services)
    ]
    simulations = []
    for index in range(campaigns):
        simulation = campaign(establishment, f"Campagne {index}", launched_days_ago=30 - index)
        for n, unit in enumerate(units):
            people(
                simulation,
                per_service,
                establishment=establishment,
                site=sites[n % 2],
                service=unit,
                job_family=FAMILIES[n % len(FAMILIES)],
                clicked=per_service // 3,
                submitted=per_service // 5,
                reported=per_service // 4,
            )
        simulations.append(simulation)
    return simulations


def count(client, url, status=200) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == status
    return len(captured)


PAGES = {
    "results": lambda s: reverse("phishing:results", args=[s.pk]),
    "csv": lambda s: reverse("phishing:results_csv", args=[s.pk]),
    "people": lambda s: reverse("phishing:results_people", args=[s.pk]),
    "trends": lambda s: reverse("phishing:results_trends", args=[s.organisation_id]),
    "overview": lambda s: reverse("phishing:results_overview", args=[s.organisation.parent_id]),
}


@pytest.mark.parametrize("page", PAGES, ids=list(PAGES))
def test_query_count_does_not_grow_with_the_campaign(world, page):
    # The overview is the region's: counted before and after the region's campaigns grow.
    client = browser(world.analyst if page == "overview" else world.editor)
    url = PAGES[page]
    region = SimpleNamespace(organisation=SimpleNamespace(parent_id=world.region_a.pk))
    small = build(world, world.est_a2, services=2, per_service=6, campaigns=2)[-1]
    before = count(client, url(region if page == "overview" else small))
    large = build(world, world.est_a1, services=9, per_service=14, campaigns=4)[-1]
    for extra in range(5):  # enough establishments for the overview to show its figures
        other = factories.org(Kind.ESTABLISHMENT, world.region_a, name=f"CH {extra}")
        build(world, other, services=1, per_service=6, campaigns=1)
    after = count(client, url(region if page == "overview" else large))
    assert before == after
