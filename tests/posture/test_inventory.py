"""The asset inventory: AD computers, CSV and GLPI files, evidence and action items."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from hygie.actions.models import ActionItem
from hygie.assessments.models import Fact
from hygie.posture import inventory
from hygie.posture.ad.snapshot import UAC_ACCOUNTDISABLE, UAC_SERVER_TRUST_ACCOUNT, Computer
from hygie.posture.models import Asset, AssetImport, AssetKind, AssetSource

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def computer(name, os="Windows 10 Entreprise", version="10.0 (19045)", ou="OU=Postes", **kw):
    return Computer(
        dn=f"CN={name},{ou},DC=chu,DC=local",
        sam=f"{name}$",
        os=os,
        os_version=version,
        last_logon=kw.pop("last_logon", NOW - dt.timedelta(days=2)),
        **kw,
    )


@pytest.mark.parametrize(
    ("dn", "place"),
    [
        (
            "CN=PC1,OU=Cardiologie,OU=Site Nord,OU=Postes,DC=chu,DC=local",
            ("Site Nord", "Cardiologie"),
        ),
        (
            "CN=PC1,OU=Urgences,OU=Hôpital Sud,OU=Ordinateurs,DC=chu,DC=local",
            ("Hôpital Sud", "Urgences"),
        ),
        ("CN=PC1,OU=Computers,DC=chu,DC=local", ("", "")),
        ("CN=PC1,OU=Radiologie,OU=Workstations,DC=chu,DC=local", ("Radiologie", "")),
        ("CN=DC1,OU=Domain Controllers,DC=chu,DC=local", ("", "")),
        ("CN=PC1,OU=Pharmacie,OU=Site Est,OU=CHU,DC=chu,DC=local", ("Site Est", "Pharmacie")),
    ],
)
def test_site_and_service_are_read_from_the_ous(dn, place):
    assert inventory.place_from_dn(dn) == place


def test_ad_computers_are_upserted_with_kind_place_release_and_last_seen(world):
    seen = NOW - dt.timedelta(days=3)
    record = inventory.import_ad_computers(
        world.est_a1,
        [
            computer("PC-CARDIO-01", ou="OU=Cardiologie,OU=Site Nord", last_logon=seen),
            computer("PC-VIEUX", os="Windows 7 Professionnel", version="6.1 (7601)"),
            computer("SRV-FICHIERS", os="Windows Server 2012 R2 Standard", version="6.3 (9600)"),
            computer("DC1", os="Windows Server 2022 Datacenter", uac=UAC_SERVER_TRUST_ACCOUNT),
            computer("PC-ETEINT", uac=0x1000 | UAC_ACCOUNTDISABLE),
        ],
        user=world.editor,
    )
    assert (record.rows, record.created, record.updated, record.source) == (5, 5, 0, "ad")
    cardio = Asset.objects.get(organisation=world.est_a1, name="PC-CARDIO-01")
    assert (cardio.site, cardio.service, cardio.kind) == ("Site Nord", "Cardiologie", "workstation")
    assert cardio.last_seen == seen
    assert cardio.eol.label == "Windows 10 22H2"
    assert Asset.objects.get(name="SRV-FICHIERS").kind == AssetKind.SERVER
    assert Asset.objects.get(name="DC1").kind == AssetKind.SERVER
    assert Asset.objects.get(name="PC-ETEINT").enabled is False

    # a second audit updates; a site set by hand (or by GLPI) is kept
    Asset.objects.filter(name="PC-CARDIO-01").update(site="Bâtiment B")
    record = inventory.import_ad_computers(
        world.est_a1,
        [
            computer(
                "pc-cardio-01",
                os="Windows 11 Entreprise",
                version="10.0 (26100)",
                ou="OU=Cardiologie,OU=Site Nord",
            )
        ],
    )
    assert (record.created, record.updated) == (0, 1)
    cardio.refresh_from_db()
    assert cardio.site == "Bâtiment B"
    assert cardio.eol.label == "Windows 11 24H2 (Entreprise, Éducation)"
    assert Asset.objects.filter(organisation=world.est_a1).count() == 5


def test_evidence_and_one_action_per_end_of_life_group(world):
    computers = [
        computer(f"PC-W7-{i:02}", os="Windows 7 Professionnel", ou="OU=Site Nord")
        for i in range(14)
    ]
    computers += [computer(f"PC-W10-{i:02}", ou="OU=Site Nord") for i in range(6)]
    inventory.import_ad_computers(world.est_a1, computers)
    items = ActionItem.objects.filter(organisation=world.est_a1, origin="audit")
    titles = list(items.values_list("title", flat=True))
    assert any("Remplacer les 14 postes Windows 7 du site Site Nord" == t for t in titles), titles
    assert any("Windows 10 22H2" in t for t in titles)  # ended 2025-10-14
    fact = Fact.objects.get(organisation=world.est_a1, source="posture.eol_inventory")
    assert fact.value == 0.0
    assert "20 équipements" in fact.summary

    # importing again does not duplicate; the count follows the inventory
    inventory.import_ad_computers(world.est_a1, computers[:10])
    assert items.count() == 2
    Asset.objects.filter(name__in=["PC-W7-00", "PC-W7-01"]).update(enabled=False)
    inventory.import_ad_computers(world.est_a1, [])
    assert items.filter(title__startswith="Remplacer les 12 postes Windows 7").exists()


def test_fifty_thousand_ad_computers_in_a_few_seconds(world):
    oses = [
        ("Windows 10 Entreprise", "10.0 (19045)"),
        ("Windows 11 Entreprise", "10.0 (26100)"),
        ("Windows Server 2019 Standard", "10.0 (17763)"),
        ("Windows 7 Professionnel", "6.1 (7601)"),
    ]
    computers = [
        computer(f"PC{i:06}", *oses[i % 4], ou=f"OU=Service {i % 30},OU=Site {i % 3}")
        for i in range(50_000)
    ]
    start = time.perf_counter()
    inventory.import_ad_computers(world.est_a1, computers)
    first = time.perf_counter() - start
    start = time.perf_counter()
    inventory.import_ad_computers(world.est_a1, computers)
    second = time.perf_counter() - start
    assert Asset.objects.filter(organisation=world.est_a1).count() == 50_000
    assert first < 20 and second < 20, (first, second)
    print(f"50,000 AD computers: {first:.1f} s first import, {second:.1f} s again")


CSV_FR = (
    "Nom;Type;Système;Version;Site;Service;Numéro de série;Actif;Dernière connexion\n"
    "pc-urg-01.chu.local;Poste de travail;Windows 10 Professionnel;22H2;Site Nord;Urgences;"
    "SN1;oui;15/11/2026 08:30\n"
    "SRV-PACS;Serveur;Red Hat Enterprise Linux;8.6;Site Nord;Imagerie;SN2;oui;2026-11-20\n"
)


def test_french_csv_with_bom_and_semicolons(world):
    record = inventory.import_inventory_file(
        world.est_a1, ("\ufeff" + CSV_FR).encode("utf-8"), filename="parc.csv"
    )
    assert (record.source, record.rows, record.created) == (AssetSource.CSV, 2, 2)
    pc = Asset.objects.get(name="PC-URG-01")
    assert (pc.site, pc.service, pc.serial, pc.kind) == (
        "Site Nord",
        "Urgences",
        "SN1",
        "workstation",
    )
    assert pc.last_seen.date() == dt.date(2026, 11, 15)
    assert Asset.objects.get(name="SRV-PACS").eol.label == "Red Hat Enterprise Linux 8"


def test_english_csv_with_commas_in_latin1(world):
    data = (
        "Name,Kind,Operating system,OS version,Location,Department\n"
        "PC-Réa-01,Laptop,Windows 11 Pro,23H2,Hôpital,Réanimation\n"
    ).encode("latin-1")
    inventory.import_inventory_file(world.est_a1, data, filename="assets.csv")
    asset = Asset.objects.get(name="PC-RÉA-01")
    assert (asset.site, asset.service) == ("Hôpital", "Réanimation")


def test_bad_rows_are_named_and_nothing_is_written(world):
    data = (
        "Nom;Système;Actif;Dernière connexion\n"
        "PC-OK;Windows 10 Pro;oui;2026-01-01\n"
        ";Windows 10 Pro;oui;\n"
        "PC-2;Windows 10 Pro;peut-être;\n"
        "PC-3;Windows 10 Pro;oui;31/02/2026\n"
        "pc-ok;Windows 11 Pro;;\n"
    ).encode()
    with pytest.raises(inventory.InventoryFileError) as error:
        inventory.import_inventory_file(world.est_a1, data, filename="parc.csv")
    lines = error.value.format_lines()
    assert lines[0] == "ligne 3, « Nom » : nom manquant."
    assert lines[1].startswith("ligne 4, « Actif » : « peut-être »")
    assert lines[2].startswith("ligne 5, « Dernière connexion » : « 31/02/2026 »")
    assert lines[3] == "ligne 6, « Nom » : « PC-OK » figure déjà ligne 2."
    assert not Asset.objects.exists()
    assert not AssetImport.objects.exists()


def test_a_file_without_a_name_column_is_refused(world):
    with pytest.raises(inventory.InventoryFileError, match="Nom"):
        inventory.import_inventory_file(world.est_a1, b"Hostname2;OS\nPC;Windows\n")


GLPI = (
    '"Nom";"Entité";"Statut";"Fabricant";"Numéro de série";"Type";"Modèle";'
    '"Système d\'exploitation - Nom";"Système d\'exploitation - Version";"Lieu";'
    '"Dernière modification";"Composants - Processeur"\n'
    '"PC-BLOC-02";"Entité racine > CHU A1";"En service";"Dell Inc.";"7XK9Q2";"Ordinateur de bureau";'
    '"OptiPlex 7010";"Microsoft Windows 10 Entreprise";"21H2";"Site Nord > Bloc opératoire";'
    '"2026-11-02 10:12";"Intel Core i5"\n'
    '"SRV-LABO";"Entité racine > CHU A1";"En service";"HPE";"CZ1234";"Serveur";"ProLiant";'
    '"Microsoft Windows Server 2008 R2 Standard";"";"Site Sud > Salle serveurs";'
    '"2026-10-28 16:40";""\n'
)


def test_glpi_computer_export(world):
    inventory.import_ad_computers(world.est_a1, [computer("PC-BLOC-02", ou="OU=Bloc,OU=Site X")])
    record = inventory.import_inventory_file(world.est_a1, GLPI.encode(), filename="glpi.csv")
    assert (record.source, record.created, record.updated) == (AssetSource.GLPI, 1, 1)
    pc = Asset.objects.get(name="PC-BLOC-02")
    # GLPI is the inventory of record: its location wins over the OU guess
    assert (pc.site, pc.serial, pc.kind) == ("Site Nord", "7XK9Q2", "workstation")
    assert pc.eol.label == "Windows 10 21H2 (Entreprise, Éducation)"
    assert pc.source == AssetSource.AD  # first recorded by the AD audit
    srv = Asset.objects.get(name="SRV-LABO")
    assert (srv.kind, srv.eol.label, srv.site) == ("server", "Windows Server 2008 R2", "Site Sud")
