"""Directory domain logic. Other apps reach actors only through these functions."""

from __future__ import annotations

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone

from hygie.core.visibility import ALL, scopes_for
from hygie.directory.models import Actor
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW


def _ancestor_paths(path: str) -> list[str]:
    """ "/1/4/9/" -> ["/1/", "/1/4/", "/1/4/9/"]."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[: n + 1]) + "/" for n in range(len(parts))]


def actors_visible_to(user, action: str = VIEW):
    """Reference entries for every signed-in user, plus own entries of organisations in reach.

    Reference entries (no owner) are public knowledge (CERT Santé, qualified providers...): any
    signed-in person may read them, aggregate-only analysts included; only platform
    administrators change them. An organisation's own entry (its contracted provider) is read
    by everyone with "view" in that organisation's subtree, down to the establishments of a GHT
    (decision 0322); changing it needs `action` on the owner itself or one of its ancestors.
    """
    if user is None or not user.is_authenticated:
        return Actor.objects.none()
    scopes = scopes_for(user, action)
    if scopes is ALL:
        return Actor.objects.all()
    if action != VIEW:
        return Actor.objects.filter(owner__isnull=False).visible_to(user, action)
    condition = Q(owner__isnull=True)
    owner_paths = {ancestor for path in scopes for ancestor in _ancestor_paths(path)}
    for path in scopes:
        condition |= Q(owner__path__startswith=path)
    if owner_paths:
        condition |= Q(owner__path__in=sorted(owner_paths))
    return Actor.objects.filter(condition)


def can_change(user, actor: Actor, action: str = CHANGE) -> bool:
    return actors_visible_to(user, action).filter(pk=actor.pk).exists()


def owner_choices(user, action: str = CHANGE):
    """Organisations under which `user` may keep their own entries (region, GHT, establishment)."""
    return (
        Organisation.objects.visible_to(user, action)
        .filter(kind__in=(Kind.REGION, Kind.GHT, Kind.ESTABLISHMENT))
        .order_by("path")
    )


def can_write_reference(user) -> bool:
    return scopes_for(user, MANAGE) is ALL


def region_of(organisation: Organisation | None) -> Organisation | None:
    """The region node above (or at) `organisation`; None at national level."""
    if organisation is None:
        return None
    if organisation.kind == Kind.REGION:
        return organisation
    return Organisation.objects.filter(
        kind=Kind.REGION, path__in=_ancestor_paths(organisation.path)
    ).first()


def has_code(field: str, code: str) -> Q:
    """Entries whose JSON list `field` holds `code`.

    Codes are plain ASCII, stored as JSON strings; matching the quoted code in the JSON text
    works the same on SQLite and PostgreSQL (SQLite has no JSON containment lookup).
    """
    return Q(**{f"{field}__icontains": f'"{code}"'})


def filter_actors(
    actors,
    *,
    q: str = "",
    region: Organisation | None = None,
    kind: str = "",
    competence: str = "",
    qualification: str = "",
    stale_only: bool = False,
    origin: str = "",
):
    """Narrow a queryset of actors; with a region, regional entries come before national ones."""
    if q:
        actors = actors.filter(Q(name__icontains=q) | Q(description__icontains=q))
    if kind:
        actors = actors.filter(kind=kind)
    if competence:
        actors = actors.filter(has_code("competences", competence))
    if qualification:
        actors = actors.filter(has_code("qualifications", qualification))
    if stale_only:
        actors = actors.stale()
    if origin == "reference":
        actors = actors.filter(owner__isnull=True)
    elif origin == "own":
        actors = actors.filter(owner__isnull=False)
    if region is not None:
        through = Actor.regions.through
        covers = Exists(through.objects.filter(actor_id=OuterRef("pk"), organisation_id=region.pk))
        regional = Exists(through.objects.filter(actor_id=OuterRef("pk")))
        # Entries serving the region, then national ones (no region: they serve everywhere).
        actors = (
            actors.filter(covers | ~regional)
            .annotate(
                coverage_rank=Case(
                    When(covers, then=Value(0)), default=Value(1), output_field=IntegerField()
                )
            )
            .order_by("coverage_rank", "name", "pk")
        )
    return actors


def search_actors(user, q: str = "", region=None, kind: str = "", competence: str = ""):
    """Directory entries `user` may read that match, for suggestions ("acteurs suggérés").

    `region` is an Organisation at any level (its region is used, so an establishment gets the
    actors of its region) or an INSEE region code; entries covering that region come first,
    then national ones; entries of other regions are left out.
    """
    if isinstance(region, str):
        region = Organisation.objects.filter(kind=Kind.REGION, code=region).first()
    elif region is not None:
        region = region_of(region)
    actors = filter_actors(
        actors_visible_to(user, VIEW), q=q, region=region, kind=kind, competence=competence
    )
    return actors.select_related("owner").prefetch_related("regions")


def mark_verified(actor: Actor, *, request=None) -> Actor:
    from hygie.core.audit import record_event

    actor.last_verified_on = timezone.localdate()
    actor.save(update_fields=["last_verified_on", "updated_at"])
    record_event(
        "directory.actor_verified",
        request=request,
        target=actor,
        organisation=actor.owner,
        details={"verified_on": actor.last_verified_on.isoformat()},
    )
    return actor
