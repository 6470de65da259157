"""Main pages run a fixed number of queries, whatever the number of staff, nodes or roles."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hygie.core.audit import record_event
from hygie.orgs.models import Kind, Membership
from hygie.orgs.roles import Role
from tests import factories
from tests.clients import browser

_serial = itertools.count()


def grow(world, n: int) -> None:
    """n more establishments in GHT A, each with a site, a service, staff, a role and events."""
    for _ in range(n):
        i = next(_serial)
        est = factories.org(Kind.ESTABLISHMENT, world.ght_a, name=f"CH croissance {i}")
        site = factories.org(Kind.SITE, est, name=f"Site {i}")
        service = factories.org(Kind.SERVICE, site, name=f"Service {i}")
        for _ in range(3):
            factories.staff(est, site=site, service=service)
        user = factories.user(f"referent-{i}", role=Role.SECURITY_REFERENT, at=est)
        Membership.objects.create(user=user, organisation=service, role=Role.READER)
        record_event("test.growth", actor=user, target=est, organisation=est)
        record_event("auth.login", actor=user, target=user)


def queries_for(client, url) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured), [q["sql"] for q in captured.captured_queries]


PAGES = {
    "home": lambda w: reverse("orgs:home"),
    "ght dashboard": lambda w: reverse("orgs:detail", args=[w.ght_a.pk]),
    "region dashboard (analyst)": lambda w: reverse("orgs:detail", args=[w.region_a.pk]),
    "staff list": lambda w: reverse("orgs:staff", args=[w.ght_a.pk]),
    "staff list filtered": lambda w: reverse("orgs:staff", args=[w.ght_a.pk]) + "?q=martin",
    "members": lambda w: reverse("orgs:members", args=[w.ght_a.pk]),
    "journal": lambda w: reverse("orgs:audit_journal"),
    "account": lambda w: reverse("accounts:account"),
    "api staff": lambda w: "/api/v1/staff/",
    "api organisations": lambda w: "/api/v1/organisations/",
    "api memberships": lambda w: "/api/v1/memberships/",
}


@pytest.mark.parametrize("page", PAGES)
def test_query_count_does_not_grow_with_the_data(world, page):
    client = browser(world.analyst if "analyst" in page else world.editor)
    url = PAGES[page](world)
    grow(world, 3)
    client.get(url)  # first visit settles the session (current organisation)
    small, small_sql = queries_for(client, url)
    grow(world, 6)
    large, large_sql = queries_for(client, url)
    assert large == small, (
        f"{page}: {small} queries with 3 establishments, {large} with 9:\n"
        + "\n".join(q for q in large_sql if q not in small_sql)
    )
    assert small <= 16, f"{page}: {small} queries\n" + "\n".join(small_sql)
