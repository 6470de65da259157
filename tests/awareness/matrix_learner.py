"""Permission-matrix routes of the awareness app: learner pages (personal links).

The learner has no account: the token is the key, and once a browser has pressed
"Commencer" the link belongs to that browser. The matrix personas are users, none of them the
learner's browser: whatever their role, a logged-in RSSI gets exactly what an anonymous
visitor holding the token gets — the welcome page of a link nobody has started, a refusal
(403) for a link bound to the learner's own browser, a "gone" page (410) for an expired link.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.permission_matrix import (
    FORBIDDEN,
    OK,
    PERSONAS,
    REDIRECT,
    Call,
    Outcome,
    Route,
    hides,
    shows,
)

GONE = Outcome("410 Gone", (410,))


def _link(w, state: str):
    """A personal link of CHU A1's staff member, in the given state (created once per world)."""
    from hygie.awareness import learner
    from hygie.awareness.models import LearnerLink
    from tests.awareness import learner_data

    cache = w.__dict__.setdefault("learner_tokens", {})
    if state not in cache:
        module = learner_data.module(f"matrice-{state}")
        _, link, token = learner_data.learner_link(w.staff_a1, module)
        if state == "bound":
            learner.bind(link, "the-learner-s-own-browser")
        elif state == "expired":
            LearnerLink.objects.filter(pk=link.pk).update(
                expires_at=timezone.now() - timedelta(days=1)
            )
        cache[state] = token
    return cache[state]


def _url(name, state, *args):
    return lambda w: reverse(f"awareness:{name}", args=[_link(w, state), *args])


def _all(outcome):
    return dict.fromkeys(PERSONAS, outcome)


WHY = "reached by a learner without an account; the token and the bound browser are the key"
REFUSED = FORBIDDEN.but(shows(lambda w: ["déjà utilisé sur un autre appareil"]))
NO_ADDRESS_LEAK = hides(lambda w: [w.staff_a1.email])

ROUTES = [
    Route(
        "awareness:learner_open",
        url=_url("learner_open", "fresh"),
        public=True,
        why=WHY,
        calls=[
            Call("get", **_all(OK.but(shows(lambda w: ["Commencer"])))),
            Call("get", url=_url("learner_open", "bound"), **_all(REFUSED.but(NO_ADDRESS_LEAK))),
            Call("get", url=_url("learner_open", "expired"), **_all(GONE)),
        ],
    ),
    Route(
        "awareness:learner_start",
        url=_url("learner_start", "fresh"),
        public=True,
        why=WHY,
        calls=[
            Call("post", **_all(REDIRECT)),
            Call("post", url=_url("learner_start", "bound"), **_all(REFUSED)),
        ],
    ),
    Route(
        "awareness:learner_step",
        url=_url("learner_step", "bound", 1),
        public=True,
        why=WHY,
        calls=[Call("get", **_all(REFUSED)), Call("post", **_all(REFUSED))],
    ),
    Route(
        "awareness:learner_quiz",
        url=_url("learner_quiz", "bound"),
        public=True,
        why=WHY,
        calls=[
            Call("get", **_all(REFUSED)),
            Call("post", data={"q-q1": "b"}, **_all(REFUSED)),
        ],
    ),
    Route(
        "awareness:learner_result",
        url=_url("learner_result", "bound"),
        public=True,
        why=WHY,
        calls=[Call("get", **_all(REFUSED))],
    ),
    Route(
        "awareness:learner_certificate",
        url=_url("learner_certificate", "bound"),
        public=True,
        why=WHY,
        calls=[
            Call("get", **_all(REFUSED)),
            Call("get", url=_url("learner_certificate", "expired"), **_all(GONE)),
        ],
    ),
    Route(
        "awareness:learner_new_link",
        url=_url("learner_new_link", "expired"),
        public=True,
        why="anyone holding the link may have a fresh one sent to the address on file (never shown)",
        calls=[
            Call("post", **_all(OK.but(NO_ADDRESS_LEAK, shows(lambda w: ["Nouveau lien envoyé"]))))
        ],
    ),
]
