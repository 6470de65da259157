"""Tracking pages: campaign life cycle, the progress dashboard, the HR export, the LRS settings."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.urls import reverse

from hygie.awareness import services
from hygie.awareness.models import (
    Assignment,
    Campaign,
    CampaignKind,
    LearningRecordStore,
    State,
)
from hygie.orgs.models import JobFamily, Kind
from tests import factories
from tests.awareness.tracking_data import campaign, module, people, set_states
from tests.clients import browser

pytestmark = pytest.mark.django_db


def services_with_people(w, count: int, per_service: int = 6):
    """`count` services of CHU A1 with `per_service` carers each, all assigned one module;
    half of each service has passed it."""
    made = []
    for index in range(count):
        service = factories.org(Kind.SERVICE, w.site_a1, name=f"Service {index:02d}")
        people(w.est_a1, per_service, service=service, site=w.site_a1)
        made.append(service)
    annual = campaign(w.est_a1, module(), kind=CampaignKind.ANNUAL, due_date="2020-01-01")
    services.open_campaign(annual)
    for service in made:
        mine = list(Assignment.objects.filter(service=service).order_by("pk"))
        set_states(mine[: per_service // 2], State.PASSED, score=90)
    return made


def _body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.mark.parametrize("count", [2, 20])
def test_the_dashboard_has_a_constant_query_count(world, client_for, count,
                                                  django_assert_num_queries):  # fmt: skip
    services_with_people(world, count)
    client = client_for(world.editor)
    url = reverse("awareness:progress", args=[world.est_a1.pk])
    client.get(url)  # warm the session and content types
    # The layout's (session, user, memberships, organisation switcher) and the page's own:
    # the node, one count for every breakdown and one for their names, the trend, the
    # coverage, the overdue list.
    with django_assert_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert all(f"Service {index:02d}" in page for index in range(count))


def test_the_rssi_sees_each_service_progress_with_bars_and_the_overdue_list(world, client_for):
    made = services_with_people(world, 2)
    body = client_for(world.editor).get(reverse("awareness:progress", args=[world.est_a1.pk]))
    page = body.content.decode()
    assert "Service 00" in page and "50,0 %" in page
    assert 'data-chart="chart-service"' in page and 'data-chart="chart-trend"' in page
    overdue_name = Assignment.objects.filter(service=made[0], state=State.NOT_ATTEMPTED)[0]
    assert overdue_name.staff.last_name in page, "the overdue list names people"


def test_an_analyst_sees_figures_without_names_and_small_groups_masked(world, client_for):
    services_with_people(world, 2)
    tiny = factories.org(Kind.SERVICE, world.site_a1, name="Standard")
    people(world.est_a1, 2, service=tiny, site=world.site_a1, job_family=JobFamily.DIRECTION)
    services.assign(Campaign.objects.get())
    response = client_for(world.analyst).get(reverse("awareness:progress", args=[world.est_a1.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "Vue agrégée" in page
    assert "Standard" in page and "moins de 5 personnes : masqué" in page
    assert "Martin" not in page, "no name"
    assert "export.csv" not in page
    regional = client_for(world.analyst).get(
        reverse("awareness:progress", args=[world.region_a.pk])
    )
    assert 'data-testid="all-masked"' in regional.content.decode(), "one establishment: masked"


def test_the_hr_export_has_one_row_per_person_and_module_and_defuses_formulas(world, client_for):
    w = world
    w.staff_a1.last_name = '=HYPERLINK("http://x")'
    w.staff_a1.external_id = "M0042"
    w.staff_a1.save()
    annual = campaign(w.est_a1, module(title="Phrases de passe"), kind=CampaignKind.ANNUAL,
                      due_date="2030-01-01")  # fmt: skip
    services.open_campaign(annual)
    Assignment.objects.filter(staff=w.staff_a1).update(
        state=State.PASSED, best_score=85, certificate_number="M-2026-000001",
        completed_at="2026-03-02T10:00:00+01:00",
    )  # fmt: skip
    response = client_for(w.editor).get(reverse("awareness:progress_csv", args=[w.est_a1.pk]))
    rows = list(csv.reader(io.StringIO(_body(response)), delimiter=";"))
    assert rows[0][:5] == ["nom", "prénom", "identifiant", "établissement", "service"]
    assert rows[1][0].startswith("'="), "a formula is neutralised"
    assert rows[1][2:] == [
        "M0042", "CHU A1", "Urgences A1", "Phrases de passe", "1", "Réussi", "85",
        "02/03/2026", "M-2026-000001", "01/01/2030", annual.name,
    ]  # fmt: skip
    assert len(rows) == 2, "the other GHT's staff are not exported"


def test_a_campaign_goes_from_draft_to_closed_through_the_pages(world):
    w = world
    mod = module(title="Le bon réflexe")
    client = browser(w.editor)
    response = client.post(
        reverse("awareness:campaign_create", args=[w.est_a1.pk]),
        {"name": "Urgences 2026", "kind": "targeted", "modules": [mod.pk],
         "target_services": [w.service_a1.pk], "reminder_days": "15, 3", "due_days": 30},
    )  # fmt: skip
    assert response.status_code == 200, "the due date is missing"
    assert "Indiquez une échéance." in response.content.decode()
    response = client.post(
        reverse("awareness:campaign_create", args=[w.est_a1.pk]),
        {"name": "Urgences 2026", "kind": "targeted", "modules": [mod.pk],
         "target_services": [w.service_a1.pk], "reminder_days": "15, 3, 0", "due_days": 30,
         "due_date": "2026-09-30"},
    )  # fmt: skip
    assert "« 0 » : un nombre de jours entre 1 et 90" in response.content.decode()
    response = client.post(
        reverse("awareness:campaign_create", args=[w.est_a1.pk]),
        {"name": "Urgences 2026", "kind": "targeted", "modules": [mod.pk],
         "target_services": [w.service_a1.pk], "reminder_days": "3, 15", "due_days": 30,
         "due_date": "2026-09-30"},
    )  # fmt: skip
    created = Campaign.objects.get(name="Urgences 2026")
    assert created.reminder_days == [15, 3]
    detail = client.get(response.headers["Location"]).content.decode()
    assert 'data-testid="preview-total">1<' in detail and "Urgences A1" in detail
    client.post(reverse("awareness:campaign_open", args=[created.pk]))
    assert Assignment.objects.filter(campaign=created).count() == 1
    client.post(reverse("awareness:campaign_close", args=[created.pk]))
    created.refresh_from_db()
    assert created.status == "closed"
    assert client.get(reverse("awareness:campaign_edit", args=[created.pk])).status_code == 302


def test_the_lrs_secret_is_encrypted_at_rest_and_never_shown(world):
    client = browser(world.editor)
    url = reverse("awareness:xapi_settings", args=[world.est_a1.pk])
    response = client.post(
        url, {"endpoint": "https://lrs.example/xapi/", "username": "hygie", "password": "s3cr3t!"}
    )
    assert response.status_code == 302
    store = LearningRecordStore.objects.get(organisation=world.est_a1)
    assert store.password == "s3cr3t!"
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM awareness_learningrecordstore")
        assert "s3cr3t!" not in cursor.fetchone()[0]
    assert "s3cr3t!" not in client.get(url).content.decode()
