"""Permission-matrix routes of the phishing app: sending profiles."""

from __future__ import annotations

from django.urls import reverse

from hygie.phishing.models import SendingProfile, Simulation
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


def simulation_a(w):
    """A draft campaign of CHU A1."""
    if not hasattr(w, "simulation_a"):
        w.simulation_a = Simulation.objects.create(
            organisation=w.est_a1,
            name="Campagne de printemps A1",
            sending_profile=profile_a(w),
            lures=["resultats-laboratoire"],
        )
    return w.simulation_a


def simulation_form(w):
    return {
        "name": "Campagne d'automne",
        "sending_profile": profile_a(w).pk,
        "lures": ["planning-gardes", "paie-mutuelle"],
        "assignment": "random",
        "business_start": "08:30",
        "business_end": "17:30",
        "business_days": ["0", "1", "2", "3", "4"],
        "rate_per_minute": 30,
        "observe_days": 7,
    }


def _status_is(status):
    return then(lambda w: Simulation.objects.get(pk=w.simulation_a.pk).status == status, status)


ROUTES += [
    Route(
        "phishing:simulations",
        url=lambda w: (simulation_a(w), reverse("phishing:simulations", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Campagne de printemps A1"])),
                editor=OK.but(shows(lambda w: ["Campagne de printemps A1"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "phishing:simulation_create",
        url=lambda w: reverse("phishing:simulation_create", args=[w.est_a1.pk]),
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
                data=simulation_form,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Simulation.objects.filter(
                            name="Campagne d'automne", organisation=w.est_a1
                        ).exists(),
                        "created",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:simulation",
        url=lambda w: reverse("phishing:simulation", args=[simulation_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Campagne de printemps A1"])),
                editor=OK.but(shows(lambda w: ["Lancer la campagne"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "phishing:simulation_edit",
        url=lambda w: reverse("phishing:simulation_edit", args=[simulation_a(w).pk]),
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
                data=simulation_form,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            Simulation.objects.get(pk=w.simulation_a.pk).name
                            == "Campagne d'automne"
                        ),
                        "renamed",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:simulation_action",
        url=lambda w: reverse("phishing:simulation_action", args=[simulation_a(w).pk, "annuler"]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(_status_is("cancelled")),
                analyst=NOT_FOUND,
            )
        ],
    ),
]
