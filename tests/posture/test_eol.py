"""The end-of-life dataset: shipped facts, matching what AD and GLPI write, updates from files."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.management import CommandError, call_command

from hygie.posture import eol
from hygie.posture.models import Asset, AssetKind, AssetSource, EolOrigin, EolRelease


@pytest.fixture(scope="module")
def releases():
    return eol.builtin_releases()


@pytest.mark.parametrize(
    ("os_name", "os_version", "label"),
    [
        ("Windows Server 2012 R2 Standard", "6.3 (9600)", "Windows Server 2012 R2"),
        ("Windows Server® 2008 Standard", "6.0 (6002)", "Windows Server 2008"),
        ("Windows Server 2008 R2 Enterprise", "6.1 (7601)", "Windows Server 2008 R2"),
        ("Windows Server 2022 Datacenter", "10.0 (20348)", "Windows Server 2022"),
        ("Microsoft Windows 10 Entreprise", "22H2", "Windows 10 22H2"),
        ("Windows 10 Enterprise", "10.0 (19045)", "Windows 10 22H2"),
        ("Windows 10 Pro", "10.0 (19044)", "Windows 10 21H2 (Famille, Professionnel)"),
        ("Windows 10 Entreprise", "10.0 (19044)", "Windows 10 21H2 (Entreprise, Éducation)"),
        ("Windows 10 Enterprise LTSC", "10.0 (17763)", "Windows 10 Entreprise LTSC 2019"),
        ("Windows 7 Professionnel", "6.1 (7601)", "Windows 7"),
        ("Windows XP Professional", "5.1 (2600)", "Windows XP"),
        ("Microsoft Windows 11 Professionnel", "23H2", "Windows 11 23H2 (Famille, Professionnel)"),
        ("Windows 11 Enterprise LTSC 2024", "10.0 (26100)", "Windows 11 Entreprise LTSC 2024"),
        ("Red Hat Enterprise Linux Server release 7.9 (Maipo)", "", "Red Hat Enterprise Linux 7"),
        ("Debian GNU/Linux", "12 (bookworm)", "Debian 12 (bookworm)"),
        ("Ubuntu", "22.04.3 LTS (Jammy Jellyfish)", "Ubuntu 22.04 LTS"),
        ("SUSE Linux Enterprise Server 15 SP5", "", "SUSE Linux Enterprise Server 15"),
        ("VMware ESXi", "7.0.3", "VMware ESXi 7.0"),
    ],
)
def test_what_ad_and_glpi_write_is_recognised(releases, os_name, os_version, label):
    assert eol.match(os_name, os_version, releases).label == label


def test_an_unknown_system_matches_nothing(releases):
    assert eol.match("Linux", "", releases) is None
    assert eol.match("", "", releases) is None


def test_shipped_facts(releases):
    by_key = {(r.product, r.cycle): r for r in releases}
    assert by_key[("windows", "10-22h2")].eol_on == dt.date(2025, 10, 14)
    assert by_key[("windows", "7")].eol_on == dt.date(2020, 1, 14)
    assert by_key[("windows", "7")].extended_until == dt.date(2023, 1, 10)
    assert by_key[("windows-server", "2012-r2")].eol_on == dt.date(2023, 10, 10)
    assert by_key[("windows-server", "2016")].eol_on == dt.date(2027, 1, 12)
    # Microsoft ends servicing on a Patch Tuesday
    for release in releases:
        if release.product.startswith("windows") and release.eol_on:
            assert release.eol_on.weekday() == 1, release.label


def test_status_by_date(releases):
    today = dt.date(2026, 11, 30)
    by_key = {(r.product, r.cycle): r for r in releases}
    assert eol.status(by_key[("windows", "7")], today) == eol.ENDED
    assert eol.status(by_key[("windows-server", "2016")], today) == eol.ENDING
    assert eol.status(by_key[("windows-server", "2025")], today) == eol.SUPPORTED
    assert eol.status(None, today) == eol.UNKNOWN


def test_fifty_thousand_matches_are_fast(releases):
    names = [(f"Windows 10 Entreprise {i % 40}", "10.0 (19045)") for i in range(50_000)]
    start = time.perf_counter()
    for name, version in names:
        eol.match(name, version, releases)
    assert time.perf_counter() - start < 2


def test_errors_name_line_and_field():
    text = (
        "releases:\n"
        "  - product: windows\n"
        "    cycle: '12'\n"
        "    patterns: ['windows 12(']\n"
        "    eol: 2030-13-01\n"
    )
    with pytest.raises(eol.EolFileError) as error:
        eol.parse_yaml(text, "maj.yaml")
    assert error.value.format_lines() == [
        "ligne 5 : YAML invalide : date impossible « 2030-13-01 »"
    ]
    with pytest.raises(eol.EolFileError) as error:
        eol.parse_yaml(text.replace("2030-13-01", "'01/13/2030'"), "maj.yaml")
    lines = error.value.format_lines()
    assert any("ligne 4" in line and "patterns[0]" in line for line in lines), lines
    assert any("ligne 5" in line and "eol" in line for line in lines), lines


def test_dates_out_of_order_are_refused():
    text = (
        "releases:\n  - product: debian\n    cycle: '14'\n    patterns: ['debian.*14']\n"
        "    support: 2030-01-01\n    eol: 2029-01-01\n"
    )
    with pytest.raises(eol.EolFileError, match="eol"):
        eol.parse_yaml(text)


@pytest.mark.django_db
def test_migrate_loaded_the_dataset():
    assert EolRelease.objects.filter(origin=EolOrigin.BUILTIN).count() == len(
        eol.builtin_releases()
    )
    assert eol.match("Windows 7 Professionnel", "", eol.current_releases()).cycle == "7"


@pytest.mark.django_db
def test_builtin_reload_keeps_imported_rows_and_repairs_builtin_ones():
    imported = EolRelease.objects.get(product="debian", cycle="12")
    imported.origin = EolOrigin.IMPORTED
    imported.eol_on = dt.date(2029, 1, 1)
    imported.save()
    damaged = EolRelease.objects.get(product="windows", cycle="7")
    damaged.eol_on = dt.date(2030, 1, 1)
    damaged.save()
    eol.load_builtin()
    assert EolRelease.objects.get(product="debian", cycle="12").eol_on == dt.date(2029, 1, 1)
    assert EolRelease.objects.get(product="windows", cycle="7").eol_on == dt.date(2020, 1, 14)


ENDOFLIFE_DEBIAN = b"""[
 {"cycle": "14", "codename": "Forky", "releaseDate": "2027-06-01", "support": "2030-06-01",
  "eol": "2032-06-30", "extendedSupport": false},
 {"cycle": "12", "releaseDate": "2023-06-10", "support": "2026-06-10", "eol": "2028-06-30"}
]"""


@pytest.mark.django_db
def test_endoflife_json_updates_and_adds_cycles_and_rematches_assets(world):
    asset = Asset.objects.create(
        organisation=world.est_a1,
        name="SRV-FORKY",
        kind=AssetKind.SERVER,
        source=AssetSource.CSV,
        os_name="Debian GNU/Linux",
        os_version="14 (forky)",
    )
    specs = eol.read_release_file(ENDOFLIFE_DEBIAN, "debian.json")
    outcome = eol.import_releases(specs, filename="debian.json")
    assert (outcome["created"], outcome["updated"]) == (1, 1)
    forky = EolRelease.objects.get(product="debian", cycle="14")
    assert forky.origin == EolOrigin.IMPORTED
    assert forky.eol_on == dt.date(2032, 6, 30)
    asset.refresh_from_db()
    assert asset.eol == forky


@pytest.mark.django_db
def test_a_bad_file_changes_nothing(tmp_path):
    before = list(EolRelease.objects.values_list("product", "cycle", "eol_on"))
    bad = tmp_path / "debian.json"
    bad.write_bytes(b'[{"cycle": "14", "eol": "2032-06-30"}, {"cycle": "15", "eol": "bientot"}]')
    with pytest.raises(CommandError, match=r"\[1\]\.eol"):
        call_command("eol_import", str(bad))
    assert list(EolRelease.objects.values_list("product", "cycle", "eol_on")) == before


@pytest.mark.django_db
def test_eol_import_command_reads_yaml(tmp_path, capsys):
    good = tmp_path / "maj.yaml"
    good.write_text(
        "releases:\n  - product: windows\n    cycle: 11-26h1-e\n    label: Windows 11 26H1\n"
        "    patterns: ['windows 11\\b.*\\b28000\\b']\n    released: 2026-02-10\n"
        "    support: 2029-03-13\n    eol: 2029-03-13\n",
        encoding="utf-8",
    )
    call_command("eol_import", str(good))
    assert "1 versions ajoutées" in capsys.readouterr().out
    assert eol.match("Windows 11 Entreprise", "10.0 (28000)", eol.current_releases()).label == (
        "Windows 11 26H1"
    )
