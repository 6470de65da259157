"""Simulations with their recipients built straight in the database, for the results tests
(no sending worker needed): `campaign(...)` then `people(...)` per group."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from hygie.orgs.models import JobFamily, StaffMember
from hygie.phishing.models import CampaignStatus, Recipient, SendingProfile, Simulation
from hygie.phishing.tracking import new_token

_serial = itertools.count(1)


def profile(organisation) -> SendingProfile:
    found = SendingProfile.objects.filter(organisation=organisation).first()
    return found or SendingProfile.objects.create(
        organisation=organisation,
        name=f"Relais {organisation.pk}",
        host="127.0.0.1",
        from_address="informatique@example.org",
    )


def campaign(organisation, name="Campagne", *, launched_days_ago=10, status=None, **extra):
    launched = timezone.now() - timedelta(days=launched_days_ago)
    extra.setdefault("launched_at", launched)
    extra.setdefault("sent_out_at", launched + timedelta(hours=2))
    status = status or CampaignStatus.COMPLETED
    if status == CampaignStatus.COMPLETED:
        extra.setdefault("completed_at", launched + timedelta(days=7))
    return Simulation.objects.create(
        organisation=organisation,
        name=name,
        sending_profile=profile(organisation),
        status=status,
        **extra,
    )


def people(
    simulation,
    count: int,
    *,
    establishment,
    service=None,
    site=None,
    job_family=JobFamily.CARE,
    sent: int | None = None,
    opened: int = 0,
    clicked: int = 0,
    submitted: int = 0,
    reported: int = 0,
    click_after=timedelta(minutes=10),
    report_after=timedelta(minutes=30),
    staff: list[StaffMember] | None = None,
    last_name="Agent",
) -> list[Recipient]:
    """`count` recipients of one group; the first `clicked` clicked, the LAST `reported`
    reported (so clickers and reporters differ unless the counts overlap)."""
    sent = count if sent is None else sent
    if staff is None:
        staff = StaffMember.objects.bulk_create(
            StaffMember(
                establishment=establishment,
                service=service,
                site=site,
                first_name="Camille",
                last_name=f"{last_name}{n}",
                email=f"agent{n}@example.org",
                job_family=job_family,
            )
            for n in (next(_serial) for _ in range(count))
        )
    base = simulation.launched_at or timezone.now() - timedelta(days=1)
    rows = []
    for index, member in enumerate(staff[:count]):
        sent_at = base + timedelta(minutes=index) if index < sent else None
        row = Recipient(
            simulation=simulation,
            staff=member,
            email=member.email,
            service=service,
            site=site,
            establishment=establishment,
            job_family=job_family,
            lure="resultats-laboratoire",
            token=new_token(),
            send_status="sent" if sent_at else "pending",
            sent_at=sent_at,
        )
        if sent_at is not None:
            if index < max(opened, clicked, submitted):
                row.first_open_at = sent_at + click_after / 2
            if index < clicked:
                row.first_click_at = sent_at + click_after
            if index < submitted:
                row.submitted_at = sent_at + click_after + timedelta(minutes=1)
            if index >= count - reported:
                row.reported_at = sent_at + report_after
        rows.append(row)
    return Recipient.objects.bulk_create(rows)
