"""Permission-matrix routes of the crisis app: the live run of an exercise."""

from __future__ import annotations

from django.urls import reverse

from hygie.crisis.models import ExerciseStatus, LogEntry
from tests.crisis import run_fixtures
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    PERSONAS,
    REDIRECT,
    Call,
    Route,
    hides,
    shows,
    then,
)


def ex(w):
    if not hasattr(w, "exercise"):
        w.exercise = run_fixtures.exercise(w.est_a1, title="Exercice rançongiciel A1")
    return w.exercise


def url(name, *extra):
    return lambda w: reverse(f"crisis:{name}", args=[ex(w).pk, *[e(w) for e in extra]])


DENIED = {"anonymous": LOGIN, "outsider": NOT_FOUND, "analyst": NOT_FOUND}
FACILITATOR_ONLY = {**DENIED, "reader": FORBIDDEN}

ROUTES = [
    Route(
        "crisis:run_debrief",
        url=url("run_debrief"),
        # Members with an account answer from the lessons pages: they are sent there.
        calls=[Call("get", **DENIED, reader=REDIRECT, editor=REDIRECT)],
    ),
    Route(
        "crisis:run_console",
        url=url("run_console"),
        calls=[
            Call(
                "get",
                **FACILITATOR_ONLY,
                editor=OK.but(shows(lambda w: ["RÉACTION-ATTENDUE-0", "Démarrer l'exercice"])),
            )
        ],
    ),
    Route(
        "crisis:run_clock",
        url=url("run_clock"),
        calls=[
            Call(
                "post",
                data={"command": "start"},
                **FACILITATOR_ONLY,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            ex(w).__class__.objects.get(pk=ex(w).pk).status
                            == ExerciseStatus.RUNNING
                        ),
                        "the exercise should be running",
                    )
                ),
            )
        ],
    ),
    Route(
        "crisis:run_stimulus",
        url=url("run_stimulus", lambda w: ex(w).timeline[1].pk),
        calls=[Call("post", data={"action": "skip"}, **FACILITATOR_ONLY, editor=REDIRECT)],
    ),
    Route(
        "crisis:run_issue_link",
        url=url("run_issue_link", lambda w: ex(w).player.pk),
        calls=[Call("post", **FACILITATOR_ONLY, editor=REDIRECT)],
    ),
    Route(
        "crisis:run_players",
        url=url("run_players"),
        calls=[
            Call(
                "get",
                **DENIED,
                reader=OK.but(hides(lambda w: ["RÉACTION-ATTENDUE"])),
                editor=OK,
            )
        ],
    ),
    Route(
        "crisis:run_log",
        url=url("run_log"),
        calls=[
            Call(
                "post",
                data={"kind": "decision", "text": "Activer la cellule de crise"},
                **FACILITATOR_ONLY,
                editor=REDIRECT.but(
                    then(
                        lambda w: LogEntry.objects.filter(
                            text="Activer la cellule de crise"
                        ).exists(),
                        "the line should be in the logbook",
                    )
                ),
            )
        ],
    ),
    Route(
        "crisis:run_grid",
        url=url("run_grid"),
        calls=[
            Call("get", **FACILITATOR_ONLY, editor=OK),
            Call(
                "post",
                note="only observers rate; a facilitator reads",
                **FACILITATOR_ONLY,
                editor=FORBIDDEN,
            ),
        ],
    ),
    Route(
        "crisis:run_state",
        url=url("run_state"),
        calls=[
            Call(
                "get",
                **DENIED,
                reader=OK.but(hides(lambda w: ["timeline", "RÉACTION-ATTENDUE"])),
                editor=OK.but(shows(lambda w: ['"timeline"'])),
            )
        ],
    ),
    Route(
        "crisis:run_join",
        url=lambda w: reverse("crisis:run_join", args=["jeton-inconnu"]),
        public=True,
        why="participants without an account enter through their personal link",
        calls=[Call("get", **dict.fromkeys(PERSONAS, NOT_FOUND))],
    ),
]
