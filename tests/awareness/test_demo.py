"""The demo's awareness programme: an annual campaign under way, a follow-up campaign, a past
session with its roll call and one to come, a kit relayed by most services."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hygie.awareness.demo import load_awareness_demo
from hygie.awareness.models import (
    Assignment,
    Attendance,
    Campaign,
    KitDistribution,
    SessionParticipant,
    State,
    TrainingSession,
)
from hygie.orgs.demo import load_demo
from hygie.orgs.models import Organisation
from tests.clients import browser

pytestmark = pytest.mark.django_db


def test_the_demo_shows_a_programme_under_way():
    load_demo()
    ght = Organisation.objects.get(code="GHT-DEMO-HDF")
    assert load_awareness_demo(ght) == 2
    assert load_awareness_demo(ght) == 0, "loaded once"

    annual = Campaign.objects.get(kind="annual")
    states = {state: annual.assignments.filter(state=state).count() for state in State.values}
    assigned = sum(states.values())
    assert assigned >= 3 * 500, "three modules for each of the CHU's staff"
    assert 0.45 < states[State.PASSED] / assigned < 0.65
    assert states[State.FAILED] and states[State.INCOMPLETE] and states[State.NOT_ATTEMPTED]
    follow_up = Campaign.objects.get(kind="targeted")
    assert follow_up.assignments.exists()
    assert set(follow_up.assignments.values_list("service__name", flat=True)) == {
        "Laboratoire de biologie médicale"
    }

    past, coming = TrainingSession.objects.order_by("starts_at")
    assert (
        SessionParticipant.objects.filter(session=past, attendance=Attendance.PRESENT).count() == 10
    )
    assert coming.participants.count() == 11
    # Present people were given the session's practice modules.
    present = SessionParticipant.objects.filter(session=past, attendance=Attendance.PRESENT)
    assert (
        Assignment.objects.filter(
            staff__in=present.values("staff"), module__slug="appel-ingenierie-sociale"
        ).count()
        == 10
    )
    assert KitDistribution.objects.filter(acknowledged_at__isnull=False).count() == 4

    rssi = get_user_model().objects.get(username="rssi")
    chu = annual.organisation
    page = browser(rssi).get(reverse("awareness:progress", args=[chu.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        f'data-testid="total-assigned">{Assignment.objects.filter(establishment=chu).count()}<'
        in text
    )
    assert "Laboratoire de biologie médicale" in text
