"""Reference entries shipped with Hygie: created by migrate, once, and shown as "à vérifier"."""

from __future__ import annotations

from django.urls import reverse

from hygie.directory.models import Actor, SeededEntry
from hygie.directory.seed import SEED, ensure_reference_entries


def test_migrate_ships_the_national_reference_entries(db):
    names = set(Actor.objects.filter(owner__isnull=True).values_list("name", flat=True))
    for expected in ("CERT Santé (ANS)", "CERT-FR (ANSSI)", "Cybermalveillance.gouv.fr", "CNIL"):
        assert expected in names
    guide = Actor.objects.get(seed_key="guide-hygiene-anssi")
    assert guide.kind == "guide" and guide.website.startswith("https://")
    grades = Actor.objects.get(seed_key="grades-11")
    assert [r.code for r in grades.regions.all()] == ["11"]
    # Nobody on this installation has checked them yet.
    assert not Actor.objects.filter(seed_key__gt="", last_verified_on__isnull=False).exists()


def test_seeding_again_changes_nothing_and_a_deleted_entry_stays_deleted(db):
    count = Actor.objects.count()
    assert ensure_reference_entries() == 0
    assert Actor.objects.count() == count == len(SEED)
    Actor.objects.get(seed_key="cnil").delete()
    assert ensure_reference_entries() == 0
    assert not Actor.objects.filter(seed_key="cnil").exists()
    # A new installation (or a key never seeded) gets it.
    SeededEntry.objects.filter(key="cnil").delete()
    assert ensure_reference_entries() == 1


def test_shipped_entries_show_as_to_be_verified(world, client_for):
    page = client_for(world.reader).get(reverse("directory:list"), {"q": "CNIL"})
    assert "CNIL" in page.content.decode()
    assert 'data-testid="stale-badge"' in page.content.decode()
