"""Organisation tree: structure rules, FINESS numbers, creation and edition through the UI."""

import pytest
from django.core.exceptions import ValidationError

from hygie.core.models import AuditEvent
from hygie.orgs.finess import validate_finess
from hygie.orgs.models import Kind, Organisation
from tests import factories


@pytest.mark.parametrize(
    "number", ["750712184", "690781810", "330781196", "75 071 2184", "2A0000012"]
)
def test_valid_finess_numbers_are_accepted(number):
    validate_finess(number)


@pytest.mark.parametrize(
    ("number", "message"),
    [("750712185", "clé de contrôle"), ("75071218", "9 caractères"), ("ABCDEFGHI", "9 caractères")],
)
def test_invalid_finess_numbers_are_explained(number, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_finess(number)
    assert message in excinfo.value.messages[0]


def test_wrong_key_message_gives_the_expected_number():
    with pytest.raises(ValidationError) as excinfo:
        validate_finess("750712180")
    assert "750712184" in excinfo.value.messages[0]


def test_migrate_creates_the_national_node_and_the_18_regions(db):
    assert Organisation.objects.filter(kind=Kind.NATIONAL).count() == 1
    assert Organisation.objects.filter(kind=Kind.REGION).count() == 18


def test_establishment_outside_any_ght_hangs_from_its_region(world):
    world.clinic.full_clean()
    assert world.clinic.parent == world.region_a
    assert world.clinic in Organisation.objects.subtree_of(world.region_a)


def test_a_site_cannot_hang_from_a_ght(world):
    site = Organisation(kind=Kind.SITE, parent=world.ght_a, name="Site")
    with pytest.raises(ValidationError) as excinfo:
        site.full_clean()
    assert "parent" in excinfo.value.message_dict


def test_moving_a_node_moves_its_subtree(world):
    world.est_a1.parent = world.ght_b
    world.est_a1.save()
    world.service_a1.refresh_from_db()
    assert world.service_a1.path.startswith(world.ght_b.path)
    assert world.service_a1 in Organisation.objects.subtree_of(world.ght_b)


def test_rssi_adds_an_establishment_with_a_checked_finess(world, client_for):
    client = client_for(world.editor)
    url = f"/organisations/{world.ght_a.pk}/ajouter/"
    response = client.get(url)
    csrf = response.cookies["csrftoken"].value
    bad = client.post(
        url,
        {
            "kind": "establishment",
            "name": "CH Nouveau",
            "finess_ej": "750712185",
            "category": "ch",
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert bad.status_code == 200
    assert "clé de contrôle" in bad.content.decode()
    assert not Organisation.objects.filter(name="CH Nouveau").exists()
    good_number = factories.finess("62")
    good = client.post(
        url,
        {
            "kind": "establishment",
            "name": "CH Nouveau",
            "finess_ej": good_number,
            "category": "ch",
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert good.status_code == 302
    created = Organisation.objects.get(name="CH Nouveau")
    assert created.parent == world.ght_a and created.finess_ej == good_number
    assert AuditEvent.objects.filter(
        action="orgs.organisation_created", target_id=str(created.pk)
    ).exists()


def test_duplicate_finess_is_refused_with_a_message(world, client_for):
    client = client_for(world.editor)
    url = f"/organisations/{world.ght_a.pk}/ajouter/"
    csrf = client.get(url).cookies["csrftoken"].value
    response = client.post(
        url,
        {
            "kind": "establishment",
            "name": "Doublon",
            "finess_ej": world.est_a2.finess_ej,
            "category": "ch",
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert response.status_code == 200
    assert not Organisation.objects.filter(name="Doublon").exists()


def test_outsider_and_reader_cannot_add_under_ght_a(world, client_for):
    url = f"/organisations/{world.ght_a.pk}/ajouter/"
    assert client_for(world.outsider).get(url).status_code == 404
    # A reader sees GHT A but holds no management role there: told so, not led to a 404.
    assert client_for(world.reader).get(url).status_code == 403


def test_rssi_renames_a_service(world, client_for):
    client = client_for(world.editor)
    url = f"/organisations/{world.service_a1.pk}/modifier/"
    csrf = client.get(url).cookies["csrftoken"].value
    response = client.post(url, {"name": "Urgences adultes", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    world.service_a1.refresh_from_db()
    assert world.service_a1.name == "Urgences adultes"
    assert world.service_a1.kind == Kind.SERVICE


def test_opening_an_establishment_makes_it_the_current_organisation(world, client_for):
    client = client_for(world.editor)
    client.get(f"/organisations/{world.est_a1.pk}/")
    home = client.get("/").content.decode()
    # The navigation now points at the establishment's staff list.
    assert f"/organisations/{world.est_a1.pk}/personnels/" in home
    # A service is not a level of the switcher: opening it leaves the current organisation alone.
    client.get(f"/organisations/{world.service_a1.pk}/")
    assert f"/organisations/{world.est_a1.pk}/personnels/" in client.get("/").content.decode()
