"""Permission-matrix routes of the phishing app: sending profiles."""

from __future__ import annotations

from django.urls import reverse

from hygie.phishing.models import SendingProfile
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

SECRET = "mot-de-passe-du-relais"


def profile_a(w) -> SendingProfile:
    if not hasattr(w, "profile_a"):
        w.profile_a = SendingProfile.objects.create(
            organisation=w.est_a1,
            name="Relais CHU A1",
            host="127.0.0.1",
            port=1,  # nothing listens: a test send fails fast, and is reported
            username="simulations",
            password=SECRET,
            from_address="informatique@chu-a.example",
            timeout=2,
        )
    return w.profile_a


def form(w):
    return {
        "name": "Relais GHT",
        "host": "smtp.ght-a.example",
        "port": 587,
        "security": "starttls",
        "username": "",
        "password": "",
        "from_address": "informatique@ght-a.example",
        "ca_certificate": "",
        "timeout": 20,
    }


ROUTES = [
    Route(
        "phishing:profiles",
        url=lambda w: (profile_a(w), reverse("phishing:profiles", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Relais CHU A1"]), hides(lambda w: [SECRET])),
                editor=OK.but(shows(lambda w: ["Relais CHU A1"]), hides(lambda w: [SECRET])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "phishing:profile_create",
        url=lambda w: reverse("phishing:profile_create", args=[w.ght_a.pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=form,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: SendingProfile.objects.filter(
                            name="Relais GHT", organisation=w.ght_a
                        ).exists(),
                        "created",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:profile_edit",
        url=lambda w: reverse("phishing:profile_edit", args=[profile_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(hides(lambda w: [SECRET])),
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=lambda w: {**form(w), "name": "Relais renommé"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: SendingProfile.objects.get(pk=w.profile_a.pk).password == SECRET,
                        "password kept",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:profile_test",
        url=lambda w: reverse("phishing:profile_test", args=[profile_a(w).pk]),
        calls=[
            Call(
                "post",
                data={"recipient": "rssi@chu-a.example"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            SendingProfile.objects.get(pk=w.profile_a.pk).last_test_ok is False
                        ),
                        "outcome kept",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
]


def recipient_token(w) -> str:
    """A recipient of GHT A's simulation (the public pages need only the token)."""
    from django.utils import timezone

    from hygie.phishing.models import Recipient, Simulation
    from hygie.phishing.tracking import new_token

    if not hasattr(w, "recipient_a"):
        simulation = Simulation.objects.create(
            organisation=w.est_a1, name="Simulation A1", sending_profile=profile_a(w)
        )
        w.recipient_a = Recipient.objects.create(
            simulation=simulation,
            email=w.staff_a1.email,
            staff=w.staff_a1,
            lure="resultats-laboratoire",
            token=new_token(),
            sent_at=timezone.now() - timezone.timedelta(hours=1),
        )
    return w.recipient_a.token


def _public(name, method="get", outcome=OK, why="", data=None):
    return Route(
        name,
        url=lambda w: reverse(name, args=[recipient_token(w)]),
        public=True,
        why=why or "reached by a simulation's recipient, who has no account; the token is the key",
        calls=[Call(method, data=data, **dict.fromkeys(PERSONAS, outcome))],
    )


ROUTES += [
    _public("phishing:open"),
    _public("phishing:landing"),
    _public("phishing:submit", "post", REDIRECT, data={"identifiant": "x"}),
    _public("phishing:teachable"),
    _public("phishing:report", "post", OK),
]


# Results (hygie/phishing/results_views.py) ------------------------------------------------------
def results_simulation(w):
    """A completed campaign of CHU A1: six people of Urgences A1 named Durandal*, two clicked."""
    from tests.phishing.results_data import campaign, people

    if not hasattr(w, "results_simulation"):
        w.results_simulation = campaign(w.est_a1, "Campagne résultats A1")
        people(
            w.results_simulation,
            6,
            establishment=w.est_a1,
            site=w.site_a1,
            service=w.service_a1,
            clicked=2,
            reported=1,
            last_name="Durandal",
        )
    return w.results_simulation


def _revealed(w) -> bool:
    from hygie.core.models import AuditEvent

    return AuditEvent.objects.filter(
        action="phishing.results_reveal", target_id=str(w.results_simulation.pk)
    ).exists()


NAMES = lambda w: ["Durandal"]  # noqa: E731
_NOMINATIVE = {"anonymous": LOGIN, "outsider": NOT_FOUND, "analyst": NOT_FOUND}

ROUTES += [
    Route(
        "phishing:results",
        url=lambda w: reverse("phishing:results", args=[results_simulation(w).pk]),
        calls=[
            Call(
                "get",
                **_NOMINATIVE,
                reader=OK.but(shows(lambda w: ["Urgences A1"]), hides(NAMES)),
                editor=OK.but(shows(lambda w: ["Urgences A1"]), hides(NAMES)),
            )
        ],
    ),
    Route(
        "phishing:results_csv",
        url=lambda w: reverse("phishing:results_csv", args=[results_simulation(w).pk]),
        calls=[
            Call(
                "get",
                **_NOMINATIVE,
                reader=OK.but(shows(lambda w: ["Urgences A1"]), hides(NAMES)),
                editor=OK.but(hides(NAMES)),
            )
        ],
    ),
    Route(
        "phishing:results_people",
        url=lambda w: reverse("phishing:results_people", args=[results_simulation(w).pk]),
        calls=[
            Call(
                "get",
                **_NOMINATIVE,
                reader=FORBIDDEN,
                editor=OK.but(shows(lambda w: ["Personne "]), hides(NAMES)),
            )
        ],
    ),
    Route(
        "phishing:results_reveal",
        url=lambda w: reverse("phishing:results_reveal", args=[results_simulation(w).pk]),
        calls=[
            Call(
                "post",
                data={"reason": "Proposer une formation au service des urgences"},
                **_NOMINATIVE,
                reader=FORBIDDEN,
                editor=REDIRECT.but(then(_revealed, "the reveal is journalled")),
            )
        ],
    ),
    Route(
        "phishing:results_trends",
        url=lambda w: (
            results_simulation(w),
            reverse("phishing:results_trends", args=[w.est_a1.pk]),
        )[1],
        calls=[
            Call(
                "get",
                **_NOMINATIVE,
                reader=OK.but(shows(lambda w: ["Campagne résultats A1"]), hides(NAMES)),
                editor=OK.but(shows(lambda w: ["Campagne résultats A1"]), hides(NAMES)),
            )
        ],
    ),
    Route(
        "phishing:results_overview",
        url=lambda w: (
            results_simulation(w),
            reverse("phishing:results_overview", args=[w.region_a.pk]),
        )[1],
        why="aggregate figures of a region: its analysts only",
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=OK.but(hides(lambda w: ["Durandal", "CHU A1", "Urgences A1"])),
            )
        ],
    ),
    Route(
        "phishing:transparency",
        url=lambda w: reverse("phishing:transparency", args=[w.est_a1.pk]),
        public=True,
        why="staff read what simulations collect without an account",
        calls=[Call("get", **dict.fromkeys(PERSONAS, OK.but(shows(lambda w: ["CHU A1"]))))],
    ),
]
