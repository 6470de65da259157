"""Helpers for tests of the e-mailed links: invite someone, ask for a reset, read the link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core import mail
from django.test import Client
from django.urls import reverse

from hygie.accounts import invitations
from hygie.orgs.roles import Role

URL = re.compile(r"https?://\S+")


def links_in(message) -> list[str]:
    """Paths of the links of an e-mail (the host is HYGIE_BASE_URL, not the test server)."""
    return [urlsplit(url).path for url in URL.findall(message.body)]


def one_time_link(message) -> str:
    found = [path for path in links_in(message) if "/connexion/" in path and path.count("/") > 3]
    assert len(found) == 1, f"expected one personal link in the e-mail, found {found}"
    return found[0]


def invite(
    world,
    email: str = "ines.lefebvre@chu-a1.example",
    *,
    role: str = Role.DPO,
    at=None,
    inviter=None,
    first_name: str = "Inès",
    last_name: str = "Lefebvre",
):
    """An invitation sent by the RSSI of GHT A; returns it and the path of its link."""
    outcome = invitations.invite(
        organisation=at or world.est_a1,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        inviter=inviter or world.editor,
    )
    return outcome.invitation, one_time_link(mail.outbox[-1])


def request_reset(email: str) -> str | None:
    """Ask for a new password as an anonymous visitor; the path of the link mailed, if any."""
    before = len(mail.outbox)
    Client().post(reverse("accounts:password_reset"), {"email": email})
    sent = mail.outbox[before:]
    return one_time_link(sent[0]) if sent else None
