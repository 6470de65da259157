"""Demo awareness programme of the demo CHU, deterministic: the annual campaign half-way
through, a follow-up campaign for the laboratory after its simulation, a past session with its
roll call and one to come, and a national kit relayed by most services.

Progress is written straight onto the assignments (no learner clicks through 1,800 modules at
start-up); the figures are then those a campaign three weeks old would show.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from hygie.awareness import kits, services, sessions, tally
from hygie.awareness.models import (
    Assignment,
    Attendance,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Kit,
    KitDistribution,
    KitItemKind,
    Module,
    SessionMode,
    State,
)
from hygie.orgs.models import Kind, Organisation, StaffMember

SEED = 20261201
ANNUAL_MODULES = ("courriel-piege", "mots-de-passe", "signaler-message-suspect")
# Chance that a person has finished, started or failed a module of the annual campaign.
DONE, STARTED, FAILED = 0.55, 0.15, 0.07


def _agenda(first: str, second: str) -> list[dict]:
    return sessions.validate_agenda(
        [
            {"kind": "theory", "title": "Les attaques qui visent l'hôpital", "minutes": 30},
            {"kind": "practice", "title": "Repérer les signes", "minutes": 20, "module": first},
            {"kind": "theory", "title": "Réagir et signaler", "minutes": 20},
            {"kind": "practice", "title": "Mises en situation", "minutes": 20, "module": second},
        ]
    )


def load_awareness_demo(ght: Organisation) -> int:
    """The demo CHU's awareness programme; returns the number of campaigns created (0 when
    already there or when the shipped modules are missing)."""
    chu = Organisation.objects.filter(path__startswith=ght.path, name__icontains="Valmont").first()
    modules = {m.slug: m for m in Module.objects.filter(slug__in=ANNUAL_MODULES, active=True)}
    if chu is None or Campaign.objects.filter(organisation=chu).exists():
        return 0
    if len(modules) != len(ANNUAL_MODULES):
        return 0
    rng = random.Random(SEED)
    now = timezone.now()
    today = timezone.localdate()
    staff = StaffMember.objects.filter(establishment=chu, active=True)

    annual = Campaign.objects.create(
        organisation=chu,
        name=f"Campagne annuelle {today.year} (CaRE)",
        kind=CampaignKind.ANNUAL,
        status=CampaignStatus.OPEN,
        opened_at=now - dt.timedelta(days=21),
        due_date=today + dt.timedelta(days=40),
        reminder_days=[14, 3],
    )
    annual.modules.set(modules.values())
    services.assign_to_staff(
        staff,
        list(modules.values()),
        organisation=chu,
        due_date=annual.due_date,
        campaign=annual,
    )
    changed = []
    for assignment in Assignment.objects.filter(campaign=annual).select_related("module"):
        draw = rng.random()
        started = now - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
        if draw < DONE:
            assignment.state = State.PASSED
            assignment.best_score = rng.choice((75, 80, 100))
            assignment.attempts = 1 if rng.random() < 0.8 else 2
            assignment.completed_at = started + dt.timedelta(minutes=rng.randint(8, 25))
            assignment.steps_done = list(range(len(assignment.module.content.get("steps", []))))
            assignment.module_version = assignment.module.version
            assignment.certificate_number = f"M-{today.year}-{assignment.pk:06d}"
        elif draw < DONE + FAILED:
            assignment.state = State.FAILED
            assignment.best_score = rng.choice((25, 50))
            assignment.attempts = 1
        elif draw < DONE + FAILED + STARTED:
            assignment.state = State.INCOMPLETE
        else:
            continue
        assignment.started_at = started
        changed.append(assignment)
    Assignment.objects.bulk_update(
        changed,
        [
            "state",
            "best_score",
            "attempts",
            "completed_at",
            "started_at",
            "steps_done",
            "module_version",
            "certificate_number",
        ],
        batch_size=500,
    )
    tally.rebuild(chu)  # the states above were written in bulk, outside the learner functions

    # The laboratory clicked most in the autumn simulation: its follow-up campaign.
    laboratory = Organisation.objects.filter(
        path__startswith=chu.path, kind=Kind.SERVICE, name__icontains="laboratoire"
    ).first()
    created = 1
    if laboratory is not None:
        follow_up = Campaign.objects.create(
            organisation=chu,
            name="Laboratoire — suite de la simulation d'automne",
            kind=CampaignKind.TARGETED,
            status=CampaignStatus.OPEN,
            opened_at=now - dt.timedelta(days=5),
            due_date=today + dt.timedelta(days=10),
            reminder_days=[3],
        )
        follow_up.modules.set([modules["courriel-piege"]])
        follow_up.target_services.set([laboratory])
        services.assign(follow_up)
        created += 1

    _load_sessions(chu, staff, rng, now)
    _load_kit(chu, now)
    return created


def _load_sessions(chu, staff, rng: random.Random, now) -> None:
    people = list(staff.order_by("pk")[:40])
    rng.shuffle(people)
    past_start = timezone.localtime(now - dt.timedelta(days=9)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    past = sessions.create_session(
        chu,
        agenda=_agenda("courriel-piege", "appel-ingenierie-sociale"),
        title="Cybersécurité au quotidien — groupe 1",
        mode=SessionMode.IN_PERSON,
        location="Salle de formation, bâtiment A",
        starts_at=past_start,
        ends_at=past_start + dt.timedelta(hours=1, minutes=30),
        trainer_name="Claire Dumont",
    )
    seats = sessions.add_participants(past, people[:11])
    sessions.take_attendance(
        past,
        {
            seat.pk: Attendance.ABSENT if index == 3 else Attendance.PRESENT
            for index, seat in enumerate(seats)
        },
        now=now,
    )
    coming_start = timezone.localtime(now + dt.timedelta(days=12)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    coming = sessions.create_session(
        chu,
        agenda=_agenda("cle-usb-trouvee", "dpi-a-l-arret"),
        title="Cybersécurité au quotidien — groupe 2",
        mode=SessionMode.REMOTE,
        meeting_url="https://visio.ch-valmont.example/formation-cyber",
        starts_at=coming_start,
        ends_at=coming_start + dt.timedelta(hours=1, minutes=30),
        trainer_name="Claire Dumont",
    )
    sessions.add_participants(coming, people[11:22])


def _load_kit(chu, now) -> None:
    kit = Kit.objects.create(
        organisation=chu,
        name=f"Campagne nationale de cybervigilance {timezone.localdate().year}",
        publisher="Agence du numérique en santé (exemple)",
        year=timezone.localdate().year,
        description="Affiches et messages à relayer dans chaque service pendant le mois de la "
        "cybersécurité.",
    )
    kit.items.create(
        kind=KitItemKind.MESSAGE,
        title="Message pour les équipes",
        text="Un message inattendu vous presse d'agir ? Ne cliquez pas : signalez-le avec le "
        "bouton « Signaler » de votre messagerie.",
        position=1,
    )
    units = list(kits.services_of(chu)[:6])
    for index, unit in enumerate(units):
        distribution = KitDistribution.objects.create(
            kit=kit,
            service=unit,
            contact_email=f"cadre.{unit.pk}@ch-valmont.example",
            sent_at=now - dt.timedelta(days=6),
        )
        if index < 4:
            kits.acknowledge(
                distribution,
                name="Cadre de santé du service",
                now=now - dt.timedelta(days=5 - index),
            )
