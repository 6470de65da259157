"""The demo comes with two years of self-assessment and a lived-in action plan."""

from __future__ import annotations

import pytest

from hygie.actions.demo import load_action_demo
from hygie.actions.models import ActionItem, ActionMember
from hygie.assessments.demo import load_assessment_demo
from hygie.assessments.models import Campaign, CampaignStatus
from hygie.orgs.demo import load_demo
from hygie.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def test_demo_campaigns_show_progress_between_years_and_feed_the_plan():
    load_demo()
    ght = Organisation.objects.get(code="GHT-DEMO-HDF")
    # The GHT, its 4 establishments and the clinic of the same region, for 2025 and 2026.
    assert load_assessment_demo(ght) == 12
    chu = Organisation.objects.get(short_name="CHU de Valmont")
    closed = Campaign.objects.get(organisation=chu, status=CampaignStatus.CLOSED)
    current = Campaign.objects.get(organisation=chu, status=CampaignStatus.OPEN)
    assert current.baseline == closed
    assert closed.progress == 100
    # The 2026 campaign started from 2025's answers and is being revised: work in progress, better.
    assert current.answers.exclude(status="done").exists()
    assert current.score > closed.score
    assert closed.score is not None and current.theme_scores.exists()
    assert load_action_demo(ght) > 0
    pooled = ActionItem.objects.filter(organisation=ght, members__isnull=False).distinct().get()
    assert ActionMember.objects.filter(action=pooled).count() >= 2
    # Loading again changes nothing.
    assert load_assessment_demo(ght) == 0 and load_action_demo(ght) == 0
