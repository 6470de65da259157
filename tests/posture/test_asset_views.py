"""The inventory and end-of-life pages as a user sees them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.posture import inventory
from hygie.posture.models import Asset, EolOrigin, EolRelease
from tests import factories
from tests.clients import browser
from tests.posture.test_inventory import computer

pytestmark = pytest.mark.django_db


@pytest.fixture
def inventoried(world):
    inventory.import_ad_computers(
        world.est_a1,
        [
            computer(f"PC-W7-{i:02}", os="Windows 7 Professionnel", ou="OU=Urgences,OU=Site Nord")
            for i in range(3)
        ]
        + [computer("SRV-2016", os="Windows Server 2016 Standard", ou="OU=Serveurs,OU=Site Sud")]
        + [computer("=HYPERLINK(1)", os="Windows Server 2025 Standard", ou="OU=Site Sud")]
        + [computer("BOITE-NOIRE", os="", version="")],
    )
    inventory.import_ad_computers(
        world.est_a2, [computer("PC-A2", os="Windows 11 Entreprise", version="10.0 (26200)")]
    )
    return world


def test_counts_by_status_site_and_service_with_timeline(client_for, inventoried):
    w = inventoried
    page = client_for(w.reader).get(reverse("posture:assets", args=[w.est_a1.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    statuses = page.context["summary"].counts
    assert (statuses["ended"], statuses["ending"], statuses["supported"], statuses["unknown"]) == (
        3,
        1,
        1,
        1,
    )
    by_site = {site: counts for site, counts, _total in page.context["by_site"]}
    assert by_site["Site Nord"] == [0, 0, 3, 0]
    assert ("Site Nord", "Urgences") in [(s, v) for s, v, _c, _t in page.context["by_service"]]
    assert 'data-chart="eol-timeline"' in html  # Windows Server 2016 ends 2027-01-12
    assert "Windows Server 2016" in html
    assert "PC-A2" not in html  # another establishment


def test_ght_page_names_the_establishment_and_filters_by_status(client_for, inventoried):
    w = inventoried
    client = client_for(w.editor)
    page = client.get(reverse("posture:assets", args=[w.ght_a.pk]), {"status": "ended"})
    rows = [asset.name for asset, _label in page.context["rows"]]
    assert rows == ["PC-W7-00", "PC-W7-01", "PC-W7-02"]
    assert "CHU A1" in page.content.decode()
    page = client.get(reverse("posture:assets", args=[w.ght_a.pk]), {"status": "supported"})
    assert {a.name for a, _l in page.context["rows"]} == {"=HYPERLINK(1)", "PC-A2"}


def test_pagination(client_for, world):
    inventory.import_ad_computers(world.est_a1, [computer(f"PC{i:03}") for i in range(120)])
    client = client_for(world.reader)
    page = client.get(reverse("posture:assets", args=[world.est_a1.pk]), {"page": 3})
    assert len(page.context["rows"]) == 20
    assert "Page 3 sur 3" in page.content.decode()


def test_csv_export_is_formula_safe(client_for, inventoried):
    w = inventoried
    response = client_for(w.reader).get(reverse("posture:assets_export", args=[w.ght_a.pk]))
    text = b"".join(
        response.streaming_content if response.streaming else [response.content]
    ).decode()
    assert "'=HYPERLINK(1)" in text
    assert "CH A2;PC-A2" in text
    assert "Hors support de sécurité" in text


def test_import_page_shows_named_errors_and_writes_nothing(world):
    client = browser(world.editor)
    url = reverse("posture:assets_import", args=[world.est_a1.pk])
    bad = SimpleUploadedFile("parc.csv", b"Nom;Actif\nPC-1;oui\n;oui\n")
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "ligne 3, « Nom » : nom manquant." in response.content.decode()
    assert not Asset.objects.exists()
    good = SimpleUploadedFile("parc.csv", b"Nom;Actif\nPC-1;oui\n")
    response = client.post(url, {"file": good})
    assert response.status_code == 302
    assert Asset.objects.filter(name="PC-1").exists()


def test_import_refuses_a_binary_file(world):
    client = browser(world.editor)
    url = reverse("posture:assets_import", args=[world.est_a1.pk])
    response = client.post(url, {"file": SimpleUploadedFile("parc.csv", b"MZ\x00\x00binary")})
    assert response.status_code == 200
    assert "doit être du texte" in response.content.decode()


def test_eol_page_and_update_by_a_platform_administrator(world):
    admin = factories.user("admin-plateforme", is_superuser=True, is_staff=True)
    client = browser(admin)
    page = client.get(reverse("posture:eol"))
    assert "Windows Server 2012 R2" in page.content.decode()
    assert page.context["can_update"]
    bad = SimpleUploadedFile("debian.json", b'[{"cycle": "14", "eol": "demain"}]')
    response = client.post(reverse("posture:eol_import"), {"file": bad})
    assert response.status_code == 400
    assert "[0].eol" in response.content.decode()
    good = SimpleUploadedFile(
        "debian.json", b'[{"cycle": "14", "releaseDate": "2027-06-01", "eol": "2032-06-30"}]'
    )
    response = client.post(reverse("posture:eol_import"), {"file": good})
    assert response.status_code == 302
    assert EolRelease.objects.get(product="debian", cycle="14").origin == EolOrigin.IMPORTED


def test_eol_update_form_is_hidden_from_organisation_members(client_for, world):
    page = client_for(world.editor).get(reverse("posture:eol"))
    assert not page.context["can_update"]
    assert "Mettre à jour depuis un fichier" not in page.content.decode()
