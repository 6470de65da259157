"""Simulation domain logic: who is targeted, which lure each person gets, and the campaign's
life cycle (launch, pause, resume, cancel, complete)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.core.audit import record_event
from hygie.orgs.models import StaffMember
from hygie.phishing import sending, tasks
from hygie.phishing.lures import lure_problems, resolve_lure
from hygie.phishing.models import CampaignStatus, Recipient, SendStatus, Simulation
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
def prepare_recipients(
    simulation: Simulation, *, seed: int | None = None, dry_run: bool = False, moments=None
) -> Preparation:
    """Create the recipients of a draft simulation, each with a token and a lure.

    People without a usable address are left out and listed, and an address met twice is
    targeted once: nothing is silently dropped. `dry_run` only counts (the draft's preview)."""
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
    if not dry_run:
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
        report.recipients += 1
        if dry_run:
            continue  # the preview only counts: no row, no token
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
    if moments is not None and rows:
        # Sending moments (sorted) dealt out in a random order: who goes first is chance.
        planned = moments(len(rows))
        rng.shuffle(planned)
        for row, moment in zip(rows, planned, strict=True):
            row.scheduled_at = moment
    Recipient.objects.bulk_create(rows, batch_size=1000)
    return report


# ------------------------------------------------------------------ life cycle


def _profile_reachable(simulation: Simulation) -> bool:
    organisation = simulation.organisation
    return simulation.sending_profile.organisation_id in (
        *organisation.ancestor_ids(),
        organisation.pk,
    )


def launch_problems(simulation: Simulation) -> list[str]:
    """Why this campaign cannot be launched as it stands; [] when it can."""
    problems = []
    if simulation.status != CampaignStatus.DRAFT:
        problems.append(_("Seule une campagne en préparation peut être lancée."))
    if not _profile_reachable(simulation):
        problems.append(_("Le profil d'envoi n'appartient pas à cette organisation ni à son GHT."))
    if not simulation.lures:
        problems.append(_("Choisissez au moins un leurre."))
    for key in simulation.lures:
        lure = resolve_lure(key, simulation.organisation)
        if lure is None:
            problems.append(_("Leurre introuvable : %(key)s.") % {"key": key})
            continue
        for problem in lure_problems(lure):
            problems.append(
                _("Leurre « %(name)s » — %(problem)s") % {"name": lure.name, "problem": problem}
            )
    if simulation.send_until and simulation.send_until <= timezone.now():
        problems.append(_("La fin de l'envoi est déjà passée."))
    return problems


@transaction.atomic
def launch(simulation: Simulation, *, actor=None, seed: int | None = None) -> Preparation:
    """Check, target, schedule and hand the campaign to the workers. All or nothing."""
    simulation = Simulation.objects.select_for_update().get(pk=simulation.pk)
    problems = launch_problems(simulation)
    if problems:
        raise SimulationError(" ".join(problems))
    try:
        preparation = prepare_recipients(
            simulation,
            seed=seed,
            moments=lambda count: sending.schedule(simulation, count, seed=seed),
        )
    except sending.ScheduleError as exc:
        raise SimulationError(str(exc)) from None
    if not preparation.recipients:
        raise SimulationError(_("Aucune personne ciblée n'a d'adresse utilisable."))
    now = timezone.now()
    simulation.status = CampaignStatus.SCHEDULED
    simulation.launched_at = now
    simulation.save(update_fields=["status", "launched_at"])
    first = simulation.recipients.order_by("scheduled_at").values_list("scheduled_at", flat=True)[0]
    record_event(
        "simulation.launch",
        actor=actor,
        target=simulation,
        organisation=simulation.organisation,
        details={"recipients": preparation.recipients, "excluded": len(preparation.excluded)},
    )
    transaction.on_commit(lambda: tasks.schedule_run(simulation.pk, first))
    return preparation


def _move(simulation: Simulation, *, allowed, to, action: str, actor) -> Simulation:
    updated = Simulation.objects.filter(pk=simulation.pk, status__in=allowed).update(status=to)
    if not updated:
        raise SimulationError(
            _("Impossible dans l'état actuel (%(status)s).")
            % {"status": simulation.get_status_display()}
        )
    simulation.refresh_from_db()
    record_event(action, actor=actor, target=simulation, organisation=simulation.organisation)
    return simulation


def pause(simulation: Simulation, *, actor=None) -> Simulation:
    """Stop sending after the current batch; nothing is lost, resume picks up."""
    return _move(
        simulation,
        allowed=[CampaignStatus.SCHEDULED, CampaignStatus.SENDING],
        to=CampaignStatus.PAUSED,
        action="simulation.pause",
        actor=actor,
    )


@transaction.atomic
def resume(simulation: Simulation, *, actor=None, seed: int | None = None) -> Simulation:
    """Send the rest, spread again from now over what is left of the period."""
    simulation = Simulation.objects.select_for_update().get(pk=simulation.pk)
    if simulation.status != CampaignStatus.PAUSED:
        raise SimulationError(_("Seule une campagne en pause peut reprendre."))
    if simulation.send_until and simulation.send_until <= timezone.now():
        raise SimulationError(
            _("La période d'envoi est terminée : repoussez sa fin avant de reprendre.")
        )
    try:
        sending.schedule_recipients(simulation, seed=seed)
    except sending.ScheduleError as exc:
        raise SimulationError(str(exc)) from None
    simulation = _move(
        simulation,
        allowed=[CampaignStatus.PAUSED],
        to=CampaignStatus.SCHEDULED,
        action="simulation.resume",
        actor=actor,
    )
    first = (
        simulation.recipients.filter(send_status__in=sending.DUE)
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
        .first()
    )
    transaction.on_commit(lambda: tasks.schedule_run(simulation.pk, first))
    return simulation


@transaction.atomic
def cancel(simulation: Simulation, *, actor=None) -> Simulation:
    """Nothing more is sent; what was sent keeps being tracked until completion."""
    simulation = _move(
        simulation,
        allowed=[
            CampaignStatus.DRAFT,
            CampaignStatus.SCHEDULED,
            CampaignStatus.SENDING,
            CampaignStatus.PAUSED,
        ],
        to=CampaignStatus.CANCELLED,
        action="simulation.cancel",
        actor=actor,
    )
    simulation.recipients.filter(send_status__in=sending.DUE).update(
        send_status=SendStatus.CANCELLED
    )
    return simulation


@transaction.atomic
def complete(simulation: Simulation, *, actor=None) -> Simulation:
    """End the observation: the campaign becomes evidence for the governance measures."""
    simulation = _move(
        simulation,
        allowed=[CampaignStatus.RUNNING, CampaignStatus.SENDING, CampaignStatus.PAUSED],
        to=CampaignStatus.COMPLETED,
        action="simulation.complete",
        actor=actor,
    )
    simulation.recipients.filter(send_status__in=sending.DUE).update(
        send_status=SendStatus.CANCELLED
    )
    Simulation.objects.filter(pk=simulation.pk).update(completed_at=timezone.now())
    simulation.refresh_from_db()
    record_campaign_fact(simulation)
    apply_corrective(simulation, actor=actor)
    return simulation


def apply_corrective(simulation: Simulation, *, actor=None):
    """Apply the corrective rules now (they also apply by themselves at completion)."""
    from hygie.phishing.corrective import apply_rules

    if simulation.status not in (CampaignStatus.RUNNING, CampaignStatus.COMPLETED):
        raise SimulationError(
            _("Les mesures correctives s'appliquent une fois tous les messages envoyés.")
        )
    outcomes = apply_rules(simulation)
    record_event(
        "simulation.corrective",
        actor=actor,
        target=simulation,
        organisation=simulation.organisation,
        details={"outcomes": len(outcomes)},
    )
    return outcomes


def record_campaign_fact(simulation: Simulation):
    """The campaign as evidence: when it ran, how many received it, clicked, reported."""
    from django.urls import reverse

    from hygie.assessments.services import record_fact

    counts = simulation.recipients.filter(sent_at__isnull=False).aggregate(
        sent=Count("pk"),
        clicked=Count("pk", filter=Q(first_click_at__isnull=False)),
        reported=Count("pk", filter=Q(reported_at__isnull=False)),
    )
    sent = counts["sent"]
    if not sent:
        return None
    click_rate = round(100 * counts["clicked"] / sent, 1)
    report_rate = round(100 * counts["reported"] / sent, 1)
    day = timezone.localtime(simulation.launched_at or timezone.now()).date()
    return record_fact(
        simulation.organisation,
        "phishing.campaign",
        source_key=f"simulation-{simulation.pk}",
        occurred_on=day,
        summary=_(
            "Simulation « %(name)s » : %(sent)s messages envoyés, %(click)s %% de clics, "
            "%(report)s %% de signalements."
        )
        % {"name": simulation.name, "sent": sent, "click": click_rate, "report": report_rate},
        value=report_rate,
        url=reverse("phishing:simulation", args=[simulation.pk]),
        details={"sent": sent, "click_rate": click_rate, "report_rate": report_rate},
    )
