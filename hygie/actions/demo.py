"""Demo action plans: generated from the demo's open campaigns, one action pooled in the GHT."""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model

from hygie.actions import services
from hygie.actions.models import ActionItem, ActionStatus, Funding
from hygie.assessments.models import Campaign, CampaignStatus
from hygie.orgs.models import Organisation

SEED = 20261129


def load_action_demo(ght: Organisation) -> int:
    """Plans of the GHT's establishments from their open campaigns; returns the items created."""
    if ActionItem.objects.filter(organisation__path__startswith=ght.path).exists():
        return 0
    rng = random.Random(SEED)
    rssi = get_user_model().objects.filter(username="rssi").first()
    campaigns = Campaign.objects.filter(
        organisation__path__startswith=ght.path, status=CampaignStatus.OPEN
    ).select_related("organisation")
    created = 0
    for campaign in campaigns:
        report = services.generate_from_gaps(campaign, rssi)
        created += report.created_count
        for item in report.created:
            # Some work already under way, so the plan and its timeline look lived in.
            roll = rng.random()
            if roll < 0.25:
                item.status, item.progress = ActionStatus.IN_PROGRESS, rng.choice([20, 40, 60])
            elif roll < 0.35:
                item.status, item.progress = ActionStatus.DONE, 100
            item.funding = rng.choice([Funding.OWN, Funding.CARE, Funding.GHT, ""])
            item.save(update_fields=["status", "progress", "funding"])
    # Pool the first gap the support establishment shares with its siblings.
    support = Organisation.objects.filter(parent=ght, is_ght_support=True).first()
    if support is not None:
        for item in ActionItem.objects.filter(organisation=support, node__isnull=False).order_by(
            "pk"
        ):
            siblings = list(
                Organisation.objects.filter(parent=ght, action_items__node=item.node).exclude(
                    pk=support.pk
                )
            )
            if siblings:
                services.pool(item, [support, *siblings], user=rssi)
                break
    return created
