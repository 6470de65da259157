from hygie.orgs.services import current_organisation, switchable_organisations


def organisation_context(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "current_org": current_organisation(request),
        "switchable_orgs": switchable_organisations(request.user).only(
            "id", "name", "short_name", "kind", "depth", "path"
        ),
    }
