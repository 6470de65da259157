"""Personal links for learners without an account: issuing them.

A link carries 256 random bits; only their SHA-256 digest is stored, so a database dump
gives nobody a way in. A link serves one purpose (one assigned module, one session seat,
one kit distribution) and expires. Opening it (see `learner.py`) binds it to the first
browser; the same link opened elsewhere afterwards is "already used" (decision 0510).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from hygie.awareness.models import LearnerLink, LinkPurpose

# How long an e-mailed link stays valid unless told otherwise.
DEFAULT_VALIDITY = timedelta(days=30)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(
    *,
    assignment=None,
    participant=None,
    distribution=None,
    validity: timedelta = DEFAULT_VALIDITY,
    now=None,
) -> tuple[LearnerLink, str]:
    """A new link for exactly one target; returns the row and the clear token (never stored)."""
    targets = [t for t in (assignment, participant, distribution) if t is not None]
    if len(targets) != 1:
        raise ValueError("a learner link serves exactly one purpose")
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    if assignment is not None:
        purpose, staff = LinkPurpose.ASSIGNMENT, assignment.staff
    elif participant is not None:
        purpose, staff = LinkPurpose.SESSION, participant.staff
    else:
        purpose, staff = LinkPurpose.KIT, None
    link = LearnerLink.objects.create(
        purpose=purpose,
        token_digest=digest(token),
        staff=staff,
        assignment=assignment,
        participant=participant,
        distribution=distribution,
        expires_at=now + validity,
    )
    return link, token


def link_url(token: str) -> str:
    """The absolute address of a link, for e-mails (HYGIE_BASE_URL)."""
    return settings.BASE_URL.rstrip("/") + reverse("awareness:learner_open", args=[token])
