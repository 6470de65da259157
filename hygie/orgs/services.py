"""Organisation tree, current organisation and home figures, as plain functions."""

from __future__ import annotations

from django.db.models import Count, Q

from hygie.core.visibility import ALL, scopes_for
from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember
from hygie.orgs.roles import AGGREGATE, VIEW

SESSION_CURRENT_ORG = "hygie_current_org"
SWITCHER_KINDS = (Kind.NATIONAL, Kind.REGION, Kind.GHT, Kind.ESTABLISHMENT)


def switchable_organisations(user):
    """Nodes a user can make current: their membership nodes and everything under them, down to establishments."""
    return Organisation.objects.visible_to(user, AGGREGATE).filter(kind__in=SWITCHER_KINDS)


SWITCHER_CHILDREN_LIMIT = 200


def switcher_organisations(user, current: Organisation | None):
    """The short list the header's organisation menu offers: where the user holds roles, the
    current node's visible ancestors, the current node and its children. A national user is not
    handed every establishment of the country in each page; deeper nodes are reached by
    drilling down from a dashboard."""
    scopes = scopes_for(user, AGGREGATE)
    if not scopes:
        return Organisation.objects.none()
    roots = (
        list(Organisation.objects.filter(parent__isnull=True).values_list("path", flat=True))
        if scopes is ALL
        else list(scopes)
    )
    paths = set(roots)
    ids = set()
    if current is not None:
        ids.add(current.pk)
        ids.update(current.ancestor_ids())
        ids.update(
            Organisation.objects.filter(parent=current, kind__in=SWITCHER_KINDS)
            .order_by("name")
            .values_list("pk", flat=True)[:SWITCHER_CHILDREN_LIMIT]
        )
    return (
        Organisation.objects.visible_to(user, AGGREGATE)
        .filter(kind__in=SWITCHER_KINDS)
        .filter(Q(pk__in=ids) | Q(path__in=paths))
        .order_by("path")
    )


def default_organisation(user) -> Organisation | None:
    scopes = scopes_for(user, AGGREGATE)
    if scopes is ALL:
        return Organisation.objects.filter(parent__isnull=True).order_by("pk").first()
    if not scopes:
        return None
    return Organisation.objects.filter(path=scopes[0]).first()


def set_current_organisation(request, node: Organisation) -> None:
    """Make `node` (already checked visible by the caller) the current organisation."""
    request.session[SESSION_CURRENT_ORG] = node.pk
    request._hygie_current_org = node


def current_organisation(request) -> Organisation | None:
    # Asked by the view and by the navigation of the same page: looked up once per request.
    if not hasattr(request, "_hygie_current_org"):
        request._hygie_current_org = _current_organisation(request)
    return request._hygie_current_org


def _current_organisation(request) -> Organisation | None:
    user = request.user
    if not user.is_authenticated:
        return None
    org_id = request.session.get(SESSION_CURRENT_ORG)
    if org_id is not None:
        org = switchable_organisations(user).filter(pk=org_id).first()
        if org is not None:
            return org
    org = default_organisation(user)
    if org is not None:
        request.session[SESSION_CURRENT_ORG] = org.pk
    return org


def can(user, action: str, organisation: Organisation) -> bool:
    scopes = scopes_for(user, action)
    if scopes is ALL:
        return True
    return any(organisation.path.startswith(path) for path in scopes)


def establishments_under(node: Organisation):
    return Organisation.objects.subtree_of(node).filter(kind=Kind.ESTABLISHMENT)


def home_figures(user, node: Organisation) -> dict:
    """Consolidated, non-nominative figures for a node: safe for every role."""
    establishments = establishments_under(node)
    staff = StaffMember.objects.filter(establishment__path__startswith=node.path, active=True)
    by_family = dict(
        staff.values_list("job_family").annotate(n=Count("id")).values_list("job_family", "n")
    )
    staff_per_establishment = list(staff.values_list("establishment__path").annotate(n=Count("id")))
    children = list(Organisation.objects.filter(parent=node).order_by("kind", "name"))
    for child in children:
        child.staff_count = sum(
            n for path, n in staff_per_establishment if path.startswith(child.path)
        )
    return {
        "establishment_count": establishments.count(),
        "ght_count": Organisation.objects.subtree_of(node).filter(kind=Kind.GHT).count(),
        "staff_count": sum(by_family.values()),
        "staff_by_family": {JobFamily(family).label: n for family, n in sorted(by_family.items())},
        "children": children,
        "can_view_nominative": can(user, VIEW, node),
    }


def ensure_reference_tree() -> Organisation:
    """The national node and the 18 regions exist on every installation (idempotent)."""
    from hygie.orgs.data.regions import REGIONS

    national = Organisation.objects.filter(kind=Kind.NATIONAL).order_by("pk").first()
    if national is None:
        national = Organisation.objects.create(kind=Kind.NATIONAL, name="France", code="FR")
    existing = set(Organisation.objects.filter(kind=Kind.REGION).values_list("code", flat=True))
    for code, name in REGIONS:
        if code not in existing:
            Organisation.objects.create(kind=Kind.REGION, parent=national, name=name, code=code)
    return national


def child_kinds(node: Organisation) -> list[str]:
    """Kinds that may be created under `node`."""
    from hygie.orgs.models import ALLOWED_PARENTS

    return [kind for kind, parents in ALLOWED_PARENTS.items() if node.kind in parents]
