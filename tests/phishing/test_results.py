"""A campaign's results per service, job family, site and establishment: people counted once,
mail scanners never counted, small groups masked, a CSV of the same tables."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse

from hygie.core.models import AuditEvent
from hygie.orgs.models import JobFamily, Kind
from hygie.phishing import results, tracking
from hygie.phishing.models import EventKind
from tests import factories
from tests.clients import browser
from tests.phishing.results_data import campaign, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_services(world):
    """Urgences A1: 10 people (4 clicked, 1 typed, 3 reported); Pharmacie: 8 people, 2 not
    sent yet, 1 clicked, 3 reported."""
    world.pharmacy = factories.org(Kind.SERVICE, world.site_a1, name="Pharmacie A1")
    simulation = campaign(world.est_a1, "Résultats de laboratoire")
    people(
        simulation,
        10,
        establishment=world.est_a1,
        site=world.site_a1,
        service=world.service_a1,
        opened=6,
        clicked=4,
        submitted=1,
        reported=3,
        click_after=timedelta(minutes=12),
        report_after=timedelta(minutes=40),
    )
    people(
        simulation,
        8,
        sent=6,
        establishment=world.est_a1,
        site=world.site_a1,
        service=world.pharmacy,
        job_family=JobFamily.MEDICO_TECHNICAL,
        clicked=1,
        reported=5,
        report_after=timedelta(hours=2),
    )
    return simulation


def row(breakdown, label):
    return next(r for r in breakdown.rows if r.label == label)


def test_figures_per_service_job_family_and_site(world, two_services):
    figures = results.simulation_results(two_services)
    total = figures.total
    assert (total.targeted, total.sent, total.opened, total.clicked) == (18, 16, 7, 5)
    assert (total.submitted, total.reported) == (1, 6)
    # 5 of 16 messages sent were clicked; rates are shares of what was sent.
    assert total.click_rate == 31.2 and total.report_rate == 37.5
    urgences = row(figures.breakdown("service"), "Urgences A1")
    assert (urgences.targeted, urgences.clicked, urgences.reported) == (10, 4, 3)
    assert urgences.click_median == timedelta(minutes=12)
    assert urgences.report_median == timedelta(minutes=40)
    pharmacy = row(figures.breakdown("service"), "Pharmacie A1")
    assert (pharmacy.sent, pharmacy.reported, pharmacy.report_rate) == (6, 3, 50.0)
    medico = row(figures.breakdown("job_family"), "Médico-technique")
    assert medico.targeted == 8
    site = row(figures.breakdown("site"), "Site principal A1")
    assert site.targeted == 18
    # An establishment's campaign has no per-establishment breakdown.
    assert figures.breakdown("establishment") is None


def test_the_page_shows_the_tables_and_bars(world, two_services):
    page = browser(world.reader).get(reverse("phishing:results", args=[two_services.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="total-targeted">18<' in body
    assert "Urgences A1" in body and "Pharmacie A1" in body
    assert 'data-chart="chart-clicks"' in body and 'data-chart="chart-reports"' in body
    assert "12 min" in body and "40 min" in body  # median delays
    assert "<script" not in body.split("<main")[1]  # no chart library
    assert "données individuelles conservées jusqu'au" in body.replace("&#x27;", "'")


def test_no_bars_when_every_service_is_masked(world):
    simulation = campaign(world.est_a1, "Deux petits services")
    people(simulation, 7, establishment=world.est_a1, service=world.service_a1, clicked=3)
    people(simulation, 3, establishment=world.est_a1, clicked=1)
    body = browser(world.editor).get(reverse("phishing:results", args=[simulation.pk]))
    assert 'data-chart="chart-clicks"' not in body.content.decode()
    assert 'data-testid="total-clicked">4<' in body.content.decode()


def test_mail_scanner_clicks_never_count(world, two_services):
    figures = results.simulation_results(two_services)
    quiet = two_services.recipients.filter(first_click_at__isnull=True, sent_at__isnull=False)[0]
    scanner = RequestFactory().head("/", HTTP_USER_AGENT="Mozilla/5.0")
    tracking.record(quiet, EventKind.CLICK, scanner)
    bot = RequestFactory().get("/", HTTP_USER_AGENT="Mozilla/5.0 (compatible; scanner)")
    tracking.record(quiet, EventKind.OPEN, bot)
    assert quiet.events.filter(automated=True).count() == 2
    after = results.simulation_results(two_services)
    assert after.total.clicked == figures.total.clicked
    assert after.total.opened == figures.total.opened


def test_small_groups_are_masked_with_their_complement(world, two_services):
    world.lab = factories.org(Kind.SERVICE, world.site_a1, name="Laboratoire A1")
    people(
        two_services,
        3,
        establishment=world.est_a1,
        site=world.site_a1,
        service=world.lab,
        job_family=JobFamily.MEDICAL,
        clicked=3,
    )
    services = results.simulation_results(two_services).breakdown("service")
    lab, pharmacy, urgences = (
        row(services, "Laboratoire A1"),
        row(services, "Pharmacie A1"),
        row(services, "Urgences A1"),
    )
    assert lab.masked and lab.clicked == 0 and lab.click_rate is None
    # Total minus the services shown would give the laboratory's clicks: the smallest other
    # service of the same site is masked too.
    assert pharmacy.masked and not urgences.masked
    families = results.simulation_results(two_services).breakdown("job_family")
    assert row(families, "Médical").masked and row(families, "Médico-technique").masked

    body = (
        browser(world.editor)
        .get(reverse("phishing:results", args=[two_services.pk]))
        .content.decode()
    )
    assert body.count('data-testid="row-masked"') == 4
    assert "moins de 5 personnes : masqué" in body


def test_a_campaign_of_fewer_than_five_people_shows_nothing(world):
    simulation = campaign(world.est_a1, "Petite campagne")
    people(simulation, 4, establishment=world.est_a1, service=world.service_a1, clicked=2)
    figures = results.simulation_results(simulation)
    assert figures.too_small and all(r.masked for b in figures.breakdowns for r in b.rows)
    body = browser(world.editor).get(reverse("phishing:results", args=[simulation.pk]))
    assert 'data-testid="campaign-masked"' in body.content.decode()
    assert 'data-testid="total-clicked"' not in body.content.decode()


def test_a_ght_campaign_is_broken_down_per_establishment(world):
    simulation = campaign(world.ght_a, "Campagne du GHT")
    people(simulation, 7, establishment=world.est_a1, service=world.service_a1, clicked=2)
    people(simulation, 6, establishment=world.est_a2, clicked=1, reported=2)
    establishments = results.simulation_results(simulation).breakdown("establishment")
    assert [(r.label, r.targeted, r.clicked) for r in establishments.rows] == [
        ("CH A2", 6, 1),
        ("CHU A1", 7, 2),
    ]
    services = results.simulation_results(simulation).breakdown("service")
    assert [(r.label, r.targeted) for r in services.rows] == [
        ("Urgences A1", 7),
        ("Non renseigné", 6),
    ]


def test_csv_export_is_the_same_tables_formulas_neutralised_and_journalled(world, two_services):
    world.service_a1.name = '=HYPERLINK("http://evil")'
    world.service_a1.save()
    response = browser(world.reader).get(reverse("phishing:results_csv", args=[two_services.pk]))
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:3] == ["Répartition", "Groupe", "Ciblés"]
    service_rows = [line for line in lines if line[0] == "Par service"]
    evil = next(line for line in service_rows if "evil" in line[1])
    assert evil[1:8] == ['\'=HYPERLINK("http://evil")', "10", "10", "6", "4", "1", "3"]
    assert evil[8:11] == ["40,0", "30,0", "12,0"]
    assert AuditEvent.objects.filter(
        action="phishing.results_exported", target_id=str(two_services.pk)
    ).exists()


def test_another_organisation_and_analysts_get_404(world, two_services):
    for user in (world.outsider, world.analyst, world.nobody):
        client = browser(user)
        for name in ("phishing:results", "phishing:results_csv", "phishing:results_people"):
            assert client.get(reverse(name, args=[two_services.pk])).status_code == 404, (
                user,
                name,
            )


def test_delays_read_like_people_say_them():
    assert results.delay_text(None) == "—"
    assert results.delay_text(timedelta(seconds=45)) == "45 s"
    assert results.delay_text(timedelta(minutes=12, seconds=30)) == "12 min"
    assert results.delay_text(timedelta(hours=3, minutes=5)) == "3 h 05"
    assert results.delay_text(timedelta(days=2, hours=4)) == "2 j 4 h"
