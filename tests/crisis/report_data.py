"""A played exercise of CHU A1 for the lessons-learned, report and binder tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hygie.crisis.models import (
    Channel,
    Criterion,
    DebriefAnswer,
    Exercise,
    ExerciseStatus,
    Lesson,
    Observation,
    Participant,
    ParticipantRole,
    Rating,
    ReleaseStatus,
    Stimulus,
)

EXERCISE_DAY = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)


def played_exercise(organisation, *, title="Rançongiciel aux urgences", status=None, users=()):
    """A finished exercise with participants, released stimuli, a grid and a debrief."""
    exercise = Exercise.objects.create(
        organisation=organisation,
        title=title,
        level="intermediate",
        scope="Urgences et imagerie du site principal",
        objectives=[
            {"id": "o1", "text": "Activer la cellule de crise en moins de 30 minutes"},
            {"id": "o2", "text": "Notifier le CERT Santé"},
        ],
        status=status or ExerciseStatus.FINISHED,
        started_at=EXERCISE_DAY,
        finished_at=EXERCISE_DAY + dt.timedelta(hours=2),
        key_timings={"detection": 300, "isolation": 2700, "escalation": 3900},
    )
    director = Participant.objects.create(
        exercise=exercise,
        role=ParticipantRole.PLAYER,
        name="Hélène Directrice",
        function="Directrice de crise",
    )
    observer = Participant.objects.create(
        exercise=exercise, role=ParticipantRole.OBSERVER, name="Olivier Observateur"
    )
    Participant.objects.create(
        exercise=exercise, role=ParticipantRole.FACILITATOR, name="Fanny Animatrice"
    )
    for user in users:
        Participant.objects.create(
            exercise=exercise, role=ParticipantRole.PLAYER, name=user.username, user=user
        )
    Stimulus.objects.create(
        exercise=exercise,
        offset_seconds=0,
        channel=Channel.EMAIL,
        sender="Support informatique",
        subject="Écrans noirs aux urgences",
        content="Plus aucun poste ne démarre.",
        status=ReleaseStatus.SENT,
        released_at=EXERCISE_DAY,
        released_exercise_seconds=0,
    )
    Stimulus.objects.create(
        exercise=exercise,
        offset_seconds=1800,
        channel=Channel.PRESS,
        sender="Journaliste",
        subject="Appel de La Voix du Nord",
        content="Est-ce une cyberattaque ?",
        status=ReleaseStatus.RELEASED,
        released_at=EXERCISE_DAY,
        released_exercise_seconds=1810,
    )
    Stimulus.objects.create(
        exercise=exercise,
        offset_seconds=6000,
        channel=Channel.SMS,
        sender="ARS",
        subject="Stimulus jamais joué",
        content="…",
        status=ReleaseStatus.PENDING,
    )
    criterion = Criterion.objects.create(
        exercise=exercise, text="La main courante est tenue dès le début", objective="o1"
    )
    Observation.objects.create(
        criterion=criterion,
        observer=observer,
        rating=Rating.PARTIAL,
        comment="Main courante ouverte après 20 minutes",
    )
    DebriefAnswer.objects.create(
        exercise=exercise,
        participant=director,
        answers={"worked": "La chaîne d'alerte", "change_first": "Imprimer l'annuaire de crise"},
    )
    return exercise


def lesson(exercise, text="Imprimer l'annuaire de crise chaque trimestre"):
    return Lesson.objects.create(exercise=exercise, text=text)


def today():
    return timezone.localdate()


def pdf_text(pdf: bytes) -> str:
    """Text drawn on a ReportLab PDF's pages (its content streams are ASCII85 + Flate)."""
    import base64
    import re
    import zlib

    assert pdf.startswith(b"%PDF-"), "not a PDF"
    texts = []
    for match in re.finditer(
        rb"/ASCII85Decode /FlateDecode \].*?stream\r?\n(.*?)endstream", pdf, re.S
    ):
        stream = zlib.decompress(base64.a85decode(match.group(1).strip(), adobe=True))
        for shown in re.findall(rb"\((.*?)\) Tj", stream):
            raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), shown)
            texts.append(raw.replace(b"\\(", b"(").replace(b"\\)", b")").decode("cp1252"))
    return "\n".join(texts)
