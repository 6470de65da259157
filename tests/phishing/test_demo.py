"""The demo's simulations: past campaigns whose results, trend and corrective action show."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hygie.actions.models import ActionItem
from hygie.assessments.models import Fact
from hygie.orgs.demo import load_demo
from hygie.orgs.models import Organisation
from hygie.phishing.demo import load_simulation_demo
from hygie.phishing.models import CampaignStatus, Simulation
from tests.clients import browser

pytestmark = pytest.mark.django_db


def test_the_demo_has_two_past_campaigns_that_improve_and_one_to_launch():
    load_demo()
    ght = Organisation.objects.get(code="GHT-DEMO-HDF")
    assert load_simulation_demo(ght) == 3
    assert load_simulation_demo(ght) == 0, "loaded once"
    past = list(Simulation.objects.filter(status=CampaignStatus.COMPLETED).order_by("launched_at"))
    assert len(past) == 2
    rates = []
    for simulation in past:
        sent = simulation.recipients.count()
        clicked = simulation.recipients.filter(first_click_at__isnull=False).count()
        reported = simulation.recipients.filter(reported_at__isnull=False).count()
        rates.append((clicked / sent, reported / sent))
    assert rates[1][0] < rates[0][0] and rates[1][1] > rates[0][1]
    assert Simulation.objects.filter(status=CampaignStatus.DRAFT).count() == 1
    assert Fact.objects.filter(source="phishing.campaign").count() == 2
    assert ActionItem.objects.filter(origin="simulation").exists()

    from django.contrib.auth import get_user_model

    rssi = get_user_model().objects.get(username="rssi")
    page = browser(rssi).get(reverse("phishing:results", args=[past[0].pk]))
    assert page.status_code == 200
    assert "Laboratoire" in page.content.decode()
