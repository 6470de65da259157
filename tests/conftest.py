"""Shared fixtures: a small national tree with two GHTs and one person per kind of access.

`world` follows the healthchecks habit: an owner (editor), a reader, someone from another
GHT (outsider), an aggregate-only analyst and a user without any role.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from hygie.accounts.middleware import SESSION_AUTH_AT, SESSION_MFA
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import Role
from hygie.orgs.services import ensure_reference_tree
from tests import factories


@pytest.fixture
def world(db):
    # The national node and the 18 regions are created by `migrate` on every installation.
    national = ensure_reference_tree()
    region_a = Organisation.objects.get(kind=Kind.REGION, code="32")
    region_b = Organisation.objects.get(kind=Kind.REGION, code="28")
    ght_a = factories.org(Kind.GHT, region_a, name="GHT A")
    ght_b = factories.org(Kind.GHT, region_b, name="GHT B")
    est_a1 = factories.org(Kind.ESTABLISHMENT, ght_a, name="CHU A1", is_ght_support=True)
    est_a2 = factories.org(Kind.ESTABLISHMENT, ght_a, name="CH A2")
    est_b1 = factories.org(Kind.ESTABLISHMENT, ght_b, name="CH B1")
    clinic = factories.org(Kind.ESTABLISHMENT, region_a, name="Clinique hors GHT")
    site_a1 = factories.org(Kind.SITE, est_a1, name="Site principal A1")
    service_a1 = factories.org(Kind.SERVICE, site_a1, name="Urgences A1")
    site_b1 = factories.org(Kind.SITE, est_b1, name="Site principal B1")
    service_b1 = factories.org(Kind.SERVICE, site_b1, name="Urgences B1")
    w = SimpleNamespace(
        national=national,
        region_a=region_a,
        region_b=region_b,
        ght_a=ght_a,
        ght_b=ght_b,
        est_a1=est_a1,
        est_a2=est_a2,
        est_b1=est_b1,
        clinic=clinic,
        site_a1=site_a1,
        service_a1=service_a1,
        site_b1=site_b1,
        service_b1=service_b1,
    )
    w.editor = factories.user(
        "rssi-a", role=Role.RSSI, at=ght_a, first_name="Claire", last_name="Dumont"
    )
    w.reader = factories.user("lecteur-a", role=Role.READER, at=ght_a)
    w.outsider = factories.user("rssi-b", role=Role.RSSI, at=ght_b)
    w.analyst = factories.user("analyste-a", role=Role.REGIONAL_ANALYST, at=region_a)
    w.nobody = factories.user("sans-role")
    w.staff_a1 = factories.staff(est_a1, service=service_a1, site=site_a1)
    w.staff_b1 = factories.staff(est_b1, service=service_b1, site=site_b1)
    return w


def logged_in_client(user, *, second_factor: bool = True) -> Client:
    """A CSRF-enforcing client with a completed login (second factor done unless told otherwise)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    session = client.session
    import time

    session[SESSION_AUTH_AT] = time.time()
    session[SESSION_MFA] = second_factor
    session.save()
    return client


@pytest.fixture
def client_for():
    return logged_in_client
