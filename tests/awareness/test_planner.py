"""The session planner: small groups mixing job families and services (issue 5 acceptance)."""

from __future__ import annotations

import random
from collections import Counter
from types import SimpleNamespace

import pytest

from hygie.awareness import planner
from hygie.orgs.models import JobFamily, Kind, StaffMember
from tests import factories

# 30 people from 4 services, as a hospital's directory would list them.
SERVICES = {
    "Urgences": [JobFamily.CARE] * 6 + [JobFamily.MEDICAL] * 2 + [JobFamily.ADMINISTRATIVE] * 2,
    "Pharmacie": [JobFamily.MEDICO_TECHNICAL] * 5
    + [JobFamily.CARE] * 2
    + [JobFamily.ADMINISTRATIVE],
    "Bureau des entrées": [JobFamily.ADMINISTRATIVE] * 6,
    "Services techniques": [JobFamily.TECHNICAL] * 4 + [JobFamily.IT] * 2,
}


@pytest.fixture
def thirty_staff(world):
    for name, families in SERVICES.items():
        service = factories.org(Kind.SERVICE, world.site_a1, name=name)
        for family in families:
            factories.staff(world.est_a1, service=service, site=world.site_a1, job_family=family)
    return list(StaffMember.objects.filter(service__name__in=SERVICES).select_related("service"))


def test_thirty_staff_from_four_services_make_mixed_groups_within_capacity(thirty_staff):
    assert len(thirty_staff) == 30

    groups = planner.propose_groups(thirty_staff, capacity=12)

    # ceil(30 / 12) = 3 balanced groups, everyone exactly once.
    assert [group.size for group in groups] == [10, 10, 10]
    seated = [member.pk for group in groups for member in group.members]
    assert sorted(seated) == sorted(member.pk for member in thirty_staff)
    for group in groups:
        assert group.size <= 12
        assert len(group.job_families()) >= 3, group.job_families()
        assert len(group.services()) >= 3, group.services()
        assert group.flags == []
    # The six administrative staff of the admissions office do not end up together.
    admissions = [
        sum(1 for m in group.members if m.service.name == "Bureau des entrées") for group in groups
    ]
    assert max(admissions) <= 3


def test_a_single_profile_group_is_flagged_with_its_reason(thirty_staff):
    nurses = [
        m for m in thirty_staff if m.service.name == "Urgences" and m.job_family == "soignant"
    ]
    flags = planner.check_group(nurses, capacity=12)
    assert {flag.code for flag in flags} == {planner.SINGLE_JOB_FAMILY, planner.SINGLE_SERVICE}
    messages = [flag.message for flag in flags]
    assert "tous les participants sont de la famille « Soignant »" in messages[0]
    assert "tous les participants viennent de « Urgences »" in messages[1]

    # Nurses from two services: still one job family, flagged for that reason only.
    pharmacy_nurse = next(
        m for m in thirty_staff if m.service.name == "Pharmacie" and m.job_family == "soignant"
    )
    flags = planner.check_group([*nurses, pharmacy_nurse], capacity=12)
    assert [flag.code for flag in flags] == [planner.SINGLE_JOB_FAMILY]

    # A mixed group passes: one person from each service.
    mixed = [next(m for m in thirty_staff if m.service.name == name) for name in SERVICES]
    assert planner.check_group(mixed, capacity=12) == []


def test_a_group_over_capacity_is_flagged(thirty_staff):
    flags = planner.check_group(thirty_staff[:14], capacity=12)
    over = [flag for flag in flags if flag.code == planner.OVER_CAPACITY]
    assert over and "14 participants pour 12 places" in over[0].message


def test_a_population_of_one_profile_keeps_its_flag(world):
    service = world.service_a1
    nurses = [
        factories.staff(world.est_a1, service=service, job_family=JobFamily.CARE) for _ in range(15)
    ]
    groups = planner.propose_groups(nurses, capacity=12)
    assert [group.size for group in groups] == [8, 7]
    for group in groups:
        assert planner.SINGLE_JOB_FAMILY in {flag.code for flag in group.flags}
        assert planner.SINGLE_SERVICE in {flag.code for flag in group.flags}


def test_the_proposal_is_deterministic(thirty_staff):
    first = planner.propose_groups(thirty_staff, capacity=8)
    shuffled = list(thirty_staff)
    random.Random(7).shuffle(shuffled)
    second = planner.propose_groups(shuffled, capacity=8)
    assert [[m.pk for m in g.members] for g in first] == [[m.pk for m in g.members] for g in second]
    assert [g.size for g in first] == [8, 8, 7, 7]


def _person(pk, family, service):
    return SimpleNamespace(pk=pk, job_family=family, service_id=service, last_name=f"N{pk:03d}")


def test_no_group_is_single_profile_whenever_the_population_allows_it():
    """Random populations: when every group can get two families and two services (each
    group has two seats or more, and enough people outside the largest family and outside
    the largest service to give one to every group), no group is flagged."""
    families = ["soignant", "medical", "administratif", "technique", "medico_technique"]
    checked = 0
    for seed in range(400):
        rng = random.Random(seed)
        n, capacity = rng.randint(2, 50), rng.choice([4, 6, 8, 12])
        nf, ns = rng.randint(1, 5), rng.randint(1, 6)
        people = [_person(i, rng.choice(families[:nf]), rng.randint(1, ns)) for i in range(n)]
        groups = planner.propose_groups(people, capacity)
        sizes = [g.size for g in groups]
        assert sum(sizes) == n and max(sizes) <= capacity and max(sizes) - min(sizes) <= 1
        k = len(groups)
        by_family = Counter(p.job_family for p in people)
        by_service = Counter(p.service_id for p in people)
        feasible = (
            min(sizes) >= 2
            and n - max(by_family.values()) >= k
            and n - max(by_service.values()) >= k
        )
        if feasible:
            checked += 1
            assert all(group.flags == [] for group in groups), (seed, sizes)
    assert checked > 200


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        planner.propose_groups([_person(1, "soignant", 1)], capacity=0)
    assert planner.propose_groups([], capacity=12) == []
