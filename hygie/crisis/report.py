"""Lessons learned of an exercise: hot debrief, lessons turned into actions, objectives met,
closing (evidence for the annual-exercise measure) and the cold report PDF.

Decisions: docs/decisions/0630-debrief-and-lessons.md, 0631-cold-report-and-closing.md.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.actions.models import ActionItem, Priority
from hygie.actions.services import HORIZON_DAYS
from hygie.assessments.services import record_fact
from hygie.core.audit import record_event
from hygie.core.pdf import PdfKit
from hygie.crisis.models import (
    DebriefAnswer,
    Exercise,
    ExerciseStatus,
    Lesson,
    Milestone,
    Participant,
    ParticipantRole,
    Rating,
    ReleaseStatus,
)

# The hot debrief questionnaire, asked of every participant right after the exercise.
DEBRIEF_QUESTIONS: list[tuple[str, object]] = [
    ("worked", gettext_lazy("Qu'est-ce qui a bien fonctionné ?")),
    ("failed", gettext_lazy("Qu'est-ce qui n'a pas fonctionné ou vous a manqué ?")),
    ("surprised", gettext_lazy("Qu'est-ce qui vous a surpris ?")),
    ("change_first", gettext_lazy("Que faudrait-il changer en priorité ?")),
]
DEBRIEF_KEYS = [key for key, _label in DEBRIEF_QUESTIONS]
ANSWER_MAX_LENGTH = 4000

# The debrief is answered once the exercise is played, until it is closed.
DEBRIEF_OPEN_STATUSES = (ExerciseStatus.FINISHED,)


class ReportError(ValueError):
    pass


# Hot debrief ------------------------------------------------------------------------------------
def debrief_is_open(exercise: Exercise) -> bool:
    return exercise.status in DEBRIEF_OPEN_STATUSES


def save_debrief(participant: Participant, answers: dict[str, str]) -> DebriefAnswer:
    """Store (or replace) the participant's answers; unknown keys are dropped."""
    exercise = participant.exercise
    if not debrief_is_open(exercise):
        raise ReportError(_("Le questionnaire de retour à chaud n'est pas ouvert."))
    cleaned = {
        key: (answers.get(key) or "").strip()[:ANSWER_MAX_LENGTH]
        for key in DEBRIEF_KEYS
        if (answers.get(key) or "").strip()
    }
    if not cleaned:
        raise ReportError(_("Répondez au moins à une question."))
    debrief, _created = DebriefAnswer.objects.update_or_create(
        exercise=exercise, participant=participant, defaults={"answers": cleaned}
    )
    return debrief


@dataclass
class DebriefHighlight:
    key: str
    question: str
    answers: list[tuple[str, str]]  # (participant's name, answer)


def debrief_highlights(exercise: Exercise) -> list[DebriefHighlight]:
    """Answers grouped by question, in the questionnaire's order."""
    debriefs = list(
        DebriefAnswer.objects.filter(exercise=exercise)
        .select_related("participant")
        .order_by("participant__name", "pk")
    )
    return [
        DebriefHighlight(
            key=key,
            question=str(label),
            answers=[(d.participant.name, d.answers[key]) for d in debriefs if d.answers.get(key)],
        )
        for key, label in DEBRIEF_QUESTIONS
    ]


# Lessons ----------------------------------------------------------------------------------------
def add_lesson(exercise: Exercise, text: str, *, actor=None, request=None) -> Lesson:
    text = text.strip()
    if not text:
        raise ReportError(_("Écrivez l'enseignement."))
    lesson = Lesson.objects.create(exercise=exercise, text=text)
    record_event(
        "crisis.lesson_added",
        request=request,
        actor=actor,
        target=lesson,
        organisation=exercise.organisation,
    )
    return lesson


def create_action_from_lesson(lesson: Lesson, *, actor, request=None) -> ActionItem:
    """Turn a lesson into an action-plan item of the cell's organisation, linked back.

    Idempotent: the lesson row is locked, so a second click (or a double submit) returns the
    item already created instead of a second one.
    """
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
        if lesson.action_id and ActionItem.objects.filter(pk=lesson.action_id).exists():
            return lesson.action
        cell = lesson.exercise or lesson.incident
        organisation = cell.organisation
        if lesson.exercise_id:
            origin_text = _("Enseignement de l'exercice de crise « %(title)s »") % {
                "title": cell.title
            }
        else:
            origin_text = _("Enseignement de l'incident « %(title)s »") % {"title": cell.title}
        first_line = lesson.text.strip().splitlines()[0]
        item = ActionItem.objects.create(
            organisation=organisation,
            title=first_line[:300],
            description=f"{origin_text}.\n\n{lesson.text}",
            priority=Priority.MEDIUM,
            due_on=timezone.localdate() + dt.timedelta(days=HORIZON_DAYS[Priority.MEDIUM]),
            origin="crisis",
        )
        lesson.action = item
        lesson.save(update_fields=["action"])
        record_event(
            "crisis.lesson_action_created",
            request=request,
            actor=actor,
            target=item,
            organisation=organisation,
            details={"lesson": lesson.pk},
        )
    return item


