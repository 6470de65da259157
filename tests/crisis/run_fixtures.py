"""An exercise built from the models for the run tests (not from the scenario library)."""

from __future__ import annotations

from hygie.crisis.models import (
    Channel,
    Criterion,
    Exercise,
    ExerciseStatus,
    Participant,
    ParticipantRole,
    Stimulus,
)


def exercise(organisation, *, title="Rançongiciel au CHU", speed=1.0, stimuli=None):
    ex = Exercise.objects.create(
        organisation=organisation, title=title, status=ExerciseStatus.READY, speed=speed
    )
    ex.facilitator = Participant.objects.create(
        exercise=ex, role=ParticipantRole.FACILITATOR, name="Anne Animatrice"
    )
    ex.player = Participant.objects.create(
        exercise=ex,
        role=ParticipantRole.PLAYER,
        function="Directeur de crise",
        name="Paul Joueur",
        email="directeur@chu-a.example",
    )
    ex.player2 = Participant.objects.create(
        exercise=ex,
        role=ParticipantRole.PLAYER,
        function="Communication",
        name="Chloé Com",
        email="com@chu-a.example",
    )
    ex.observer = Participant.objects.create(
        exercise=ex, role=ParticipantRole.OBSERVER, name="Olivier Observateur"
    )
    specs = stimuli or [
        (60, Channel.EMAIL, "Directeur de crise", "Écran de rançon sur les postes des urgences"),
        (120, Channel.PHONE, "", "Appel du chef de service d'imagerie"),
        (180, Channel.PRESS, "", "Un journaliste demande confirmation de la panne"),
    ]
    ex.timeline = [
        Stimulus.objects.create(
            exercise=ex,
            position=i,
            offset_seconds=offset,
            channel=channel,
            sender="Personnage " + str(i),
            recipients=recipients,
            subject=subject,
            content=f"Contenu du stimulus : {subject}",
            expected=f"RÉACTION-ATTENDUE-{i}",
        )
        for i, (offset, channel, recipients, subject) in enumerate(specs)
    ]
    ex.criteria_list = [
        Criterion.objects.create(exercise=ex, position=0, text="La cellule est activée"),
        Criterion.objects.create(exercise=ex, position=1, text="Le réseau est isolé"),
    ]
    return ex
