"""Remote-access inventory: KEV matching through aliases, flags, action items, evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse

from hygie.actions.models import ActionItem, Priority
from hygie.assessments.models import Fact
from hygie.posture import kev, remote
from hygie.posture.models import AccessKind, RemoteAccessPoint
from tests.clients import browser

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2024, 10, 1)


def _point(org, **fields) -> RemoteAccessPoint:
    values = {
        "name": "VPN nomade",
        "kind": AccessKind.VPN_SSL,
        "vendor": "Fortinet",
        "product": "FortiGate 100F",
        "mfa": True,
        "last_patched_on": dt.date(2024, 9, 20),
    }
    values.update(fields)
    return RemoteAccessPoint.objects.create(organisation=org, **values)


@pytest.mark.parametrize(
    ("vendor", "product", "key"),
    [
        ("Fortinet", "FortiGate 60F", "fortinet-fortios"),
        ("Fortinet", "FortiOS", "fortinet-fortios"),
        ("Pulse Secure", "Pulse Connect Secure", "ivanti-connect-secure"),
        ("Ivanti", "Connect Secure", "ivanti-connect-secure"),
        ("Citrix", "NetScaler Gateway", "citrix-netscaler"),
        ("Citrix", "Citrix ADC", "citrix-netscaler"),
        (
            "Citrix",
            "Application Delivery Controller (ADC), Gateway, and SD-WAN WANOP",
            "citrix-netscaler",
        ),
        ("Palo Alto Networks", "GlobalProtect", "paloalto-panos"),
        ("Palo Alto Networks", "PAN-OS", "paloalto-panos"),
        ("Cisco", "ASA 5516-X", "cisco-asa"),
        (
            "Cisco",
            "Adaptive Security Appliance (ASA) and Firepower Threat Defense (FTD)",
            "cisco-asa",
        ),
        ("SonicWall", "SSLVPN SMA100", "sonicwall-sma"),
        ("SonicWALL", "SonicOS", "sonicwall-sonicos"),
        ("Apache", "Log4j2", "apache|log4j2"),
    ],
)
def test_aliases_bring_names_together(vendor, product, key):
    assert remote.product_key(vendor, product) == key


@pytest.mark.django_db
def test_entries_after_last_patch_are_to_check_ransomware_first(world):
    kev.import_catalogue((FIXTURES / "kev_2024-09-09.json").read_bytes())
    index = remote.kev_index()
    # FortiGate patched in September 2024: no entry was added since.
    patched = remote.assess(
        _point(world.est_a1, last_patched_on=dt.date(2024, 9, 1)), index, today=TODAY
    )
    assert len(patched.known) == 3 and patched.to_check == []
    assert patched.flags == [] and patched.secure
    # Unknown patch date: every FortiOS entry, the ransomware-linked one first.
    unknown = remote.assess(
        _point(world.est_a1, name="VPN 2", last_patched_on=None), index, today=TODAY
    )
    assert [e.cve_id for e in unknown.to_check] == [
        "CVE-2018-13379",
        "CVE-2024-21762",
        "CVE-2022-42475",
    ]
    assert unknown.ransomware
    assert [code for code, _label in unknown.flags] == ["kev_ransomware", "patch_unknown"]
    # Pulse Secure patched before the 2024 Ivanti entries: those two are to check, no ransomware.
    ivanti = remote.assess(
        _point(
            world.est_a1,
            name="Portail",
            vendor="Pulse Secure",
            product="Pulse Connect Secure",
            last_patched_on=dt.date(2023, 12, 1),
            mfa=False,
            admin_interface_exposed=True,
        ),
        index,
        today=TODAY,
    )
    assert {e.cve_id for e in ivanti.to_check} == {"CVE-2023-46805", "CVE-2024-21887"}
    assert [code for code, _label in ivanti.flags] == [
        "kev_open",
        "no_mfa",
        "admin_exposed",
        "patch_old",
    ]


@pytest.mark.django_db
def test_action_item_once_per_flagged_point(world):
    kev.import_catalogue((FIXTURES / "kev_2024-09-09.json").read_bytes())
    point = _point(
        world.est_a1,
        vendor="Citrix",
        product="NetScaler Gateway",
        last_patched_on=dt.date(2023, 6, 1),
    )
    item = remote.create_action(point, actor=world.editor)
    again = remote.create_action(point, actor=world.editor)
    assert item == again and ActionItem.objects.count() == 1
    assert item.origin == "audit" and item.priority == Priority.CRITICAL
    assert "CVE-2023-4966" in item.description and item.organisation == world.est_a1
    clean = _point(
        world.est_a1,
        name="Bastion",
        vendor="Wallix",
        product="Bastion",
        last_patched_on=dt.date.today(),
    )
    with pytest.raises(remote.NotFlagged):
        remote.create_action(clean, actor=world.editor)


@pytest.mark.django_db
def test_fact_follows_inventory_and_catalogue(world):
    client = browser(world.editor)
    form = {
        "name": "VPN des médecins",
        "kind": "vpn_ssl",
        "vendor": "Palo Alto Networks",
        "product": "GlobalProtect",
        "version": "10.2.9",
        "mfa": "on",
        "last_patched_on": "2024-03-01",
    }
    response = client.post(reverse("posture:remote_access_create", args=[world.est_a1.pk]), form)
    assert response.status_code == 302
    fact = Fact.objects.get(organisation=world.est_a1, source="posture.remote_access")
    assert fact.value == 100.0 and "1 accès à distance" in fact.summary
    # The catalogue arrives: CVE-2024-3400 was added after the last patch.
    kev.import_catalogue((FIXTURES / "kev_2024-09-09.json").read_bytes())
    fact.refresh_from_db()
    assert fact.value == 0.0 and fact.details["kev_to_check"] == 1
    page = client.get(reverse("posture:remote_access", args=[world.est_a1.pk])).content.decode()
    assert "CVE-2024-3400" in page and "VPN des médecins" in page
    # Patched since: secure again.
    point = RemoteAccessPoint.objects.get()
    response = client.post(
        reverse("posture:remote_access_edit", args=[point.pk]),
        {**form, "last_patched_on": "2024-04-20"},
    )
    assert response.status_code == 302
    fact.refresh_from_db()
    assert fact.value == 100.0
    # The GHT sees its member's point with the establishment named.
    page = client.get(reverse("posture:remote_access", args=[world.ght_a.pk])).content.decode()
    assert "VPN des médecins" in page and "CHU A1" in page
    response = client.post(reverse("posture:remote_access_delete", args=[point.pk]))
    assert response.status_code == 302
    fact.refresh_from_db()
    assert fact.value is None and "Aucun accès" in fact.summary


@pytest.mark.django_db
def test_a_catalogue_import_reads_the_catalogue_once_for_every_establishment(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hygie.posture.models import KevEntry

    kev.import_catalogue((FIXTURES / "kev_2024-09-09.json").read_bytes())
    for org in (world.est_a1, world.est_a2, world.est_b1):
        _point(org, last_patched_on=dt.date(2024, 1, 5))
    table = KevEntry._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        remote.refresh_all_facts()
    reads = [q for q in queries if q["sql"].startswith("SELECT") and table in q["sql"]]
    assert len(reads) == 1
    facts = Fact.objects.filter(source="posture.remote_access")
    assert facts.count() == 3 and all(f.details["kev_to_check"] >= 1 for f in facts)


@pytest.mark.django_db
def test_action_button_on_the_page(world):
    point = _point(world.est_a1, mfa=False)
    client = browser(world.editor)
    url = reverse("posture:remote_access_action", args=[point.pk])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    assert ActionItem.objects.filter(origin="audit").count() == 1
    page = client.get(reverse("posture:remote_access", args=[world.est_a1.pk])).content.decode()
    assert "Action au plan" in page and "Pas d&#x27;authentification multifacteur" in page
