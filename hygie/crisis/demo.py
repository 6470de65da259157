"""Demo crisis material of the demo CHU, deterministic: the annual exercise prepared from the
ransomware scenario (ready to run), last year's exercise played and closed with its lessons,
and a crisis binder with its template sections."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from hygie.crisis import binder, report, scenarios
from hygie.crisis.models import (
    Exercise,
    ExerciseStatus,
    Participant,
    ParticipantRole,
    Rating,
    Scenario,
)
from hygie.orgs.models import Organisation

CELL = (
    (ParticipantRole.FACILITATOR, "Animation", "Claire Dumont", "rssi@ch-valmont.example"),
    (
        ParticipantRole.PLAYER,
        "Directeur de crise",
        "Philippe Roussel",
        "direction@ch-valmont.example",
    ),
    (ParticipantRole.PLAYER, "DSI", "Marc Lefebvre", "dsi@ch-valmont.example"),
    (ParticipantRole.PLAYER, "Direction des soins", "Hélène Garnier", "soins@ch-valmont.example"),
    (ParticipantRole.PLAYER, "Communication", "Lucas Petit", "communication@ch-valmont.example"),
    (ParticipantRole.OBSERVER, "Observation", "Nadia Benali", "qualite@ch-valmont.example"),
)


def _cast(exercise: Exercise) -> None:
    Participant.objects.bulk_create(
        Participant(exercise=exercise, role=role, function=function, name=name, email=email)
        for role, function, name, email in CELL
    )


def load_crisis_demo(ght: Organisation) -> int:
    """Returns the number of exercises created (0 when already there or without scenarios)."""
    chu = Organisation.objects.filter(path__startswith=ght.path, name__icontains="Valmont").first()
    scenario = Scenario.objects.filter(slug="rancongiciel-dpi-pacs", active=True).first()
    if chu is None or scenario is None or Exercise.objects.filter(organisation=chu).exists():
        return 0
    rssi = get_user_model().objects.filter(username="rssi").first()
    now = timezone.now()

    coming = scenarios.create_exercise_from(
        scenario, chu, title=f"Exercice annuel {now.year} — rançongiciel", actor=rssi
    )
    _cast(coming)
    Exercise.objects.filter(pk=coming.pk).update(
        status=ExerciseStatus.READY,
        scope="Urgences, imagerie, laboratoire ; cellule de crise de direction.",
        planned_start=now + dt.timedelta(days=20),
    )

    past = scenarios.create_exercise_from(
        scenario, chu, title=f"Exercice annuel {now.year - 1} — rançongiciel", actor=rssi
    )
    _cast(past)
    played = now - dt.timedelta(days=300)
    Exercise.objects.filter(pk=past.pk).update(
        status=ExerciseStatus.FINISHED,
        started_at=played,
        finished_at=played + dt.timedelta(hours=3),
        elapsed_seconds=3 * 3600,
        key_timings={"detection": 600, "isolation": 2400, "escalation": 1500, "notification": 5400},
    )
    past.refresh_from_db()
    observer = past.participants.get(role=ParticipantRole.OBSERVER)
    for index, criterion in enumerate(past.criteria.all()):
        criterion.observations.create(
            observer=observer, rating=(Rating.MET, Rating.PARTIAL, Rating.NOT_MET)[index % 3]
        )
    report.set_objectives_met(
        past,
        {item["id"]: Rating.PARTIAL for item in past.objectives},
        actor=rssi,
    )
    for text in (
        "Tenir à jour l'annuaire de crise imprimé\nLes numéros des astreintes n'étaient pas à jour.",
        "Préparer les fiches réflexes du mode dégradé des urgences",
    ):
        lesson = report.add_lesson(past, text, actor=rssi)
        report.create_action_from_lesson(lesson, actor=rssi)
    report.close_exercise(past, actor=rssi)
    binder.seed_default_sections(chu)
    return 2
