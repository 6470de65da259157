"""The one visibility choke point: `Model.objects.visible_to(user, action)`.

Every organisation-scoped model uses a queryset derived from VisibleQuerySet and
names the lookup to its Organisation (`org_lookup`). A user sees an object when
one of their memberships grants `action` at a node whose subtree contains the
object's organisation. Views fetch single objects through `get_visible_or_404`,
so another organisation's object answers 404, never 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

ALL = object()


def scopes_for(user, action: str):
    """Tree paths under which `user` may perform `action`, or ALL for platform administrators."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    restrict = getattr(user, "_hygie_token_restrict", None)
    if user.is_superuser:
        return [restrict] if restrict else ALL
    cache = user.__dict__.setdefault("_hygie_scopes", {})
    if action not in cache:
        from hygie.orgs.roles import actions_for

        if "_hygie_roles" not in user.__dict__:
            # One query per request for all actions (pages ask for several).
            user.__dict__["_hygie_roles"] = list(
                user.memberships.values_list("role", "organisation__path")
            )
        paths = {
            path for role, path in user.__dict__["_hygie_roles"] if action in actions_for(role)
        }
        # Drop paths already covered by an ancestor path.
        if restrict:
            # An API token limited to one organisation narrows every scope to that subtree.
            paths = {
                restrict if restrict.startswith(path) else path
                for path in paths
                if restrict.startswith(path) or path.startswith(restrict)
            }
        cache[action] = sorted(
            path
            for path in paths
            if not any(other != path and path.startswith(other) for other in paths)
        )
    return cache[action]


def clear_scope_cache(user) -> None:
    user.__dict__.pop("_hygie_scopes", None)
    user.__dict__.pop("_hygie_roles", None)


class VisibleQuerySet(models.QuerySet):
    org_lookup: str = "organisation"
    default_action = "view"

    def visible_to(self, user, action: str | None = None):
        scopes = scopes_for(user, action or self.default_action)
        if scopes is ALL:
            return self
        if not scopes:
            return self.none()
        field = f"{self.org_lookup}__path__startswith" if self.org_lookup else "path__startswith"
        condition = Q()
        for path in scopes:
            condition |= Q(**{field: path})
        return self.filter(condition)


def get_visible_or_404(queryset, user, action: str | None = None, **lookup):
    try:
        return queryset.visible_to(user, action).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_for_action_or_refuse(queryset, user, action: str, *, seen_with: str, **lookup):
    """The object if `user` may perform `action` on it.

    Outside what the user can see (`seen_with`), 404 as for any other tenant's object. Visible
    but without the action (a reader on an edit page), 403, so the person learns that a role is
    missing instead of wondering whether the page exists (decision 0002).
    """
    try:
        return get_visible_or_404(queryset, user, action, **lookup)
    except Http404:
        get_visible_or_404(queryset, user, seen_with, **lookup)
        raise PermissionDenied from None
