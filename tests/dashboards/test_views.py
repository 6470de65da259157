"""Dashboard pages: who reaches which level, what each shows, downloads, query counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from hygie.assessments.models import Answer
from hygie.core.models import AuditEvent
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import VIEW, Role
from tests import factories
from tests.dashboards.builders import big_ght, ght_world
from tests.governance import campaign

pytestmark = pytest.mark.django_db

MASKED = "moins de 5 établissements : masqué"


def url(node, **query):
    base = reverse("dashboards:dashboard", args=[node.pk])
    if query:
        base += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return base


def main_content(response) -> str:
    """The page's own content: the layout's organisation switcher lists the tree, which
    aggregate roles may browse (decision 0002); the dashboard itself must name no one."""
    body = response.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def recent(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


@pytest.fixture
def region_world(world):
    """Region A with GHT A (2 members), GHT C (5 members) and the clinic, all assessed lately."""
    framework = ght_world(world)
    big_ght(world, starts_on=recent(30))
    return framework


def test_ght_dashboard_names_members_and_who_lags(world, client_for):
    framework = ght_world(world)
    response = client_for(world.editor).get(url(world.ght_a, referentiel=framework.pk))
    assert response.status_code == 200
    body = response.content.decode()
    # The member × theme heatmap, as a picture and as a table.
    assert 'data-chart="chart-heatmap"' in body
    assert "CHU A1" in body and "CH A2" in body
    table = body[body.index('data-testid="table-lagging"') :]
    assert "CH A2" in table and "GOV Gouvernance" in table
    assert 'data-chart="chart-themes"' in body and 'data-chart="chart-adoption"' in body


def test_reader_sees_an_establishment_dashboard(world, client_for):
    framework = ght_world(world)
    response = client_for(world.reader).get(url(world.est_a1, referentiel=framework.pk))
    assert response.status_code == 200
    assert 'data-testid="mean-score">75,0 %' in response.content.decode()


def test_region_dashboard_is_aggregate_only(world, client_for, region_world):
    response = client_for(world.analyst).get(url(world.region_a))
    assert response.status_code == 200
    body = main_content(response)
    assert "GHT C" in body  # a group of five: shown
    assert MASKED in body  # GHT A and the clinic alone: masked
    for name in ["CHU A1", "CH A2", "Clinique hors GHT", "GHT C membre"]:
        assert name not in body, f"the regional view names {name!r}"
    assert 'data-testid="mean-score">79,8 %' in body


def test_small_region_shows_nothing(world, client_for):
    framework = ght_world(world)  # region A: three establishments only
    national = factories.user("analyste-fr", role=Role.NATIONAL_ANALYST, at=world.national)
    response = client_for(national).get(url(world.region_a, referentiel=framework.pk))
    body = main_content(response)
    assert 'data-testid="level-masked"' in body
    assert "CHU A1" not in body and "GHT A" not in body
    assert "data-chart=" not in body


def test_analyst_reaches_no_establishment_data(world, client_for, region_world):
    client = client_for(world.analyst)
    for node in (world.ght_a, world.est_a1, world.clinic):
        assert client.get(url(node)).status_code == 404
    # France is above the analyst's region.
    assert client.get(url(world.national)).status_code == 404
    # The choke point the assessment pages go through gives the analyst no answer at all.
    assert not Answer.objects.visible_to(world.analyst, VIEW).exists()


def test_other_tenants_get_404(world, client_for):
    framework = ght_world(world)
    outsider = client_for(world.outsider)
    assert outsider.get(url(world.ght_a, referentiel=framework.pk)).status_code == 404
    assert outsider.get(url(world.est_a1)).status_code == 404
    editor = client_for(world.editor)
    assert editor.get(url(world.region_a)).status_code == 404
    assert editor.get(url(world.site_a1)).status_code == 404  # no dashboard below establishments


def test_unknown_framework_or_chart_is_404(world, client_for):
    framework = ght_world(world)
    client = client_for(world.editor)
    assert client.get(url(world.ght_a, referentiel=999999)).status_code == 404
    assert client.get(url(world.ght_a, format="csv", chart="nope")).status_code == 404
    assert (
        client.get(
            url(world.ght_a, referentiel=framework.pk, format="pdf", chart="themes")
        ).status_code
        == 404
    )


def test_csv_download_of_the_adoption_chart(world, client_for, region_world):
    response = client_for(world.analyst).get(
        url(world.region_a, referentiel=region_world.pk, format="csv", chart="adoption")
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mesure;Conformes (%)")
    assert lines[1].split(";")[:6] == [
        "GOV.1 Politique de sécurité signée",
        "57.1",
        "28.6",
        "4",
        "2",
        "7",
    ]
    event = AuditEvent.objects.filter(action="dashboards.exported").latest("pk")
    assert event.details["chart"] == "adoption"


def test_xlsx_download_keeps_small_groups_masked(world, client_for, region_world):
    response = client_for(world.analyst).get(
        url(world.region_a, referentiel=region_world.pk, format="xlsx", chart="groups")
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["GHT C"][1:4] == (5, 5, 90)
    assert rows["GHT A"][2] == MASKED and rows["GHT A"][3] in (None, "")
    text = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
    assert "CH A2" not in text and "CHU A1" not in text


def test_heatmap_download_masks_small_groups(world, client_for, region_world):
    response = client_for(world.analyst).get(
        url(world.region_a, referentiel=region_world.pk, format="csv", chart="heatmap")
    )
    rows = [line.split(";") for line in response.content.decode("utf-8-sig").splitlines()]
    by_group = {row[0]: row[1:] for row in rows[1:]}
    assert by_group["GHT C"] == ["5", "85.0", "100.0"]
    assert by_group["GHT A"] == ["2", MASKED, MASKED]


def test_downloads_neutralise_spreadsheet_formulas(world, client_for):
    framework = ght_world(world)
    Organisation.objects.filter(pk=world.est_a2.pk).update(name='=HYPERLINK("http://x")')
    response = client_for(world.editor).get(
        url(world.ght_a, referentiel=framework.pk, format="csv", chart="lagging")
    )
    assert "'=HYPERLINK" in response.content.decode("utf-8-sig")
    response = client_for(world.editor).get(
        url(world.ght_a, referentiel=framework.pk, format="xlsx", chart="lagging")
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A2"].value.startswith("'=") and sheet["A2"].data_type == "s"


@pytest.mark.parametrize("level", ["ght", "region", "national"])
def test_page_query_count_does_not_grow(world, client_for, level):
    framework = ght_world(world)
    ght, _members = big_ght(world, starts_on=recent(30))
    user = factories.user("admin", is_superuser=True)
    node = {"ght": ght, "region": world.region_a, "national": world.national}[level]
    client = client_for(user)
    client.get(url(node, referentiel=framework.pk))  # warm-up: session, caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(node, referentiel=framework.pk)).status_code == 200
        return len(queries)

    small = count()
    for index in range(6):
        est = factories.org(Kind.ESTABLISHMENT, ght, name=f"Nouveau {index}")
        campaign(est, framework, starts_on=recent(10), results={"GOV.1": "compliant"})
    assert count() == small
