"""The posture pages of a GHT run a fixed number of queries, whatever the number of member
establishments and of their audits, access points, scans and assets (a GHT of 20 members must
stay as fast as a GHT of one)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hygie.orgs.models import Kind
from hygie.posture import exposure, inventory, kev, remote
from hygie.posture.ad import audits
from hygie.posture.models import AccessKind, DirectoryConnection, RemoteAccessPoint
from tests import factories
from tests.clients import browser
from tests.posture.snapshots import NOW, weak_domain
from tests.posture.test_inventory import computer

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
NEW_MEMBERS = ["CH Membre 1", "CH Membre 2", "CH Membre 3"]


def equip(world, establishment, tag: str) -> None:
    """Everything the posture pages show for one establishment, as its RSSI would record it."""
    domain = f"{tag}.local"
    connection_ = DirectoryConnection.objects.create(
        organisation=establishment,
        name=f"DC de {establishment.name}",
        host=f"dc01.{domain}",
        bind_user=f"audit@{domain}",
        bind_password="secret",
    )
    # Two audits of the domain (a trend), the second by the live connection; findings and
    # their action items come with them, the password figures too.
    audits.record_audit(
        establishment, weak_domain(fixed=("spn",), domain=domain), user=world.editor
    )
    audits.record_audit(
        establishment,
        weak_domain(now=NOW + dt.timedelta(days=30), domain=domain),
        connection=connection_,
    )
    # Remote access: a flagged point turned into an action, a clean one.
    flagged = RemoteAccessPoint.objects.create(
        organisation=establishment,
        name=f"VPN {establishment.name}",
        kind=AccessKind.VPN_SSL,
        vendor="Fortinet",
        product="FortiGate 100F",
        last_patched_on=dt.date(2024, 1, 15),
    )
    remote.create_action(flagged, actor=world.editor)
    RemoteAccessPoint.objects.create(
        organisation=establishment,
        name=f"Bastion {establishment.name}",
        kind=AccessKind.BASTION,
        vendor="Wallix",
        product="Bastion",
        mfa=True,
        last_patched_on=dt.date.today(),
    )
    remote.refresh_fact(establishment)
    # Exposure: an older scan, then the latest with a risky service turned into an action.
    exposure.import_scan(
        establishment, (FIXTURES / "nmap_ch_a2.xml").read_bytes(), filename=f"{tag}-old.xml"
    )
    scan = exposure.import_scan(
        establishment, (FIXTURES / "nmap_chu_a1.xml").read_bytes(), filename=f"{tag}.xml"
    )
    exposure.create_action(scan.services.filter(risky=True).first(), actor=world.editor)
    # Assets: ended, ending, supported and unknown systems from AD, then a CSV file.
    inventory.import_ad_computers(
        establishment,
        [
            computer(f"PC-W7-{tag}", os="Windows 7 Professionnel", ou="OU=Urgences,OU=Site Nord"),
            computer(f"SRV-{tag}", os="Windows Server 2016 Standard", ou="OU=Site Sud"),
            computer(f"PC-W11-{tag}", os="Windows 11 Entreprise", version="10.0 (26200)"),
            computer(f"BOITE-{tag}", os="", version=""),
        ],
    )
    inventory.import_inventory_file(
        establishment,
        f"Nom;Systeme;Version;Site;Service\nPC-XP-{tag};Windows XP;5.1;Site Nord;Radiologie\n"
        f"SRV-2012-{tag};Windows Server 2012 R2;6.3;Site Sud;Informatique\n".encode(),
        filename=f"{tag}.csv",
        user=world.editor,
    )


def count(client, url) -> tuple[int, list[str], str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return len(captured), [q["sql"] for q in captured.captured_queries], body.decode()


def _shape(sql: str) -> str:
    """A query without its values, so that the same query for another member compares equal."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r'"s\d+_x\d+"', '"savepoint"', sql)
    sql = re.sub(r"\b\d+\b", "N", sql)
    return re.sub(r"\(N(, N)*\)", "(N…)", sql)


def grown(small: list[str], large: list[str]) -> str:
    before, after = Counter(map(_shape, small)), Counter(map(_shape, large))
    return "\n".join(
        f"{before[q]} → {after[q]}: {q[:300]}" for q in after | before if before[q] != after[q]
    )


def rows(testid: str):
    return lambda body: body.count(f'data-testid="{testid}"')


# Each page: its route, its rows (each member brings as many) and a line naming a member's data.
PAGES = {
    "ad audits": (
        "posture:ad_audits",
        rows("ad-audit-row"),
        lambda name, tag: f"<h2>{tag}.local <small>({name})</small></h2>",
    ),
    "passwords": (
        "posture:passwords",
        rows("password-domain"),
        lambda name, tag: f"{tag}.local — {name}</h2>",
    ),
    "remote access": (
        "posture:remote_access",
        rows("remote-row"),
        lambda name, tag: f"<td>{name}</td>",
    ),
    "exposure": (
        "posture:exposure",
        rows("service-row"),
        lambda name, tag: f"{tag}.xml</a>",
    ),
    "assets": (
        "posture:assets",
        rows("asset-row"),
        lambda name, tag: f'<td>{name}</td>\n    <th scope="row">PC-W7-{tag.upper()}</th>',
    ),
    "assets csv": (
        "posture:assets_export",
        lambda body: body.count("\r\n") - 1,  # the header
        lambda name, tag: f"{name};PC-W7-{tag.upper()};",
    ),
}


@pytest.mark.parametrize("page", PAGES)
def test_ght_page_query_count_does_not_grow_with_the_members(world, page):
    kev.import_catalogue((FIXTURES / "kev_2024-09-09.json").read_bytes())
    client = browser(world.editor)  # GHT A's RSSI
    route, count_rows, shown = PAGES[page]
    url = reverse(route, args=[world.ght_a.pk])
    equip(world, world.est_a1, "chu-a1")
    client.get(url)  # the first visit settles the session (current organisation)
    small, small_sql, small_body = count(client, url)
    assert count_rows(small_body) > 0
    assert shown("CHU A1", "chu-a1") in small_body
    members = [(name, f"membre-{n}") for n, name in enumerate(NEW_MEMBERS, start=1)]
    for name, tag in members:
        equip(world, factories.org(Kind.ESTABLISHMENT, world.ght_a, name=name), tag)
    large, large_sql, large_body = count(client, url)
    # The page shows the four members' data: four times the rows, each member named with its own.
    assert count_rows(large_body) == 4 * count_rows(small_body)
    for name, tag in [("CHU A1", "chu-a1"), *members]:
        assert shown(name, tag) in large_body, f"{page}: {name}'s data missing from the page"
    assert large == small, (
        f"{page}: {small} queries with one member holding data, {large} with four:\n"
        + grown(small_sql, large_sql)
    )
