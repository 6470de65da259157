"""The visibility choke point: roles apply to their subtree, and only there."""

from hygie.core.visibility import get_visible_or_404
from hygie.orgs.models import Organisation, StaffMember
from hygie.orgs.roles import AGGREGATE, MANAGE, VIEW


def test_role_at_ght_covers_its_establishments_only(world):
    visible = set(StaffMember.objects.visible_to(world.editor, VIEW))
    assert world.staff_a1 in visible
    assert world.staff_b1 not in visible


def test_outsider_sees_nothing_of_another_ght(world):
    assert (
        not Organisation.objects.visible_to(world.outsider, AGGREGATE)
        .filter(pk=world.est_a1.pk)
        .exists()
    )
    assert world.staff_a1 not in StaffMember.objects.visible_to(world.outsider, VIEW)


def test_regional_analyst_sees_tree_but_no_nominative_data(world):
    orgs = Organisation.objects.visible_to(world.analyst, AGGREGATE)
    assert {world.ght_a, world.est_a1, world.clinic} <= set(orgs)
    assert world.ght_b not in orgs
    assert not StaffMember.objects.visible_to(world.analyst, VIEW).exists()


def test_reader_cannot_manage(world):
    assert world.est_a1 in Organisation.objects.visible_to(world.reader, VIEW)
    assert not Organisation.objects.visible_to(world.reader, MANAGE).exists()


def test_user_without_role_sees_nothing(world):
    assert not Organisation.objects.visible_to(world.nobody, AGGREGATE).exists()


def test_get_visible_or_404_hides_other_tenants(world):
    import pytest
    from django.http import Http404

    with pytest.raises(Http404):
        get_visible_or_404(StaffMember.objects, world.editor, VIEW, pk=world.staff_b1.pk)
    assert (
        get_visible_or_404(StaffMember.objects, world.editor, VIEW, pk=world.staff_a1.pk)
        == world.staff_a1
    )
