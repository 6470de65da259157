"""The demo's technical audits: what the RSSI of the demo GHT finds on the CHU's pages."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hygie.actions.models import ActionItem
from hygie.assessments.models import Fact
from hygie.orgs.demo import load_demo
from hygie.orgs.models import Organisation
from hygie.posture import eol, inventory, remote
from hygie.posture.demo import load_posture_demo
from hygie.posture.models import ADAudit, Asset, AssetSource, ExposedService, RemoteAccessPoint
from tests.clients import browser

pytestmark = pytest.mark.django_db


def test_the_demo_gives_the_rssi_audits_a_trend_remote_access_exposure_and_assets():
    load_demo()
    ght = Organisation.objects.get(code="GHT-DEMO-HDF")
    started = time.perf_counter()
    assert load_posture_demo(ght) == 2
    elapsed = time.perf_counter() - started
    print(f"posture demo loaded in {elapsed:.1f} s")
    assert load_posture_demo(ght) == 0, "loaded once"

    first, second = ADAudit.objects.order_by("collected_at")
    chu = first.organisation
    assert chu.name == "Centre hospitalier universitaire de Valmont"
    assert first.domain == second.domain == "chu-valmont.local"
    assert 80 <= (second.collected_at - first.collected_at).days <= 100
    assert second.score < first.score, "the clean-up shows in the score"
    before = set(first.findings.values_list("rule_id", flat=True))
    after = set(second.findings.values_list("rule_id", flat=True))
    assert {"A-MACHINE-ACCOUNT-QUOTA", "P-KRBTGT-PWD-OLD", "S-INACTIVE-USER"} <= before - after
    assert "S-OBSOLETE-OS" in after, "the old systems are still there"
    assert ActionItem.objects.filter(organisation=chu, origin="audit").count() >= len(after)
    assert Fact.objects.filter(organisation=chu, source="posture.ad_audit").count() == 2
    assert Asset.objects.filter(organisation=chu, source=AssetSource.AD).count() == 700

    rssi = browser(get_user_model().objects.get(username="rssi"))
    page = rssi.get(reverse("posture:ad_audits", args=[chu.pk])).content.decode()
    assert page.count('data-testid="ad-audit-row"') == 2
    assert "(mieux)" in page
    page = rssi.get(reverse("posture:ad_audit", args=[second.pk])).content.decode()
    assert 'data-testid="ad-trend"' in page and "P-KRBTGT-PWD-OLD" in page
    page = rssi.get(reverse("posture:passwords", args=[chu.pk]))
    assert page.status_code == 200

    # Remote access: the outdated Fortinet VPN, the SonicWall with a ransomware-linked CVE, the
    # supplier's access without MFA; the Citrix gateway with MFA and recent patch is clean.
    statuses = {s.point.name: s for s in remote.assess_all(RemoteAccessPoint.objects.all())}
    assert len(statuses) == 4
    assert [e.cve_id for e in statuses["VPN nomade des agents"].to_check] == ["CVE-2024-21762"]
    assert statuses["Accès des médecins libéraux"].ransomware
    assert "no_mfa" in dict(statuses["Télémaintenance du fournisseur du PACS"].flags)
    assert not statuses["Passerelle Citrix (DPI à distance)"].flags
    page = rssi.get(reverse("posture:remote_access", args=[chu.pk])).content.decode()
    assert "CVE-2021-20016" in page and "Pas d&#x27;authentification multifacteur" in page

    rdp = ExposedService.objects.get(port=3389)
    assert rdp.risky and rdp.address == "198.51.100.24"
    page = rssi.get(reverse("posture:exposure", args=[chu.pk])).content.decode()
    assert "198.51.100.24" in page and "3389" in page

    summary = inventory.summarise(Asset.objects.filter(organisation=chu))
    assert summary.counts[eol.ENDED] > 20  # Windows XP and 7 at least, whatever the date
    page = rssi.get(reverse("posture:assets", args=[chu.pk])).content.decode()
    ended = re.search(r'data-status="ended">.*?<td>(\d+)</td>', page, re.DOTALL)
    assert ended and int(ended.group(1)) == summary.counts[eol.ENDED]
    assert "Valmont-Centre" in page and "Windows 7" in page
    marquise = Organisation.objects.get(short_name="CH de Marquise")
    assert Asset.objects.filter(organisation=marquise, source=AssetSource.GLPI).count() == 86
    page = rssi.get(reverse("posture:assets", args=[marquise.pk])).content.decode()
    assert "Windows 7" in page
