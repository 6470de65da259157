"""The directory pages as an RSSI, a reader, an analyst and a platform administrator use them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from hygie.core.models import AuditEvent
from hygie.directory.models import Actor
from hygie.orgs.roles import Role
from tests import factories
from tests.clients import browser
from tests.directory.helpers import actor, months_ago

LIST = "/acteurs/"


def names(response) -> list[str]:
    body = response.content.decode()
    rows = re.findall(r'<tr data-testid="actor-row">\s*<td><a href="[^"]+">([^<]+)</a>', body)
    return [row.replace("&#x27;", "'") for row in rows]


@pytest.fixture
def entries(world):
    Actor.objects.all().delete()  # the shipped entries would crowd the assertions
    return {
        "audit_north": actor(
            "Audit Nord",
            regions=[world.region_a],
            competences=["audit"],
            qualifications=["PASSI"],
            description="Tests d'intrusion et audits Active Directory",
            last_verified_on=months_ago(2),
        ),
        "ir_normandy": actor(
            "Réponse Normandie",
            regions=[world.region_b],
            competences=["reponse_incident"],
            qualifications=["PRIS"],
            last_verified_on=months_ago(13),
        ),
        "national": actor("Guide national", kind="guide", competences=["referentiel"]),
        "own_a": actor("Prestataire sous contrat A", kind="expert", owner=world.ght_a),
        "own_b": actor("Prestataire sous contrat B", kind="expert", owner=world.ght_b),
    }


def test_search_matches_name_and_description(world, entries, client_for):
    client = client_for(world.editor)
    assert names(client.get(LIST, {"q": "normandie"})) == ["Réponse Normandie"]
    assert names(client.get(LIST, {"q": "active directory"})) == ["Audit Nord"]


def test_region_filter_shows_regional_entries_first_then_national_ones(world, entries, client_for):
    page = client_for(world.editor).get(LIST, {"region": world.region_a.pk})
    # Regional first, then national (no region); Normandy's provider is left out.
    assert names(page) == ["Audit Nord", "Guide national", "Prestataire sous contrat A"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "guide"}, ["Guide national"]),
        ({"competence": "reponse_incident"}, ["Réponse Normandie"]),
        ({"qualification": "PASSI"}, ["Audit Nord"]),
        ({"origin": "own"}, ["Prestataire sous contrat A"]),
        (
            {"stale": "on"},
            ["Guide national", "Prestataire sous contrat A", "Réponse Normandie"],
        ),
    ],
)
def test_filters(world, entries, client_for, params, expected):
    assert names(client_for(world.editor).get(LIST, params)) == expected


def test_staleness_after_twelve_months_and_verified_today(world, entries):
    client = browser(world.editor)
    stale = entries["ir_normandy"]
    assert stale.is_stale and not entries["audit_north"].is_stale and entries["national"].is_stale
    own = entries["own_a"]
    page = client.get(reverse("directory:detail", args=[own.pk]))
    assert "jamais été confirmées" in page.content.decode()
    response = client.post(reverse("directory:verify", args=[own.pk]))
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.last_verified_on == timezone.localdate()
    page = client.get(reverse("directory:detail", args=[own.pk]))
    assert 'data-testid="stale-badge"' not in page.content.decode()
    assert AuditEvent.objects.filter(action="directory.actor_verified").exists()


def test_list_is_paginated(world, client_for):
    Actor.objects.all().delete()
    for n in range(30):
        actor(f"Expert {n:02d}", kind="expert")
    client = client_for(world.reader)
    first, second = client.get(LIST), client.get(LIST, {"page": 2})
    assert len(names(first)) == 25 and len(names(second)) == 5
    assert "30 entrées" in first.content.decode()


def test_own_entries_stay_inside_their_ght(world, entries, client_for):
    own_a = entries["own_a"]
    outsider = client_for(world.outsider)
    assert "Prestataire sous contrat A" not in outsider.get(LIST).content.decode()
    assert outsider.get(reverse("directory:detail", args=[own_a.pk])).status_code == 404
    assert outsider.get(reverse("directory:edit", args=[own_a.pk])).status_code == 404
    # People of the GHT's establishments read it (their GHT's contract), without changing it.
    rssi_a1 = factories.user("rssi-a1", role=Role.RSSI, at=world.est_a1)
    client = client_for(rssi_a1)
    assert "Prestataire sous contrat A" in client.get(LIST).content.decode()
    assert client.get(reverse("directory:detail", args=[own_a.pk])).status_code == 200
    assert client.get(reverse("directory:edit", args=[own_a.pk])).status_code == 403


def test_analyst_reads_reference_entries_only(world, entries, client_for):
    client = client_for(world.analyst)
    assert names(client.get(LIST)) == ["Audit Nord", "Guide national", "Réponse Normandie"]
    detail = client.get(reverse("directory:detail", args=[entries["national"].pk]))
    assert detail.status_code == 200 and "Vérifié aujourd" not in detail.content.decode()


def test_rssi_creates_an_own_entry_for_the_ght(world, client_for):
    client = browser(world.editor)
    response = client.post(
        reverse("directory:create"),
        {
            "owner": world.ght_a.pk,
            "name": "Cabinet Audit Local",
            "kind": "prestataire_qualifie",
            "regions": [world.region_a.pk],
            "competences": ["audit", "securite_ad"],
            "qualifications": ["PASSI"],
            "website": "https://audit.example",
        },
    )
    assert response.status_code == 302
    entry = Actor.objects.get(name="Cabinet Audit Local")
    assert entry.owner == world.ght_a and entry.competences == ["audit", "securite_ad"]
    assert AuditEvent.objects.filter(action="directory.actor_created").exists()
    # Without an owner, an RSSI's entry would be a reference entry: refused.
    response = client.post(reverse("directory:create"), {"name": "Sans annuaire", "kind": "expert"})
    assert response.status_code == 200
    assert not Actor.objects.filter(name="Sans annuaire").exists()


def test_platform_admin_maintains_reference_entries(world, entries):
    admin = factories.user("admin", is_superuser=True, is_staff=True)
    client = browser(admin)
    response = client.post(
        reverse("directory:create"),
        {"owner": "", "name": "CSIRT régional test", "kind": "csirt_regional"},
    )
    assert response.status_code == 302
    assert Actor.objects.get(name="CSIRT régional test").owner is None
    national = entries["national"]
    response = client.post(
        reverse("directory:edit", args=[national.pk]),
        {"owner": "", "name": "Guide national révisé", "kind": "guide"},
    )
    assert response.status_code == 302
    national.refresh_from_db()
    assert national.name == "Guide national révisé" and national.owner is None


def test_rssi_cannot_change_a_reference_entry(world, entries, client_for):
    national = entries["national"]
    response = browser(world.editor).post(
        reverse("directory:edit", args=[national.pk]),
        {"owner": world.ght_a.pk, "name": "Détourné", "kind": "guide"},
    )
    assert response.status_code == 403
    assert "référentiel partagé" in response.content.decode()
    national.refresh_from_db()
    assert national.name == "Guide national" and national.owner is None


def test_delete_needs_manage_and_is_journaled(world, entries):
    quality = factories.user("qualite-a", role=Role.QUALITY, at=world.ght_a)
    own = entries["own_a"]
    # Quality may change entries but not delete them.
    assert browser(quality).post(reverse("directory:delete", args=[own.pk])).status_code == 403
    assert browser(world.editor).post(reverse("directory:delete", args=[own.pk])).status_code == 302
    assert not Actor.objects.filter(pk=own.pk).exists()
    event = AuditEvent.objects.get(action="directory.actor_deleted")
    assert event.details["name"] == "Prestataire sous contrat A"


@pytest.mark.parametrize(
    ("today", "cutoff"),
    [("2026-06-15", "2025-06-15"), ("2028-02-29", "2027-02-28"), ("2026-01-31", "2025-01-31")],
)
def test_stale_cutoff_is_the_same_day_a_year_earlier(today, cutoff):
    import datetime as dt

    from hygie.directory.models import stale_cutoff

    assert stale_cutoff(dt.date.fromisoformat(today)) == dt.date.fromisoformat(cutoff)
