"""The session planner: small mixed groups from a population of staff (issue 5).

Pure functions, no database writes. A member is anything with `pk`, `job_family` and
`service_id` (a `StaffMember`, or a `SessionParticipant` whose service and family were
copied when the seat was taken); `service` is read for messages when it is loaded.

The mix rule (decision 0520): a group whose members all share one job family is flagged,
and so is a group whose members all come from one service: each is its own flag with its
own reason, because a session of nurses from four services and a session of the whole
pharmacy team miss the point in different ways. A group above its capacity is flagged too.

The algorithm is deterministic (same staff, same groups), decision 0521:
1. ceil(n / capacity) groups;
2. members sorted by scarcity (the rarest job family first, then the rarest service), so
   that dealing them round-robin spreads every family and every service across the groups
   and sizes differ by one at most;
3. repair: while a group breaks the mix rule and a swap with another group lowers the
   number of flags of the two, swap. Sizes never change; the loop ends because each swap
   lowers the total. When the population itself is one family (or one service) the flag
   stays: the planner says so rather than pretending.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from hygie.orgs.models import JobFamily

DEFAULT_CAPACITY = 12

SINGLE_JOB_FAMILY = "single_job_family"
SINGLE_SERVICE = "single_service"
OVER_CAPACITY = "over_capacity"
MIX_CODES = (SINGLE_JOB_FAMILY, SINGLE_SERVICE)


@dataclass(frozen=True)
class Flag:
    code: str  # one of SINGLE_JOB_FAMILY, SINGLE_SERVICE, OVER_CAPACITY
    message: str

    def __str__(self):
        return self.message


@dataclass
class Group:
    members: list
    capacity: int = DEFAULT_CAPACITY
    flags: list[Flag] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.members)

    def job_families(self) -> Counter:
        return Counter(member.job_family for member in self.members)

    def services(self) -> Counter:
        return Counter(member.service_id for member in self.members)


def _family_label(value: str) -> str:
    try:
        return str(JobFamily(value).label)
    except ValueError:
        return value or _("non renseignée")


def _service_label(member) -> str:
    if member.service_id is None:
        return _("non renseigné")
    # Only use the related row when it is already loaded (no query from a pure function).
    descriptor = getattr(type(member), "service", None)
    if descriptor is not None and hasattr(descriptor, "is_cached"):
        if descriptor.is_cached(member):
            return str(member.service)
    elif getattr(member, "service", None) is not None:
        return str(member.service)
    return _("n° %(pk)s") % {"pk": member.service_id}


def check_group(members: Sequence, capacity: int | None = None) -> list[Flag]:
    """The mix-rule and capacity flags of one group, each with its reason in French."""
    flags: list[Flag] = []
    if not members:
        return flags
    families = {member.job_family for member in members}
    if len(families) == 1:
        flags.append(
            Flag(
                SINGLE_JOB_FAMILY,
                _(
                    "Groupe d'un seul profil : tous les participants sont de la famille « %(family)s »."
                )
                % {"family": _family_label(next(iter(families)))},
            )
        )
    services = {member.service_id for member in members}
    if len(services) == 1:
        flags.append(
            Flag(
                SINGLE_SERVICE,
                _("Groupe d'un seul service : tous les participants viennent de « %(service)s ».")
                % {"service": _service_label(members[0])},
            )
        )
    if capacity is not None and len(members) > capacity:
        flags.append(
            Flag(
                OVER_CAPACITY,
                _("Groupe au-delà de sa capacité : %(size)s participants pour %(capacity)s places.")
                % {"size": len(members), "capacity": capacity},
            )
        )
    return flags


def _mix_score(members: Sequence) -> int:
    if not members:
        return 0
    return (len({m.job_family for m in members}) == 1) + (len({m.service_id for m in members}) == 1)


def _name_key(member) -> tuple:
    return (
        getattr(member, "last_name", "") or "",
        getattr(member, "first_name", "") or "",
        member.pk or 0,
    )


def group_count(n: int, capacity: int) -> int:
    return math.ceil(n / capacity) if n else 0


def propose_groups(members: Iterable, capacity: int = DEFAULT_CAPACITY) -> list[Group]:
    """Balanced groups within `capacity`, mixing job families and services, with their flags."""
    if capacity < 1:
        raise ValueError("capacity must be at least 1")
    population = list(members)
    if not population:
        return []
    count = group_count(len(population), capacity)
    families = Counter(m.job_family for m in population)
    services = Counter(m.service_id for m in population)
    ordered = sorted(
        population,
        key=lambda m: (
            families[m.job_family],
            m.job_family,
            services[m.service_id],
            m.service_id or 0,
            *_name_key(m),
        ),
    )
    buckets: list[list] = [[] for _ in range(count)]
    for index, member in enumerate(ordered):
        buckets[index % count].append(member)
    _repair(buckets)
    groups = []
    for bucket in buckets:
        bucket.sort(key=_name_key)
        groups.append(Group(bucket, capacity, check_group(bucket, capacity)))
    return groups


def _repair(buckets: list[list]) -> None:
    """Swap members between groups while a swap lowers the mix flags of the two groups."""
    improved = True
    while improved:
        improved = False
        for g, group in enumerate(buckets):
            if not _mix_score(group):
                continue
            if _try_swap(buckets, g):
                improved = True
                break


def _try_swap(buckets: list[list], g: int) -> bool:
    group = buckets[g]
    for h, other in enumerate(buckets):
        if h == g:
            continue
        before = _mix_score(group) + _mix_score(other)
        for i, mine in enumerate(group):
            for j, theirs in enumerate(other):
                if (mine.job_family, mine.service_id) == (theirs.job_family, theirs.service_id):
                    continue
                new_group = [*group[:i], theirs, *group[i + 1 :]]
                new_other = [*other[:j], mine, *other[j + 1 :]]
                if _mix_score(new_group) + _mix_score(new_other) < before:
                    group[i], other[j] = theirs, mine
                    return True
    return False
