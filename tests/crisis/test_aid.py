"""GHT solidarity: who sees an aid request, who may offer, the requester's decision, and the
ARS's aggregate picture."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hygie.crisis import aid
from hygie.crisis.models import AidOffer, AidRequest, AidStatus, OfferStatus
from hygie.orgs.roles import Role
from tests import factories
from tests.clients import browser
from tests.crisis.test_incidents import make_incident


@pytest.fixture
def attack(world):
    """CHU A1 under attack asks GHT A for imaging continuity; CH A2 is its sibling."""
    world.rssi_a1 = factories.user("rssi-a1", role=Role.RSSI, at=world.est_a1)
    world.rssi_a2 = factories.user("rssi-a2", role=Role.RSSI, at=world.est_a2)
    world.incident = make_incident(
        world.est_a1, title="Rançongiciel confidentiel A1", actor=world.rssi_a1
    )
    browser(world.rssi_a1).post(
        reverse("crisis:aid_request_create", args=[world.incident.pk]),
        {"kind": "imaging", "description": "Interprétation des scanners des urgences"},
    )
    world.aid_request = AidRequest.objects.get()
    return world


@pytest.mark.django_db
def test_sibling_sees_the_need_but_not_the_incident_and_offers(attack):
    w = attack
    sibling = browser(w.rssi_a2)
    page = sibling.get(reverse("crisis:aid_board", args=[w.est_a2.pk])).content.decode()
    assert "Interprétation des scanners des urgences" in page
    assert "CHU A1" in page
    assert "Rançongiciel confidentiel A1" not in page
    # The incident itself stays the requester's.
    assert sibling.get(reverse("crisis:incident_detail", args=[w.incident.pk])).status_code == 404

    response = sibling.post(
        reverse("crisis:aid_offer_create", args=[w.aid_request.pk]),
        {"organisation": w.est_a2.pk, "description": "Deux radiologues en télé-interprétation"},
    )
    assert response.status_code == 302
    offer = AidOffer.objects.get()
    assert offer.organisation == w.est_a2 and offer.offered_by == w.rssi_a2
    assert w.incident.log.filter(text__contains="Deux radiologues").exists()


@pytest.mark.django_db
def test_requester_accepts_an_offer_and_the_request_is_covered(attack):
    w = attack
    offer = aid.make_offer(
        w.aid_request, organisation=w.est_a2, description="Un manipulateur", actor=w.rssi_a2
    )
    requester = browser(w.rssi_a1)
    page = requester.get(reverse("crisis:incident_detail", args=[w.incident.pk])).content.decode()
    assert "CH A2 : Un manipulateur" in page
    # The sibling cannot decide on the requester's behalf.
    decide = reverse("crisis:aid_offer_decide", args=[offer.pk, "accepter"])
    assert browser(w.rssi_a2).post(decide).status_code == 404
    assert requester.post(decide).status_code == 302
    offer.refresh_from_db()
    w.aid_request.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED and offer.decided_at is not None
    assert w.aid_request.status == AidStatus.COVERED
    # Answered once.
    requester.post(reverse("crisis:aid_offer_decide", args=[offer.pk, "decliner"]))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED


@pytest.mark.django_db
def test_another_ght_never_sees_the_request(attack):
    w = attack
    outsider = browser(w.outsider)
    page = outsider.get(reverse("crisis:aid_board", args=[w.est_b1.pk])).content.decode()
    assert "Interprétation des scanners" not in page
    assert not aid.requests_seen_by(w.outsider).exists()
    response = outsider.post(
        reverse("crisis:aid_offer_create", args=[w.aid_request.pk]),
        {"organisation": w.est_b1.pk, "description": "Intrus"},
    )
    assert response.status_code == 404
    assert not AidOffer.objects.exists()
    # A sibling cannot offer in the name of an establishment it does not run.
    with pytest.raises(aid.AidError):
        aid.make_offer(w.aid_request, organisation=w.est_b1, description="x", actor=w.rssi_a2)


@pytest.mark.django_db
def test_reader_sees_but_cannot_offer(attack):
    w = attack
    reader = browser(w.reader)
    page = reader.get(reverse("crisis:aid_board", args=[w.est_a2.pk])).content.decode()
    assert "Interprétation des scanners" in page and "Proposer" not in page
    response = reader.post(
        reverse("crisis:aid_offer_create", args=[w.aid_request.pk]),
        {"organisation": w.est_a2.pk, "description": "x"},
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_establishment_outside_any_ght_cannot_ask(world):
    incident = make_incident(world.clinic)
    with pytest.raises(aid.AidError, match="aucun GHT"):
        aid.request_aid(incident, kind="staff", description="Renfort")


@pytest.mark.django_db
def test_ars_sees_counts_without_names_or_details(attack):
    w = attack
    aid.make_offer(w.aid_request, organisation=w.est_a2, description="Aide", actor=w.rssi_a2)
    make_incident(w.est_b1, title="Incident autre région")
    analyst = browser(w.analyst)
    response = analyst.get(reverse("crisis:aid_region", args=[w.region_a.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="open-incidents">1<' in page
    assert "GHT A" in page and "Continuité de l&#x27;imagerie (1)" in page
    for secret in ("Rançongiciel confidentiel A1", "CHU A1", "CH A2", "Interprétation", "Aide"):
        assert secret not in page.replace("Entraide", "")
    # Another region's picture, and every incident page, stay closed to the analyst.
    assert analyst.get(reverse("crisis:aid_region", args=[w.region_b.pk])).status_code == 404
    assert analyst.get(reverse("crisis:aid_board", args=[w.est_a1.pk])).status_code == 404
    assert analyst.get(reverse("crisis:incident_detail", args=[w.incident.pk])).status_code == 404


@pytest.mark.django_db
def test_the_regional_picture_costs_the_same_queries_whatever_the_number_of_ghts(attack):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hygie.orgs.models import Kind

    w = attack

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            aid.regional_picture(w.region_a)
        return len(captured.captured_queries)

    before = queries()
    for n in range(3):
        ght = factories.org(Kind.GHT, w.region_a, name=f"GHT R{n}")
        member = factories.org(Kind.ESTABLISHMENT, ght, name=f"CH R{n}")
        factories.org(Kind.ESTABLISHMENT, ght, name=f"CH R{n} bis")
        aid.request_aid(make_incident(member), kind="pharmacy", description="Pharmacie")
    assert queries() == before
    picture = aid.regional_picture(w.region_a)
    assert [
        row["open_requests"] for row in picture["ghts"] if row["ght"].name.startswith("GHT R")
    ] == [
        1,
        1,
        1,
    ]


@pytest.mark.django_db
def test_the_requester_closes_a_request_and_siblings_no_longer_see_it_open(attack):
    w = attack
    requester = browser(w.editor)
    detail = reverse("crisis:incident_detail", args=[w.aid_request.incident_id])
    assert "Clore la demande" in requester.get(detail).content.decode()
    response = requester.post(reverse("crisis:aid_request_close", args=[w.aid_request.pk]))
    assert response.status_code == 302
    assert AidRequest.objects.get(pk=w.aid_request.pk).status == AidStatus.CLOSED
    assert "Clore la demande" not in requester.get(detail).content.decode()
    # A sibling that could offer help cannot close another member's request.
    sibling = browser(w.rssi_a2)
    closing = sibling.post(reverse("crisis:aid_request_close", args=[w.aid_request.pk]))
    assert closing.status_code == 404
