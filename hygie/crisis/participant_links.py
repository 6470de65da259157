"""Personal links for exercise participants without an account (decision 0612).

A link carries 256 random bits; only the SHA-256 digest is stored on the participant.
Opening it sets a signed cookie limited to the exercise's pages (no session row: 200 people
polling the live state write nothing per request) and takes the token out of the address.
A link works until the exercise is closed, and for LINK_VALIDITY after it was issued at most;
issuing a new one revokes the old link and every browser that entered with it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core import signing
from django.utils import timezone

from hygie.crisis.models import ExerciseStatus, Participant

LINK_VALIDITY = timedelta(days=60)
COOKIE_SALT = "hygie.crisis.participant"
COOKIE_MAX_AGE = 24 * 3600  # a browser re-opens the link the next day


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(participant: Participant, now=None) -> str:
    """A new personal link token for `participant` (the previous one stops working)."""
    token = secrets.token_urlsafe(32)
    participant.token_digest = digest(token)
    participant.invited_at = now or timezone.now()
    participant.save(update_fields=["token_digest", "invited_at"])
    return token


def usable(participant: Participant | None, now=None) -> bool:
    if participant is None or not participant.token_digest or participant.invited_at is None:
        return False
    if participant.exercise.status == ExerciseStatus.CLOSED:
        return False
    return (now or timezone.now()) < participant.invited_at + LINK_VALIDITY


def participant_for_token(token: str) -> Participant | None:
    if not token or len(token) > 100:
        return None
    participant = (
        Participant.objects.select_related("exercise").filter(token_digest=digest(token)).first()
    )
    return participant if usable(participant) else None


def cookie_name(exercise_id: int) -> str:
    return f"hygie_crisis_{exercise_id}"


def cookie_path(exercise_id: int) -> str:
    return f"/crise/exercices/{exercise_id}/"


def cookie_value(participant: Participant) -> str:
    return signing.dumps([participant.pk, participant.token_digest[:16]], salt=COOKIE_SALT)


def participant_from_cookie(request, exercise_id: int) -> Participant | None:
    raw = request.COOKIES.get(cookie_name(exercise_id))
    if not raw:
        return None
    try:
        pk, digest_start = signing.loads(raw, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    participant = (
        Participant.objects.select_related("exercise")
        .filter(pk=pk, exercise_id=exercise_id)
        .first()
    )
    if participant is None or participant.token_digest[:16] != digest_start:
        return None  # a newer link was issued: this browser's entry is revoked
    return participant if usable(participant) else None
