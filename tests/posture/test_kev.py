"""Importing CISA's KEV catalogue: all or nothing, errors that name the place, older refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from hygie.core.models import AuditEvent
from hygie.posture import kev
from hygie.posture.models import KevCatalogue, KevEntry
from tests import factories
from tests.clients import browser

FIXTURES = Path(__file__).parent / "fixtures"
NEW = FIXTURES / "kev_2024-09-09.json"
OLD = FIXTURES / "kev_2023-11-02.json"


def _payload(path=NEW) -> dict:
    return json.loads(path.read_text())


def _bytes(payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.django_db
def test_import_keeps_every_entry_with_its_facts():
    outcome = kev.import_catalogue(NEW.read_bytes(), filename=NEW.name)
    assert outcome.catalogue.catalog_version == "2024.09.09"
    assert outcome.catalogue.count == KevEntry.objects.count() == 14
    citrix = KevEntry.objects.get(cve_id="CVE-2023-4966")
    assert citrix.vendor_project == "Citrix"
    assert citrix.product == "NetScaler ADC and NetScaler Gateway"
    assert citrix.ransomware is True
    assert str(citrix.date_added) == "2023-10-18"
    assert str(citrix.due_date) == "2023-11-08"
    assert citrix.cwes == ["CWE-119"]
    assert KevEntry.objects.get(cve_id="CVE-2024-3400").ransomware is False
    assert kev.current() == outcome.catalogue


@pytest.mark.django_db
def test_newer_catalogue_replaces_and_counts_what_was_added():
    kev.import_catalogue(OLD.read_bytes())
    outcome = kev.import_catalogue(NEW.read_bytes())
    assert outcome.previous.catalog_version == "2023.11.02"
    assert "CVE-2024-3400" in outcome.added and "CVE-2018-13379" not in outcome.added
    assert len(outcome.added) == 5
    assert "5 nouvelles depuis la version 2023.11.02" in outcome.summary()
    assert KevEntry.objects.count() == 14


@pytest.mark.django_db
def test_older_catalogue_is_refused_unless_asked():
    kev.import_catalogue(NEW.read_bytes())
    with pytest.raises(kev.KevError) as refused:
        kev.import_catalogue(OLD.read_bytes())
    assert "plus ancien" in refused.value.problems[0]
    assert kev.current().catalog_version == "2024.09.09"
    assert KevEntry.objects.count() == 14
    outcome = kev.import_catalogue(OLD.read_bytes(), allow_older=True)
    assert outcome.warnings and KevEntry.objects.count() == 9


@pytest.mark.django_db
def test_invalid_json_names_line_and_column_and_keeps_the_catalogue():
    kev.import_catalogue(OLD.read_bytes())
    truncated = NEW.read_bytes()[:1500]
    with pytest.raises(kev.KevError) as refused:
        kev.import_catalogue(truncated)
    assert "ligne" in refused.value.problems[0] and "colonne" in refused.value.problems[0]
    assert KevCatalogue.objects.count() == 1 and KevEntry.objects.count() == 9


@pytest.mark.django_db
def test_bad_entries_are_all_reported_with_index_and_field_and_nothing_written():
    payload = _payload()
    payload["vulnerabilities"][2]["dateAdded"] = "2024-13-01"
    payload["vulnerabilities"][5]["knownRansomwareCampaignUse"] = "Yes"
    payload["vulnerabilities"][7]["cveID"] = "CVE-24-1"
    payload["vulnerabilities"][9]["cveID"] = payload["vulnerabilities"][0]["cveID"]
    with pytest.raises(kev.KevError) as refused:
        kev.import_catalogue(_bytes(payload))
    problems = refused.value.problems
    assert any(
        "vulnerabilities[2]" in p and "dateAdded" in p and "2024-13-01" in p for p in problems
    )
    assert any("vulnerabilities[5]" in p and "knownRansomwareCampaignUse" in p for p in problems)
    assert any("vulnerabilities[7]" in p and "cveID" in p for p in problems)
    assert any("vulnerabilities[9]" in p and "déjà présent à l'index 0" in p for p in problems)
    assert not KevCatalogue.objects.exists() and not KevEntry.objects.exists()


@pytest.mark.django_db
def test_count_mismatch_and_foreign_json_are_refused():
    payload = _payload()
    del payload["vulnerabilities"][-1]
    with pytest.raises(kev.KevError) as refused:
        kev.import_catalogue(_bytes(payload))
    assert "count" in refused.value.problems[0] and "13" in refused.value.problems[0]
    with pytest.raises(kev.KevError) as refused:
        kev.import_catalogue(b'{"frameworks": []}')
    assert "vulnerabilities" in refused.value.problems[0]
    assert not KevEntry.objects.exists()


@pytest.mark.django_db
def test_command_imports_and_refuses(tmp_path, capsys):
    call_command("kev_import", str(NEW))
    assert "2024.09.09" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="posture.kev_imported").exists()
    with pytest.raises(CommandError):
        call_command("kev_import", str(OLD))
    assert "plus ancien" in capsys.readouterr().err
    broken = tmp_path / "kev.json"
    broken.write_text('{"vulnerabilities": [')
    with pytest.raises(CommandError):
        call_command("kev_import", str(broken))
    assert "ligne 1" in capsys.readouterr().err
    assert kev.current().catalog_version == "2024.09.09"


def test_page_imports_for_platform_administrator_only(world):
    admin = factories.user("admin-plateforme", is_superuser=True, is_staff=True)
    client = browser(admin)
    response = client.post(
        reverse("posture:kev_import"),
        {"file": SimpleUploadedFile("known_exploited_vulnerabilities.json", NEW.read_bytes())},
    )
    assert response.status_code == 302
    page = client.get(reverse("posture:kev")).content.decode()
    assert "2024.09.09" in page and "CVE-2024-40766" in page
    assert "known_exploited_vulnerabilities.json" in page  # where to get the file
    # An older file: refused with the reason, nothing changes.
    response = client.post(
        reverse("posture:kev_import"),
        {"file": SimpleUploadedFile("old.json", OLD.read_bytes())},
    )
    assert response.status_code == 200 and "plus ancien" in response.content.decode()
    assert kev.current().catalog_version == "2024.09.09"
    # The RSSI reads the catalogue but cannot import it.
    rssi = browser(world.editor)
    assert rssi.get(reverse("posture:kev")).status_code == 200
    assert rssi.get(reverse("posture:kev_import")).status_code == 403
