"""Permission matrix entries for the e-mailed links: invitation and forgotten password.

They are public on purpose (the person has no session yet). A browser where someone is
logged in gets an explanation and leaves the link unused.
"""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from hygie.accounts.models import Invitation, PasswordReset
from tests.accounts.links import invite, request_reset
from tests.permission_matrix import OK, PERSONAS, REDIRECT, Call, Route, shows, then

LOGGED_IN = [p for p in PERSONAS if p != "anonymous"]


def plant_invitation(w):
    w.invitation, w.invitation_link = invite(w)


def plant_reset(w):
    w.reset_link = request_reset(w.reader.email)


def invitation_unused(w):
    return not Invitation.objects.get(pk=w.invitation.pk).accepted_at


def reset_unused(w):
    return PasswordReset.objects.filter(user=w.reader, used_at__isnull=True).exists()


SESSION_OPEN = OK.but(shows(lambda w: ["Une session est déjà ouverte"]))
NO_LINK = OK.but(shows(lambda w: ["ne fonctionne plus"]))

LINK_ROUTES = [
    Route(
        "accounts:invitation_accept",
        url=lambda w: w.invitation_link,
        public=True,
        why="the invitee has no account to log in with yet",
        calls=[
            Call(
                "get",
                setup=plant_invitation,
                anonymous=REDIRECT.but(then(invitation_unused, "opening the link uses nothing")),
                **dict.fromkeys(
                    LOGGED_IN,
                    SESSION_OPEN.but(then(invitation_unused, "another session leaves it unused")),
                ),
            )
        ],
    ),
    Route(
        "accounts:invitation_set_password",
        url=lambda w: reverse("accounts:invitation_set_password"),
        public=True,
        why="second step of the invitation link; without it, an explanation",
        calls=[Call("get", anonymous=NO_LINK, **dict.fromkeys(LOGGED_IN, SESSION_OPEN))],
    ),
    Route(
        "accounts:password_reset",
        url=lambda w: reverse("accounts:password_reset"),
        public=True,
        why="the way back in for someone who forgot their password",
        calls=[
            Call("get", **dict.fromkeys(PERSONAS, OK)),
            Call(
                "post",
                data=lambda w: {"email": w.reader.email},
                **dict.fromkeys(
                    PERSONAS,
                    REDIRECT.but(then(lambda w: len(mail.outbox) == 1, "one e-mail is sent")),
                ),
            ),
        ],
    ),
    Route(
        "accounts:password_reset_done",
        url=lambda w: reverse("accounts:password_reset_done"),
        public=True,
        why="the same answer for every address",
        calls=[Call("get", **dict.fromkeys(PERSONAS, OK))],
    ),
    Route(
        "accounts:password_reset_confirm",
        url=lambda w: w.reset_link,
        public=True,
        why="the link of the forgotten-password e-mail",
        calls=[
            Call(
                "get",
                setup=plant_reset,
                anonymous=REDIRECT.but(then(reset_unused, "opening the link uses nothing")),
                **dict.fromkeys(
                    LOGGED_IN, SESSION_OPEN.but(then(reset_unused, "the link stays unused"))
                ),
            )
        ],
    ),
    Route(
        "accounts:password_reset_set",
        url=lambda w: reverse("accounts:password_reset_set"),
        public=True,
        why="second step of the forgotten-password link; without it, an explanation",
        calls=[Call("get", anonymous=NO_LINK, **dict.fromkeys(LOGGED_IN, SESSION_OPEN))],
    ),
]
