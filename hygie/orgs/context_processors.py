from hygie.core.visibility import scopes_for
from hygie.orgs.roles import MANAGE, VIEW
from hygie.orgs.services import can, current_organisation, switcher_organisations


def organisation_context(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    user = request.user
    current = current_organisation(request)
    return {
        "current_org": current,
        "switchable_orgs": switcher_organisations(user, current).only(
            "id", "name", "short_name", "kind", "depth", "path"
        ),
        # The navigation offers only pages the user may open (analysts: no nominative lists).
        "nav_nominative": current is not None and can(user, VIEW, current),
        "nav_journal": bool(scopes_for(user, MANAGE)),
    }
