"""Simulation domain logic: who is targeted, which lure each person gets."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from hygie.orgs.models import StaffMember
from hygie.phishing.lures import resolve_lure
from hygie.phishing.models import CampaignStatus, Recipient, Simulation
from hygie.phishing.tracking import new_token


class SimulationError(ValueError):
    pass


def targeted_staff(simulation: Simulation):
    """Active staff of the simulation's organisation narrowed by its services, sites and job
    families (each filter applies when set; together they intersect)."""
    staff = StaffMember.objects.filter(
        establishment__path__startswith=simulation.organisation.path, active=True
    )
    if simulation.target_services:
        staff = staff.filter(service_id__in=simulation.target_services)
    if simulation.target_sites:
        staff = staff.filter(site_id__in=simulation.target_sites)
    if simulation.target_job_families:
        staff = staff.filter(job_family__in=simulation.target_job_families)
    if simulation.pk and simulation.target_lists.exists():
        staff = staff.filter(target_lists__in=simulation.target_lists.all()).distinct()
    return staff.select_related("service").order_by("pk")


@dataclass
class Excluded:
    name: str
    reason: str


@dataclass
class Preparation:
    recipients: int = 0
    excluded: list[Excluded] = field(default_factory=list)
    by_lure: dict[str, int] = field(default_factory=dict)


def choose_lure(lures, *, job_family: str, service_name: str, rng: random.Random, assignment: str):
    if assignment == "per_service":
        for lure in lures:
            if lure.suits(job_family=job_family, service_name=service_name):
                return lure
    return rng.choice(lures)


@transaction.atomic
def prepare_recipients(simulation: Simulation, *, seed: int | None = None) -> Preparation:
    """Create the recipients of a draft simulation, each with a token and a lure.

    People without a usable address are left out and listed, and an address met twice is
    targeted once: nothing is silently dropped."""
    if simulation.status != CampaignStatus.DRAFT:
        raise SimulationError(_("Les destinataires se préparent avant le lancement."))
    lures = [resolve_lure(key, simulation.organisation) for key in simulation.lures]
    unknown = [slug for slug, lure in zip(simulation.lures, lures, strict=True) if lure is None]
    if unknown or not lures:
        raise SimulationError(
            _("Leurres inconnus : %(slugs)s.") % {"slugs": ", ".join(unknown)}
            if unknown
            else _("Choisissez au moins un leurre.")
        )
    rng = random.Random(seed)  # noqa: S311 - spreading lures, not a secret
    report = Preparation()
    simulation.recipients.all().delete()
    seen: set[str] = set()
    rows = []
    for person in targeted_staff(simulation):
        name = f"{person.last_name} {person.first_name}".strip()
        address = (person.email or "").strip().lower()
        if not address:
            report.excluded.append(Excluded(name, _("pas d'adresse e-mail")))
            continue
        try:
            validate_email(address)
        except ValidationError:
            report.excluded.append(
                Excluded(name, _("adresse invalide : %(address)s") % {"address": address})
            )
            continue
        if address in seen:
            report.excluded.append(
                Excluded(name, _("adresse déjà ciblée : %(address)s") % {"address": address})
            )
            continue
        seen.add(address)
        service_name = person.service.name if person.service_id else ""
        lure = choose_lure(
            lures,
            job_family=person.job_family,
            service_name=service_name,
            rng=rng,
            assignment=simulation.assignment,
        )
        report.by_lure[lure.slug] = report.by_lure.get(lure.slug, 0) + 1
        rows.append(
            Recipient(
                simulation=simulation,
                staff=person,
                email=address,
                service_id=person.service_id,
                site_id=person.site_id,
                establishment_id=person.establishment_id,
                job_family=person.job_family,
                lure=lure.slug,
                token=new_token(),
            )
        )
    Recipient.objects.bulk_create(rows, batch_size=1000)
    report.recipients = len(rows)
    return report
