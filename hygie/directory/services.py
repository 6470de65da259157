"""Directory domain logic. Other apps reach actors only through these functions."""

from __future__ import annotations

from django.db.models import Q

from hygie.core.visibility import ALL, scopes_for
from hygie.directory.models import Actor


def actors_visible_to(user, action: str = "view"):
    """Reference entries for every signed-in user, plus own entries of organisations in reach.

    Reference entries (no owner) are public knowledge (CERT Santé, qualified providers...): any
    signed-in person may read them; only platform administrators change them. An organisation's
    own entries follow the usual visibility of that organisation's subtree.
    """
    if user is None or not user.is_authenticated:
        return Actor.objects.none()
    own = Actor.objects.filter(owner__isnull=False).visible_to(user, action)
    if action == "view":
        return Actor.objects.filter(Q(owner__isnull=True) | Q(pk__in=own.values("pk")))
    if scopes_for(user, action) is ALL:
        return Actor.objects.all()
    return own
