"""GHT pooling: one action carried for several members, each with its own share."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from hygie.actions.models import ActionItem, ActionMember, ActionStatus
from hygie.orgs.roles import Role
from tests import factories
from tests.actions.helpers import item
from tests.clients import browser


@pytest.fixture
def pooled(world):
    """GOV.1 pooled from CHU A1 for both members; CH A2 had its own line at 40 %."""
    world.rssi_a1 = factories.user("rssi-a1", role=Role.RSSI, at=world.est_a1)
    world.a1_item = item(world.est_a1, "PSSI commune", ref_id="GOV.1", cost=12000)
    world.a2_item = item(
        world.est_a2, "PSSI A2", ref_id="GOV.1", status=ActionStatus.IN_PROGRESS, progress=40
    )
    response = browser(world.editor).post(
        reverse("actions:pool", args=[world.a1_item.pk]),
        {"members": [world.est_a1.pk, world.est_a2.pk]},
    )
    assert response.status_code == 302
    world.ght_item = ActionItem.objects.get(organisation=world.ght_a)
    world.share_a1 = ActionMember.objects.get(action=world.ght_item, member=world.est_a1)
    world.share_a2 = ActionMember.objects.get(action=world.ght_item, member=world.est_a2)
    return world


def test_pooling_creates_a_ght_item_with_one_share_per_member(pooled):
    w = pooled
    assert w.ght_item.title == "PSSI commune" and w.ght_item.cost == 12000
    assert (w.share_a1.progress, w.share_a2.progress) == (0, 40)
    assert w.share_a2.status == ActionStatus.IN_PROGRESS
    assert w.ght_item.progress == 20  # mean of the members'
    for line in (w.a1_item, w.a2_item):
        line.refresh_from_db()
        assert line.pooled_into == w.ght_item


def test_members_see_their_share_in_their_plan(pooled):
    w = pooled
    body = browser(w.rssi_a1).get(reverse("actions:plan", args=[w.est_a1.pk])).content.decode()
    assert f'data-key="PART-{w.share_a1.pk}"' in body
    assert "mutualisée · GHT A" in body
    # The establishment's own line is followed through its share, not twice.
    assert body.count('data-testid="plan-line"') == 1
    ght_plan = browser(w.editor).get(reverse("actions:plan", args=[w.ght_a.pk])).content.decode()
    assert "CHU A1 : 0 %" in ght_plan and "CH A2 : 40 %" in ght_plan


def test_a_member_updates_only_its_own_share(pooled):
    w = pooled
    client = browser(w.rssi_a1)
    response = client.post(
        reverse("actions:share", args=[w.share_a1.pk]),
        {"status": ActionStatus.IN_PROGRESS, "progress": 80, "note": "Rédigée"},
    )
    assert response.status_code == 302
    w.ght_item.refresh_from_db()
    assert w.ght_item.progress == 60
    assert w.ght_item.status == ActionStatus.IN_PROGRESS
    # Another member's share, the GHT item itself: out of reach for an establishment's RSSI.
    other = client.post(
        reverse("actions:share", args=[w.share_a2.pk]), {"status": "done", "progress": 100}
    )
    assert other.status_code == 404
    assert client.get(reverse("actions:edit", args=[w.ght_item.pk])).status_code == 404
    w.share_a2.refresh_from_db()
    assert w.share_a2.progress == 40


def test_pooling_needs_change_on_the_ght(pooled):
    w = pooled
    own = item(w.est_a1, "Sauvegardes hors ligne", ref_id="TECH.2")
    url = reverse("actions:pool", args=[own.pk])
    assert browser(w.rssi_a1).post(url, {"members": [w.est_a1.pk]}).status_code == 403
    assert browser(w.reader).post(url, {"members": [w.est_a1.pk]}).status_code == 403
    assert browser(w.outsider).post(url, {"members": [w.est_a1.pk]}).status_code == 404
    assert ActionItem.objects.filter(organisation=w.ght_a).count() == 1


def test_the_original_establishment_is_always_a_member(world):
    line = item(world.est_a1, "Sauvegardes", ref_id="TECH.2")
    response = browser(world.editor).post(
        reverse("actions:pool", args=[line.pk]), {"members": [world.est_a2.pk]}
    )
    assert response.status_code == 200
    assert "CHU A1" in response.content.decode() and "en fait partie" in response.content.decode()
    assert not ActionItem.objects.filter(organisation=world.ght_a).exists()


def test_pooling_into_an_existing_ght_item_adds_members(pooled):
    w = pooled
    later = item(w.est_a1, "PSSI (suite)", ref_id="GOV.1")
    page = browser(w.editor).get(reverse("actions:pool", args=[later.pk])).content.decode()
    assert "PSSI commune" in page  # offered for reuse
    response = browser(w.editor).post(
        reverse("actions:pool", args=[later.pk]),
        {"into": w.ght_item.pk, "members": [w.est_a1.pk]},
    )
    assert response.status_code == 302
    assert ActionItem.objects.filter(organisation=w.ght_a).count() == 1
    assert w.ght_item.members.count() == 2


def test_coherence_flags_laggards(pooled):
    w = pooled
    client = browser(w.editor)
    client.post(reverse("actions:share", args=[w.share_a1.pk]), {"status": "done", "progress": 100})
    page = client.get(reverse("actions:coherence", args=[w.ght_a.pk])).content.decode()
    # Mean 70: CH A2 at 40 is 30 points behind.
    assert "moyenne 70 %" in page
    a2_row = page.split(f'data-member="{w.est_a2.pk}"')[1].split("</tr>")[0]
    a1_row = page.split(f'data-member="{w.est_a1.pk}"')[1].split("</tr>")[0]
    assert 'data-lagging="yes"' in a2_row and "en retard sur la moyenne" in a2_row
    assert 'data-lagging="no"' in a1_row


def test_coherence_flags_members_past_the_due_date(pooled):
    w = pooled
    w.ght_item.due_on = dt.date(2020, 1, 1)
    w.ght_item.save()
    page = browser(w.editor).get(reverse("actions:coherence", args=[w.ght_a.pk])).content
    assert page.decode().count("échéance dépassée") == 2


def test_coherence_is_for_ghts_and_their_readers(pooled):
    w = pooled
    url = reverse("actions:coherence", args=[w.ght_a.pk])
    assert browser(w.reader).get(url).status_code == 200
    assert browser(w.outsider).get(url).status_code == 404
    assert browser(w.analyst).get(url).status_code == 404
    est_url = reverse("actions:coherence", args=[w.est_a1.pk])
    assert browser(w.editor).get(est_url).status_code == 404
