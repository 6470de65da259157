"""The demo's Zero Trust data: what the RSSI and the DPO of the demo GHT find for the CHU."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hygie.access import policies
from hygie.access.demo import SLUG, load_access_demo
from hygie.access.models import BreakGlass, Decision, Mode, ProtectedApplication, ReviewRun
from hygie.assessments.models import Fact
from hygie.orgs.demo import load_demo
from hygie.orgs.models import Organisation
from tests.clients import browser

pytestmark = pytest.mark.django_db


def test_the_demo_gives_a_protected_record_a_week_of_decisions_and_a_review_queue():
    load_demo()
    ght = Organisation.objects.get(code="GHT-DEMO-HDF")
    started = time.perf_counter()
    decisions = load_access_demo(ght)
    print(f"access demo loaded in {time.perf_counter() - started:.1f} s")
    assert decisions == 422
    assert load_access_demo(ght) == 0, "loaded once"

    app = ProtectedApplication.objects.get(slug=SLUG)
    chu = app.organisation
    assert chu.name == "Centre hospitalier universitaire de Valmont"
    assert app.mode == Mode.SHADOW
    assert app.active_policy.number == 2 and app.policy_versions.count() == 2
    results = policies.run_tests(app)
    assert len(results) == 3 and all(policies.passed(t, r) for t, r in results)

    # The log was written by the real decision path: every decision has its inputs, most
    # accesses are allowed (own unit), the others denied and let through (shadow mode).
    logged = Decision.objects.filter(application=app)
    assert logged.count() == decisions
    assert not logged.filter(enforced=True).exists()
    allowed = logged.filter(allowed=True).count()
    assert 0.5 * decisions < allowed < 0.9 * decisions
    other_unit = logged.filter(
        allowed=False, inputs__context__zone="care", inputs__context__care_relationship=False
    )
    assert other_unit.exists() and not other_unit.exclude(policies=[]).exists()
    vpn = logged.filter(inputs__context__zone="vpn", allowed=False)
    assert vpn.exists()
    assert {tuple(p) for p in vpn.values_list("policies", flat=True)} == {("poste-non-gere",)}
    admin = logged.filter(principal__contains="adm.dsi")
    assert admin.count() == 2 and not admin.filter(allowed=True).exists()
    assert BreakGlass.objects.filter(application=app, review=BreakGlass.Review.PENDING).count() == 1

    run = ReviewRun.objects.get(organisation=chu)
    assert run.events > 20_000 and run.cases.count() > 0
    assert Fact.objects.filter(organisation=chu, source="access.zero_trust").exists()

    rssi = browser(get_user_model().objects.get(username="rssi"))
    page = rssi.get(reverse("access:application_detail", args=[app.pk]))
    assert page.status_code == 200 and "Dossier patient informatisé" in page.content.decode()
    page = rssi.get(reverse("access:shadow_report", args=[app.pk]))
    assert page.status_code == 200
    dpo = browser(get_user_model().objects.get(username="dpo"))
    queue = dpo.get(reverse("access:review_queue", args=[chu.pk]))
    assert queue.status_code == 200
    first_case = run.cases.order_by("-score").first()
    assert reverse("access:review_case", args=[first_case.pk]) in queue.content.decode()
