"""Fixtures of the enforce area: a protected EHR of CHU A1 with its routes, zones, devices,
staff and care relations (a cardiology nurse, a pulmonology patient, an IT administrator)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hygie.access.models import (
    CareRelation,
    Mode,
    NetworkZone,
    PolicyVersion,
    ProtectedApplication,
    Route,
)
from hygie.access.pdp import context as ctx
from hygie.access.pdp import engine, log, service
from hygie.orgs.models import JobFamily, Kind
from hygie.orgs.roles import Role
from hygie.posture.models import Asset
from tests import factories

SECRET = "proxy-Secret-du-DPI-2026"


@pytest.fixture(autouse=True)
def fresh_pdp():
    """Every test starts with empty caches and a synchronous decision log."""
    ctx.invalidate()
    service._engines.clear()
    service._refusals.clear()
    log.background = False
    with log._lock:
        log._buffer.clear()
    yield
    ctx.invalidate()
    with log._lock:
        log._buffer.clear()


def starter_policy() -> str:
    return getattr(engine, "DEFAULT_POLICY", "// stand-in policy (pdp-core not merged)")


@pytest.fixture
def ehr(world):
    w = world
    now = timezone.now()
    w.cardio = factories.org(Kind.SERVICE, w.site_a1, name="Cardiologie")
    w.pneumo = factories.org(Kind.SERVICE, w.site_a1, name="Pneumologie")
    w.nurse = factories.staff(
        w.est_a1, service=w.cardio, external_id="inf.dupont", job_family=JobFamily.CARE
    )
    w.admin_staff = factories.staff(
        w.est_a1, service=None, external_id="adm.martin", job_family=JobFamily.IT
    )
    w.dpo = factories.user("dpo-a", role=Role.DPO, at=w.ght_a)
    w.app = ProtectedApplication.objects.create(
        organisation=w.est_a1,
        name="Dossier patient informatisé",
        slug="dpi",
        upstream="http://127.0.0.1:9",
        mode=Mode.ENFORCE,
        proxy_secret=SECRET,
    )
    version = PolicyVersion.objects.create(application=w.app, number=1, text=starter_policy())
    w.app.active_policy = version
    w.app.save()
    Route.objects.create(
        application=w.app,
        position=1,
        pattern="/dossiers/<patient>/",
        action="read",
        resource_type="Record",
        sensitivity=3,
    )
    Route.objects.create(
        application=w.app,
        position=2,
        methods="GET,POST",
        pattern="/admin/",
        action="admin",
        resource_type="Page",
        sensitivity=4,
    )
    NetworkZone.objects.create(organisation=w.est_a1, cidr="10.10.0.0/16", zone="care")
    NetworkZone.objects.create(organisation=w.est_a1, cidr="10.20.0.0/16", zone="admin")
    NetworkZone.objects.create(organisation=w.ght_a, cidr="10.0.0.0/8", zone="office")
    Asset.objects.create(
        organisation=w.est_a1, name="PC-CARDIO-01", kind="workstation", source="manual"
    )
    Asset.objects.create(
        organisation=w.est_a1, name="PC-OLD-02", kind="workstation", source="manual", enabled=False
    )
    yesterday = now - dt.timedelta(days=1)
    CareRelation.objects.create(
        organisation=w.est_a1,
        kind="stay",
        patient_id="P100",
        unit="Cardiologie",
        starts_at=yesterday,
    )
    CareRelation.objects.create(
        organisation=w.est_a1,
        kind="stay",
        patient_id="P200",
        unit="Pneumologie",
        starts_at=yesterday,
    )
    CareRelation.objects.create(
        organisation=w.est_a1,
        kind="stay",
        patient_id="P300",
        unit="Pneumologie",
        starts_at=yesterday - dt.timedelta(days=3),
        ends_at=yesterday,
    )
    return w


def nginx_headers(
    *,
    user="inf.dupont",
    uri="/dossiers/P100/",
    method="GET",
    mfa="0",
    ip="10.10.1.5",
    device="PC-CARDIO-01",
    secret=SECRET,
    **extra,
):
    headers = {
        "HTTP_X_ORIGINAL_METHOD": method,
        "HTTP_X_ORIGINAL_URI": uri,
        "HTTP_X_REAL_IP": ip,
        "HTTP_X_AUTH_MFA": mfa,
        "HTTP_X_DEVICE_ID": device,
    }
    if user is not None:
        headers["HTTP_X_REMOTE_USER"] = user
    if secret is not None:
        headers["HTTP_X_HYGIE_PROXY_SECRET"] = secret
    headers.update(extra)
    return headers
