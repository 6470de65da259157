"""Permission matrix entries for inviting people from a node's roles page."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from hygie.accounts.models import Invitation
from hygie.orgs.roles import Role
from tests.accounts.links import invite
from tests.permission_matrix import FORBIDDEN, LOGIN, NOT_FOUND, OK, REDIRECT, Call, Route, then

NEW_PERSON = {
    "email": "Sophie.Marchand@chu-a1.example",
    "first_name": "Sophie",
    "last_name": "Marchand",
    "role": Role.QUALITY,
}


def invited(w):
    return Invitation.objects.filter(user__email="sophie.marchand@chu-a1.example").exists()


NOTHING_SENT = then(
    lambda w: not invited(w) and not mail.outbox, "a refused invitation creates and sends nothing"
)


def plant(w):
    w.invitation, _link = invite(w)
    mail.outbox.clear()


def invitation_url(name, org_attr="ght_a"):
    return lambda w: reverse(name, args=[getattr(w, org_attr).pk, w.invitation.pk])


def resent(w):
    return Invitation.objects.get(pk=w.invitation.pk).send_count == 2 and len(mail.outbox) == 1


def untouched(w):
    invitation = Invitation.objects.filter(pk=w.invitation.pk).first()
    return (
        invitation is not None
        and invitation.send_count == 1
        and invitation.revoked_at is None
        and not mail.outbox
    )


UNTOUCHED = then(untouched, "a refused request must leave the invitation as it was")


def revoked(w):
    return not Invitation.objects.pending().filter(pk=w.invitation.pk).exists()


INVITATION_ROUTES = [
    Route(
        "orgs:invite",
        url=lambda w: reverse("orgs:invite", args=[w.ght_a.pk]),
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
                data=NEW_PERSON,
                anonymous=LOGIN.but(NOTHING_SENT),
                outsider=NOT_FOUND.but(NOTHING_SENT),
                reader=FORBIDDEN.but(NOTHING_SENT),
                editor=REDIRECT.but(
                    then(lambda w: invited(w) and len(mail.outbox) == 1, "invitation not sent")
                ),
                analyst=NOT_FOUND.but(NOTHING_SENT),
            ),
        ],
    ),
    *[
        Route(
            name,
            url=invitation_url(name),
            calls=[
                Call(
                    "post",
                    setup=plant,
                    anonymous=LOGIN.but(UNTOUCHED),
                    outsider=NOT_FOUND.but(UNTOUCHED),
                    reader=FORBIDDEN.but(UNTOUCHED),
                    editor=REDIRECT.but(then(check, message)),
                    analyst=NOT_FOUND.but(UNTOUCHED),
                ),
                Call(
                    "post",
                    setup=plant,
                    url=invitation_url(name, "ght_b"),
                    note="GHT B's page with GHT A's invitation: the outsider may not mix ids",
                    anonymous=LOGIN,
                    outsider=NOT_FOUND.but(UNTOUCHED),
                    reader=NOT_FOUND,
                    editor=NOT_FOUND.but(UNTOUCHED),
                    analyst=NOT_FOUND,
                ),
            ],
        )
        for name, check, message in (
            ("orgs:invitation_resend", resent, "a new link should be sent"),
            ("orgs:invitation_revoke", revoked, "the invitation should be revoked"),
        )
    ],
]
