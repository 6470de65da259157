"""Permission-matrix routes of the crisis app: scenarios, exercise design and preparation."""

from __future__ import annotations

from django.urls import reverse

from hygie.crisis import scenarios
from hygie.crisis.models import Exercise, Participant, Scenario
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

TITLE = "Exercice déni de service du CHU A1"
SLUG = "deni-service-portail"


def exercise_a(w) -> Exercise:
    if not hasattr(w, "exercise_a"):
        w.exercise_a = scenarios.create_exercise_from(
            Scenario.objects.get(slug=SLUG), w.est_a1, title=TITLE
        )
        w.player_a = Participant.objects.create(
            exercise=w.exercise_a, role="player", name="Joueur A"
        )
    return w.exercise_a


def _one(name, *extra):
    return lambda w: reverse(f"crisis:{name}", args=[exercise_a(w).pk, *[e(w) for e in extra]])


def _viewers(outcome):
    return {"anonymous": LOGIN, "outsider": NOT_FOUND, "reader": outcome, "analyst": NOT_FOUND}


def _changers(outcome, reader=FORBIDDEN):
    return {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": reader,
        "editor": outcome,
        "analyst": NOT_FOUND,
    }


def _title_is(expected):
    return then(lambda w: Exercise.objects.get(pk=w.exercise_a.pk).title == expected, expected)


ROUTES = [
    Route(
        "crisis:exercises",
        url=lambda w: (exercise_a(w), reverse("crisis:exercises", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                **_viewers(OK.but(shows(lambda w: [TITLE]))),
                editor=OK.but(shows(lambda w: [TITLE, "Nouvel exercice"])),
            ),
            Call(
                "get",
                url=lambda w: (exercise_a(w), reverse("crisis:exercises", args=[w.ght_b.pk]))[1],
                note="the outsider's own GHT lists nothing of GHT A",
                anonymous=LOGIN,
                outsider=OK.but(hides(lambda w: [TITLE])),
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "crisis:scenarios",
        url=lambda w: reverse("crisis:scenarios", args=[w.ght_a.pk]),
        calls=[Call("get", **_viewers(OK), editor=OK.but(shows(lambda w: ["Rançongiciel"])))],
    ),
    Route(
        "crisis:scenario",
        url=lambda w: reverse("crisis:scenario", args=[w.ght_a.pk, SLUG]),
        calls=[
            Call("get", **_viewers(OK), editor=OK.but(shows(lambda w: ["Chronogramme"]))),
            Call(
                "get",
                url=lambda w: reverse("crisis:scenario", args=[w.ght_a.pk, "inconnu"]),
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "crisis:exercise_create",
        url=lambda w: reverse("crisis:exercise_create", args=[w.est_a1.pk]),
        calls=[
            Call("get", **_changers(OK)),
            Call(
                "post",
                data={"scenario": "", "title": "Exercice créé par la matrice"},
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: Exercise.objects.filter(
                                title="Exercice créé par la matrice", organisation=w.est_a1
                            ).exists(),
                            "the exercise was created",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "crisis:exercise",
        url=_one("exercise"),
        calls=[Call("get", **_viewers(OK), editor=OK.but(shows(lambda w: [TITLE])))],
    ),
    Route(
        "crisis:exercise_design",
        url=_one("exercise_design"),
        calls=[
            Call("get", **_viewers(OK), editor=OK),
            Call(
                "post",
                data={"title": "Renommé", "level": "beginner", "scope": "", "objectives_text": ""},
                **_changers(REDIRECT.but(_title_is("Renommé"))),
            ),
        ],
    ),
    Route(
        "crisis:exercise_participants",
        url=_one("exercise_participants"),
        calls=[
            Call("get", **_viewers(OK), editor=OK.but(shows(lambda w: ["Joueur A"]))),
            Call(
                "post",
                data={"role": "observer", "user": "", "name": "Observatrice", "email": ""},
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: w.exercise_a.participants.filter(
                                name="Observatrice"
                            ).exists(),
                            "the observer was added",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "crisis:exercise_participant_remove",
        url=_one("exercise_participant_remove", lambda w: (exercise_a(w), w.player_a.pk)[1]),
        calls=[
            Call(
                "post",
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: not Participant.objects.filter(pk=w.player_a.pk).exists(),
                            "the player was removed",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "crisis:exercise_timeline",
        url=_one("exercise_timeline"),
        calls=[
            Call("get", **_viewers(OK), editor=OK.but(shows(lambda w: ["Le site ne marche plus"]))),
            Call(
                "post",
                data={
                    "stimuli-TOTAL_FORMS": "0",
                    "stimuli-INITIAL_FORMS": "0",
                    "stimuli-MIN_NUM_FORMS": "0",
                    "stimuli-MAX_NUM_FORMS": "80",
                },
                **_changers(REDIRECT),
            ),
        ],
    ),
    Route(
        "crisis:exercise_grid",
        url=_one("exercise_grid"),
        calls=[
            Call("get", **_viewers(OK), editor=OK),
            Call(
                "post",
                data={
                    "criteria-TOTAL_FORMS": "0",
                    "criteria-INITIAL_FORMS": "0",
                    "criteria-MIN_NUM_FORMS": "0",
                    "criteria-MAX_NUM_FORMS": "80",
                },
                **_changers(REDIRECT),
            ),
        ],
    ),
    Route(
        "crisis:exercise_situation",
        url=_one("exercise_situation"),
        calls=[
            Call("get", **_viewers(OK), editor=OK.but(shows(lambda w: ["Dossier de situation"]))),
            Call(
                "post",
                data={"situation_file": "# Nouveau dossier"},
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: (
                                Exercise.objects.get(pk=w.exercise_a.pk).situation_file
                                == "# Nouveau dossier"
                            ),
                            "the situation file was saved",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "crisis:exercise_ready",
        url=_one("exercise_ready"),
        calls=[Call("post", **_changers(REDIRECT))],
    ),
]