# Objectives met ---------------------------------------------------------------------------------
def set_objectives_met(exercise: Exercise, ratings: dict[str, str], *, actor, request=None):
    """Record which objectives were met; unknown objectives or ratings are refused."""
    known = {str(o.get("id")) for o in exercise.objectives}
    valid = set(Rating.values)
    problems = [key for key in ratings if key not in known] + [
        f"{key}={value}" for key, value in ratings.items() if value and value not in valid
    ]
    if problems:
        raise ReportError(_("Objectifs ou appréciations inconnus : %s") % ", ".join(problems))
    exercise.objectives_met = {key: value for key, value in ratings.items() if value}
    exercise.save(update_fields=["objectives_met"])
    record_event(
        "crisis.objectives_rated",
        request=request,
        actor=actor,
        target=exercise,
        organisation=exercise.organisation,
        details=exercise.objectives_met,
    )


# Closing ----------------------------------------------------------------------------------------
def exercise_day(exercise: Exercise) -> dt.date:
    moment = exercise.started_at or exercise.planned_start or exercise.finished_at
    return timezone.localdate(moment) if moment else timezone.localdate()


def close_exercise(exercise: Exercise, *, actor, request=None) -> Exercise:
    """finished → closed, and the exercise becomes evidence for the annual-exercise measure."""
    with transaction.atomic():
        updated = Exercise.objects.filter(pk=exercise.pk, status=ExerciseStatus.FINISHED).update(
            status=ExerciseStatus.CLOSED
        )
        if not updated:
            raise ReportError(_("Seul un exercice joué peut être clôturé."))
        exercise.refresh_from_db()
        day = exercise_day(exercise)
        record_fact(
            exercise.organisation,
            "crisis.exercise",
            source_key=f"exercise-{exercise.pk}",
            occurred_on=day,
            summary=_("Exercice de crise « %(title)s » du %(day)s")
            % {"title": exercise.title, "day": day.strftime("%d/%m/%Y")},
            url=reverse("crisis:lessons", args=[exercise.pk]),
            details={
                "level": exercise.level,
                "participants": exercise.participants.count(),
                "lessons": exercise.lessons.count(),
            },
        )
        record_event(
            "crisis.exercise_closed",
            request=request,
            actor=actor,
            target=exercise,
            organisation=exercise.organisation,
        )
    return exercise


# Cold report ------------------------------------------------------------------------------------
def hhmm(seconds: float | None) -> str:
    """Exercise seconds as HH:MM (the exercise clock, not the wall clock)."""
    if seconds is None:
        return "—"
    minutes = int(seconds) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def key_timing_rows(exercise: Exercise) -> list[tuple[str, str]]:
    return [
        (str(label), hhmm(exercise.key_timings.get(value))) for value, label in Milestone.choices
    ]


def objective_rows(exercise: Exercise) -> list[tuple[str, str, str]]:
    labels = dict(Rating.choices)
    rows = []
    for objective in exercise.objectives:
        key = str(objective.get("id", ""))
        rating = exercise.objectives_met.get(key, "")
        rows.append((key, objective.get("text", ""), str(labels.get(rating, _("Non évalué")))))
    return rows


@dataclass
class CriterionSummary:
    text: str
    counts: dict[str, int]
    comments: list[str]


def observation_summary(exercise: Exercise) -> list[CriterionSummary]:
    summaries = []
    for criterion in exercise.criteria.prefetch_related("observations__observer"):
        observations = list(criterion.observations.all())
        counts = Counter(o.rating for o in observations)
        summaries.append(
            CriterionSummary(
                text=criterion.text,
                counts={value: counts.get(value, 0) for value in Rating.values},
                comments=[
                    f"{o.observer.name} : {o.comment.strip()}"
                    for o in observations
                    if o.comment.strip()
                ],
            )
        )
    return summaries


RELEASED = (ReleaseStatus.RELEASED, ReleaseStatus.SENT, ReleaseStatus.FAILED)


