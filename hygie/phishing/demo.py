"""Demo simulations: two past campaigns of the demo CHU and one in preparation, deterministic.

The past campaigns carry results per person (no sending: the demo has no relay), spread so
that the results, trend and repeat-clicker pages have something to show: the second campaign
clicks less and reports more than the first, and the laboratory clicks most. A corrective rule
turns the laboratory's click rate into an action-plan item.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from hygie.orgs.models import Organisation, StaffMember
from hygie.phishing.models import (
    CampaignStatus,
    CorrectiveRule,
    Recipient,
    Remedy,
    SendingProfile,
    SendStatus,
    Simulation,
    Trigger,
)
from hygie.phishing.tracking import new_token

SEED = 20261130
PEOPLE = 600
# (days ago, name, chance to click, chance to report, lures)
CAMPAIGNS = (
    (180, "Printemps — résultats et paie", 0.24, 0.12, ["resultats-laboratoire", "paie-mutuelle"]),
    (45, "Automne — DPI et planning", 0.15, 0.27, ["mise-a-jour-dpi", "planning-gardes"]),
)


def load_simulation_demo(ght: Organisation) -> int:
    """The demo CHU's campaigns; returns how many were created (0 when already there)."""
    chu = Organisation.objects.filter(path__startswith=ght.path, name__icontains="Valmont").first()
    if chu is None or Simulation.objects.filter(organisation=chu).exists():
        return 0
    from hygie.phishing.corrective import apply_rules
    from hygie.phishing.services import record_campaign_fact

    rng = random.Random(SEED)
    profile = SendingProfile.objects.create(
        organisation=chu,
        name="Relais de démonstration",
        host="127.0.0.1",
        port=2525,
        security="none",
        from_address="informatique@chu-valmont.demo.example",
    )
    CorrectiveRule.objects.create(
        organisation=chu,
        name="Service qui clique beaucoup",
        trigger=Trigger.SERVICE_CLICKS,
        threshold=30,
        remedy=Remedy.ACTION_ITEM,
    )
    staff = list(
        StaffMember.objects.filter(establishment=chu, active=True)
        .exclude(email="")
        .select_related("service")
        .order_by("pk")[:PEOPLE]
    )
    now = timezone.now()
    for days_ago, name, click, report, lures in CAMPAIGNS:
        launched = now - dt.timedelta(days=days_ago)
        simulation = Simulation.objects.create(
            organisation=chu,
            name=name,
            sending_profile=profile,
            lures=lures,
            status=CampaignStatus.RUNNING,
            launched_at=launched,
            sent_out_at=launched + dt.timedelta(hours=6),
        )
        rows = []
        for person in staff:
            lab = person.service_id and "labo" in person.service.name.lower()
            sent = launched + dt.timedelta(minutes=rng.randrange(0, 360))
            clicked = rng.random() < (click * 1.8 if lab else click)
            reported = rng.random() < report
            row = Recipient(
                simulation=simulation,
                staff=person,
                email=person.email,
                service_id=person.service_id,
                site_id=person.site_id,
                establishment_id=chu.pk,
                job_family=person.job_family,
                lure=lures[len(rows) % len(lures)],
                token=new_token(),
                send_status=SendStatus.SENT,
                scheduled_at=sent,
                sent_at=sent,
                attempts=1,
            )
            if clicked or rng.random() < 0.3:
                row.first_open_at = sent + dt.timedelta(minutes=rng.randrange(2, 240))
            if clicked:
                row.first_click_at = row.first_open_at + dt.timedelta(seconds=rng.randrange(5, 90))
                if rng.random() < 0.35:
                    row.submitted_at = row.first_click_at + dt.timedelta(seconds=40)
            if reported:
                row.reported_at = sent + dt.timedelta(minutes=rng.randrange(3, 600))
            rows.append(row)
        Recipient.objects.bulk_create(rows, batch_size=500)
        Simulation.objects.filter(pk=simulation.pk).update(
            status=CampaignStatus.COMPLETED, completed_at=launched + dt.timedelta(days=7)
        )
        simulation.refresh_from_db()
        record_campaign_fact(simulation)
        apply_rules(simulation)
    Simulation.objects.create(
        organisation=chu,
        name="Hiver — facture fournisseur (à lancer)",
        sending_profile=profile,
        lures=["facture-fournisseur", "commande-pharmacie"],
        assignment="per_service",
    )
    return len(CAMPAIGNS) + 1
