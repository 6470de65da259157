"""Permission-matrix routes of the crisis app: lessons learned, cold report, crisis binder.

GHT A's reader sees the lessons, the report and the binder but changes nothing (403); GHT B's
RSSI and the regional analyst (aggregate figures only) get 404 everywhere. The hot debrief
page answers the exercise's participants only (editor and reader take part here).
"""

from __future__ import annotations

from django.urls import reverse

from hygie.actions.models import ActionItem
from hygie.assessments.models import Fact
from hygie.crisis.models import BinderSection, Exercise, Lesson
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    REDIRECT,
    Call,
    Route,
    hides,
    shows,
    then,
)


def _exercise(w) -> Exercise:
    existing = w.__dict__.get("binder_exercise")
    if existing is None:
        from tests.crisis.report_data import played_exercise

        existing = w.binder_exercise = played_exercise(w.est_a1, users=[w.editor, w.reader])
    return existing


def _lesson(w) -> Lesson:
    existing = w.__dict__.get("binder_lesson")
    if existing is None:
        existing = w.binder_lesson = Lesson.objects.create(
            exercise=_exercise(w), text="Imprimer l'annuaire de crise"
        )
    return existing


def _section(w) -> BinderSection:
    existing = w.__dict__.get("binder_section")
    if existing is None:
        existing = w.binder_section = BinderSection.objects.create(
            organisation=w.est_a1, kind="procedure", title="Procédure de A1", body="1. Isoler"
        )
    return existing


def exercise_url(name, *extra):
    return lambda w: reverse(name, args=[_exercise(w).pk, *[e(w) for e in extra]])


def binder_url(name, *extra):
    return lambda w: reverse(name, args=[w.est_a1.pk, *[e(w) for e in extra]])


def _private(**overrides):
    outcomes = {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": OK,
        "editor": OK,
        "analyst": NOT_FOUND,
    }
    outcomes.update(overrides)
    return outcomes


def _change(success, **overrides):
    outcomes = {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": FORBIDDEN,
        "editor": success,
        "analyst": NOT_FOUND,
    }
    outcomes.update(overrides)
    return outcomes


B_HIDDEN = lambda w: ["GHT B", "CH B1", "rssi-b"]  # noqa: E731
SECTION = {"kind": "procedure", "title": "Nouvelle procédure", "body": "- Appeler", "position": 3}

ROUTES = [
    Route(
        "crisis:lessons",
        url=exercise_url("crisis:lessons"),
        calls=[
            Call(
                "get",
                setup=_lesson,
                **_private(
                    editor=OK.but(shows(lambda w: ["Créer l'action", "La chaîne d&#x27;alerte"])),
                    reader=OK.but(hides(lambda w: ["Créer l'action"])),
                ),
            )
        ],
    ),
    Route(
        "crisis:debrief",
        url=exercise_url("crisis:debrief"),
        calls=[
            Call("get", **_private()),
            Call(
                "post",
                data={"worked": "Le point de situation horaire"},
                **_private(),
            ),
        ],
    ),
    Route(
        "crisis:lesson_add",
        url=exercise_url("crisis:lesson_add"),
        calls=[
            Call(
                "post",
                data={"text": "Tester les sauvegardes hors ligne"},
                **_change(
                    REDIRECT.but(
                        then(
                            lambda w: Lesson.objects.filter(text__startswith="Tester").exists(),
                            "the lesson is added",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "crisis:lesson_action",
        url=exercise_url("crisis:lesson_action", lambda w: _lesson(w).pk),
        calls=[
            Call(
                "post",
                **_change(
                    REDIRECT.but(
                        then(
                            lambda w: ActionItem.objects.filter(origin="crisis").count() == 1,
                            "one action is created",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "crisis:objectives_met",
        url=exercise_url("crisis:objectives_met"),
        calls=[
            Call(
                "post",
                data={"objective_o1": "met"},
                **_change(
                    REDIRECT.but(
                        then(
                            lambda w: (
                                Exercise.objects.get(pk=_exercise(w).pk).objectives_met
                                == {"o1": "met"}
                            ),
                            "the rating is saved",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "crisis:report_pdf",
        url=exercise_url("crisis:report_pdf"),
        calls=[Call("get", **_private())],
    ),
    Route(
        "crisis:close",
        url=exercise_url("crisis:close"),
        calls=[
            Call("get", **_change(OK)),
            Call(
                "post",
                **_change(
                    REDIRECT.but(
                        then(
                            lambda w: Fact.objects.filter(source="crisis.exercise").exists(),
                            "closing records the evidence fact",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "crisis:binder",
        url=binder_url("crisis:binder"),
        calls=[Call("get", **_private(editor=OK.but(hides(B_HIDDEN))))],
    ),
    Route(
        "crisis:binder_seed",
        url=binder_url("crisis:binder_seed"),
        calls=[
            Call(
                "post",
                **_change(
                    REDIRECT.but(
                        then(
                            lambda w: (
                                BinderSection.objects.filter(organisation=w.est_a1).count() == 4
                            ),
                            "the template sections are created",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "crisis:binder_section_create",
        url=binder_url("crisis:binder_section_create"),
        calls=[
            Call("get", **_change(OK)),
            Call("post", data=SECTION, **_change(REDIRECT)),
        ],
    ),
    Route(
        "crisis:binder_section_edit",
        url=binder_url("crisis:binder_section_edit", lambda w: _section(w).pk),
        calls=[
            Call("get", **_change(OK)),
            Call("post", data=SECTION, **_change(REDIRECT)),
        ],
    ),
    Route(
        "crisis:binder_section_delete",
        url=binder_url("crisis:binder_section_delete", lambda w: _section(w).pk),
        calls=[
            Call(
                "post",
                **_change(
                    REDIRECT.but(
                        then(
                            lambda w: not BinderSection.objects.filter(organisation=w.est_a1),
                            "the section is deleted",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "crisis:binder_pdf",
        url=binder_url("crisis:binder_pdf"),
        calls=[Call("get", **_private())],
    ),
    Route(
        "crisis:binder_html",
        url=binder_url("crisis:binder_html"),
        calls=[
            Call(
                "get",
                setup=_section,
                **_private(editor=OK.but(shows(lambda w: ["Procédure de A1"]))),
            )
        ],
    ),
]