def released_stimuli(exercise: Exercise):
    return exercise.stimuli.filter(status__in=RELEASED)


def render_report_pdf(exercise: Exercise) -> bytes:
    """The cold report (A4, selectable text)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    kit = PdfKit()
    styles, h1, h2, small = kit.styles, kit.h1, kit.h2, kit.small
    p, table = kit.p, kit.table
    buffer = io.BytesIO()
    doc = kit.document(buffer, title=_("Rapport d'exercice de crise") + f" — {exercise.title}")

    day = exercise_day(exercise)
    story = [
        p(_("Rapport d'exercice de crise"), h1),
        p(exercise.title, styles["Heading1"]),
        p(
            _("%(org)s — exercice du %(day)s — niveau : %(level)s — statut : %(status)s")
            % {
                "org": exercise.organisation.name,
                "day": day.strftime("%d/%m/%Y"),
                "level": exercise.get_level_display(),
                "status": exercise.get_status_display(),
            }
        ),
        p(_("Périmètre"), h2),
        p(exercise.scope or _("Non renseigné.")),
        p(_("Participants"), h2),
    ]
    participants = list(exercise.participants.all())
    for role, label in ParticipantRole.choices:
        people = [
            f"{x.name}" + (f" ({x.function})" if x.function else "")
            for x in participants
            if x.role == role
        ]
        story.append(p(f"{label} ({len(people)}) : " + (", ".join(people) or "—")))

    story.append(p(_("Objectifs"), h2))
    rows = objective_rows(exercise)
    if rows:
        story.append(table([_("Réf."), _("Objectif"), _("Atteint ?")], rows, [15, 120, 39]))
    else:
        story.append(p(_("Aucun objectif défini.")))

    story.append(p(_("Temps clés (horloge de l'exercice, HH:MM)"), h2))
    story.append(table([_("Jalon"), _("Temps")], key_timing_rows(exercise), [80, 40]))

    story.append(p(_("Chronogramme des stimuli diffusés"), h2))
    stimuli = [
        (
            hhmm(
                s.released_exercise_seconds
                if s.released_exercise_seconds is not None
                else s.offset_seconds
            ),
            s.get_channel_display(),
            s.sender,
            s.subject or s.content[:200],
            s.get_status_display(),
        )
        for s in released_stimuli(exercise)
    ]
    if stimuli:
        story.append(
            table(
                [_("Temps"), _("Canal"), _("Émetteur"), _("Objet / contenu"), _("Statut")],
                stimuli,
                [16, 24, 34, 75, 25],
            )
        )
    else:
        story.append(p(_("Aucun stimulus diffusé.")))

    story.append(p(_("Grille d'observation"), h2))
    rating_labels = dict(Rating.choices)
    grid = [
        (
            c.text,
            " / ".join(f"{rating_labels[k]} : {n}" for k, n in c.counts.items()),
            "\n".join(c.comments) or "—",
        )
        for c in observation_summary(exercise)
    ]
    if grid:
        story.append(
            table([_("Critère"), _("Appréciations"), _("Commentaires")], grid, [60, 44, 70])
        )
    else:
        story.append(p(_("Aucun critère d'observation.")))

    story.append(p(_("Retour à chaud"), h2))
    any_answer = False
    for highlight in debrief_highlights(exercise):
        if not highlight.answers:
            continue
        any_answer = True
        story.append(p(highlight.question, styles["Heading4"]))
        for name, answer in highlight.answers:
            story.append(p(f"{name} : {answer}"))
    if not any_answer:
        story.append(p(_("Aucune réponse au questionnaire.")))

    story.append(p(_("Enseignements et actions"), h2))
    lessons = list(exercise.lessons.select_related("action"))
    if lessons:
        story.append(
            table(
                [_("Enseignement"), _("Action du plan")],
                [
                    (
                        lesson.text,
                        (
                            f"{lesson.action.title} — {lesson.action.get_status_display()}"
                            + (
                                f" — {lesson.action.due_on.strftime('%d/%m/%Y')}"
                                if lesson.action.due_on
                                else ""
                            )
                        )
                        if lesson.action
                        else _("Pas encore d'action"),
                    )
                    for lesson in lessons
                ],
                [95, 79],
            )
        )
    else:
        story.append(p(_("Aucun enseignement enregistré.")))
    story += [
        Spacer(1, 6 * mm),
        p(_("Généré par Hygie le %s") % timezone.localtime().strftime("%d/%m/%Y %H:%M"), small),
    ]
    doc.build(story)
    return buffer.getvalue()
