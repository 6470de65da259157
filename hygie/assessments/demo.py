"""Demo self-assessments: two years of campaigns for the demo GHT, deterministic."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model

from hygie.assessments import services
from hygie.assessments.models import (
    Answer,
    AnswerRevision,
    Campaign,
    CampaignStatus,
    Result,
    Status,
)
from hygie.frameworks.models import Framework
from hygie.orgs.models import Kind, Organisation

SEED = 20261129
SOCLE_URN = "urn:hygie:risk:framework:socle-es"
# Chance of each result per establishment profile, (compliant, partial, non-compliant, N/A).
PROFILES = {
    "CHU de Valmont": (0.55, 0.25, 0.17, 0.03),
    "CH de Marquise": (0.40, 0.30, 0.27, 0.03),
    "CH de Hautbois": (0.30, 0.30, 0.37, 0.03),
    "EHPAD Les Tilleuls": (0.15, 0.25, 0.50, 0.10),
    "Clinique du Parc": (0.35, 0.30, 0.32, 0.03),
}


def _draw(rng: random.Random, profile, improvement: float) -> str:
    compliant, partial, non_compliant, not_applicable = profile
    shift = min(improvement, non_compliant)
    weights = (compliant + shift, partial, non_compliant - shift, not_applicable)
    return rng.choices(
        [Result.COMPLIANT, Result.PARTIAL, Result.NON_COMPLIANT, Result.NOT_APPLICABLE], weights
    )[0]


def load_assessment_demo(ght: Organisation) -> int:
    """Campaigns 2025 (closed) and 2026 (open, half done) for each establishment; returns count."""
    framework = Framework.objects.filter(urn=SOCLE_URN).first() or Framework.objects.first()
    if (
        framework is None
        or Campaign.objects.filter(organisation__path__startswith=ght.path).exists()
    ):
        return 0
    rng = random.Random(SEED)
    rssi = get_user_model().objects.filter(username="rssi").first()
    establishments = list(
        Organisation.objects.filter(kind=Kind.ESTABLISHMENT, path__startswith=ght.parent.path)
        .filter(short_name__in=PROFILES)
        .order_by("path")
    )
    created = 0
    for organisation in [ght, *establishments]:
        profile = PROFILES.get(organisation.short_name, (0.45, 0.25, 0.27, 0.03))
        previous = None
        for year, status, done_share in (
            (2025, CampaignStatus.CLOSED, 1.0),
            (2026, CampaignStatus.OPEN, 0.6),
        ):
            try:
                campaign = services.create_campaign(
                    organisation=organisation,
                    framework=framework,
                    name=f"Auto-évaluation {year}",
                    starts_on=dt.date(year, 1, 15),
                    due_on=dt.date(year, 12, 15),
                    baseline=previous,
                    user=rssi,
                )
            except services.CampaignError:
                break  # e.g. a framework without GHT-level measures
            answers = list(campaign.answers.all())
            changed = []
            for answer in answers:
                if rng.random() > done_share:
                    continue
                answer.result = _draw(rng, profile, 0.12 if year == 2026 else 0.0)
                answer.maturity = {
                    Result.COMPLIANT: rng.choice([3, 4]),
                    Result.PARTIAL: rng.choice([1, 2]),
                    Result.NON_COMPLIANT: rng.choice([0, 1]),
                }.get(answer.result)
                answer.status = (
                    Status.DONE if status == CampaignStatus.CLOSED else Status.IN_PROGRESS
                )
                answer.owner = rssi
                answer.updated_by = rssi
                changed.append(answer)
            Answer.objects.bulk_update(
                changed, ["result", "maturity", "status", "owner", "updated_by"]
            )
            AnswerRevision.objects.bulk_create(
                [
                    AnswerRevision(answer=a, changed_by=rssi, values=services.snapshot(a))
                    for a in changed
                ]
            )
            if status == CampaignStatus.CLOSED:
                Campaign.objects.filter(pk=campaign.pk).update(status=status)
            services.compute_scores(campaign)
            previous = campaign
            created += 1
    return created
