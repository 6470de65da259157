"""Privacy by design: pseudonyms by default, names only for the RSSI/DSI and the DPO after a
journalled reveal, analysts see aggregates only, individual data erased after retention."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hygie.core.audit import verify_chain
from hygie.core.models import AuditEvent
from hygie.core.tasks import run_housekeeping
from hygie.orgs.models import Kind, Membership
from hygie.orgs.roles import Role
from hygie.phishing import privacy, results
from hygie.phishing.models import CampaignStatus, Event, EventKind, Recipient
from hygie.phishing.tracking import record
from tests import factories
from tests.clients import browser
from tests.phishing.results_data import campaign, people

pytestmark = pytest.mark.django_db
PSEUDONYM = re.compile(r"Personne [0-9A-F]{4}-[0-9A-F]{4}")
REASON = "Proposer la formation hameçonnage au service des urgences"


@pytest.fixture
def simulation(world):
    simulation = campaign(world.est_a1, "Bulletin de paie")
    people(
        simulation,
        6,
        establishment=world.est_a1,
        site=world.site_a1,
        service=world.service_a1,
        clicked=3,
        reported=2,
        last_name="Lefebvre",
    )
    return simulation


def people_page(user, simulation, client=None):
    client = client or browser(user)
    return client.get(reverse("phishing:results_people", args=[simulation.pk]))


# Pseudonyms ------------------------------------------------------------------------------------
def test_pseudonyms_are_stable_per_organisation_and_keyed(world, settings):
    first = privacy.pseudonym(world.est_a1.pk, 42, "a@example.org")
    assert PSEUDONYM.fullmatch(first)
    assert privacy.pseudonym(world.est_a1.pk, 42, "changed@example.org") == first
    assert privacy.pseudonym(world.est_a2.pk, 42, "a@example.org") != first
    assert privacy.pseudonym(world.est_a1.pk, None, "A@Example.org ") == privacy.pseudonym(
        world.est_a1.pk, None, "a@example.org"
    )
    settings.SIMULATION_PSEUDONYM_KEY = "une-autre-cle-de-pseudonymisation-tres-longue"
    assert privacy.pseudonym(world.est_a1.pk, 42, "a@example.org") != first


def test_individual_results_show_pseudonyms_not_names(world, simulation):
    body = people_page(world.editor, simulation).content.decode()
    assert len(set(PSEUDONYM.findall(body))) == 6
    assert "Lefebvre" not in body and "@example.org" not in body
    # The same person keeps their pseudonym in the organisation's next campaign.
    member = simulation.recipients.order_by("pk").first().staff
    again = campaign(world.est_a1, "Commande pharmacie", launched_days_ago=2)
    people(again, 5, establishment=world.est_a1, service=world.service_a1, staff=[member] * 1)
    later = people_page(world.editor, again).content.decode()
    assert privacy.pseudonym(world.est_a1.pk, member.pk, member.email) in body
    assert privacy.pseudonym(world.est_a1.pk, member.pk, member.email) in later


def test_readers_see_aggregates_but_not_individual_results(world, simulation):
    assert people_page(world.reader, simulation).status_code == 403
    page = browser(world.reader).get(reverse("phishing:results", args=[simulation.pk]))
    assert page.status_code == 200 and 'data-testid="people-link"' not in page.content.decode()


# Revealing names ----------------------------------------------------------------------------------
def reveal(client, simulation, reason=REASON):
    return client.post(reverse("phishing:results_reveal", args=[simulation.pk]), {"reason": reason})


def test_the_rssi_reveals_names_with_a_reason_and_it_is_journalled(world, simulation):
    client = browser(world.editor)
    assert 'data-testid="reveal"' in people_page(world.editor, simulation, client).content.decode()
    assert reveal(client, simulation).status_code == 302
    body = people_page(world.editor, simulation, client).content.decode()
    assert "Lefebvre" in body and 'data-testid="names-shown"' in body
    assert not PSEUDONYM.search(body)
    event = AuditEvent.objects.get(action="phishing.results_reveal")
    assert event.actor == world.editor and event.target_id == str(simulation.pk)
    assert event.details["reason"] == REASON
    assert event.organisation_id_at_event == world.est_a1.pk
    assert verify_chain().ok
    # Back to pseudonyms on request.
    client.post(reverse("phishing:results_reveal", args=[simulation.pk]), {"action": "hide"})
    assert "Lefebvre" not in people_page(world.editor, simulation, client).content.decode()


def test_no_reason_no_names(world, simulation):
    client = browser(world.editor)
    response = reveal(client, simulation, reason="  voir ")
    assert response.status_code == 302
    body = client.get(response["Location"]).content.decode()
    assert "Indiquez pourquoi" in body and "Lefebvre" not in body
    assert not AuditEvent.objects.filter(action="phishing.results_reveal").exists()


def test_a_reveal_lasts_a_quarter_of_an_hour(world, simulation):
    client = browser(world.editor)
    reveal(client, simulation)
    session = client.session
    session[privacy.REVEAL_SESSION_KEY] = {str(simulation.pk): time.time() - 1}
    session.save()
    assert "Lefebvre" not in people_page(world.editor, simulation, client).content.decode()


def test_the_dpo_may_reveal_other_programme_roles_may_not(world, simulation):
    dpo = factories.user("dpo-a1", role=Role.DPO, at=world.est_a1)
    client = browser(dpo)
    assert reveal(client, simulation).status_code == 302
    assert "Lefebvre" in people_page(dpo, simulation, client).content.decode()

    quality = factories.user("qualite-a1", role=Role.QUALITY, at=world.est_a1)
    client = browser(quality)
    page = people_page(quality, simulation, client)
    assert page.status_code == 200 and 'data-testid="reveal"' not in page.content.decode()
    assert reveal(client, simulation).status_code == 403
    assert AuditEvent.objects.filter(action="phishing.results_reveal").count() == 1


def test_a_reveal_ends_when_the_role_is_withdrawn(world, simulation):
    client = browser(world.editor)
    reveal(client, simulation)
    Membership.objects.filter(user=world.editor).update(role=Role.QUALITY)
    body = people_page(world.editor, simulation, client).content.decode()
    assert "Lefebvre" not in body and PSEUDONYM.search(body)


def test_another_organisation_cannot_reveal(world, simulation):
    assert reveal(browser(world.outsider), simulation).status_code == 404
    assert reveal(browser(world.analyst), simulation).status_code == 404
    assert not AuditEvent.objects.filter(action="phishing.results_reveal").exists()


# Analysts -----------------------------------------------------------------------------------------
def test_analysts_see_aggregates_across_five_establishments_and_never_a_name(world, simulation):
    client = browser(world.analyst)
    for name, args in [
        ("phishing:results", [simulation.pk]),
        ("phishing:results_csv", [simulation.pk]),
        ("phishing:results_people", [simulation.pk]),
        ("phishing:results_trends", [world.est_a1.pk]),
        ("phishing:transparency", [world.region_a.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    overview = reverse("phishing:results_overview", args=[world.region_a.pk])
    # One establishment with a campaign: masked.
    body = client.get(overview).content.decode()
    assert 'data-testid="overview-masked"' in body
    for index in range(4):
        other = factories.org(Kind.ESTABLISHMENT, world.region_a, name=f"CH Nord {index}")
        people(campaign(other, f"Campagne {index}"), 5, establishment=other, clicked=1)
    body = client.get(overview).content.decode()
    assert 'data-testid="overview-establishments">5<' in body
    assert 'data-testid="overview-sent">26<' in body
    main = body.split('id="contenu"')[1]
    for secret in ["Lefebvre", "Camille", "CHU A1", "CH Nord", "Urgences A1", "Personne "]:
        assert secret not in main, secret
    # An RSSI of a GHT holds no role at the region: no regional overview.
    assert browser(world.editor).get(overview).status_code == 404


# Retention ----------------------------------------------------------------------------------------
def test_individual_data_is_erased_after_retention_and_aggregates_stay(world, simulation, settings):
    settings.SIMULATION_RETENTION_DAYS = 30
    recent = campaign(world.est_a1, "Récente", launched_days_ago=20)
    people(recent, 5, establishment=world.est_a1, service=world.service_a1, clicked=1)
    running = campaign(world.est_a1, "En cours", launched_days_ago=90, status="running")
    people(running, 5, establishment=world.est_a1, clicked=1)
    clicker = simulation.recipients.filter(first_click_at__isnull=False).first()
    old_token = clicker.token
    record(clicker, EventKind.CLICK, at=clicker.first_click_at)
    before = results.simulation_results(simulation)
    Simulation = type(simulation)
    Simulation.objects.filter(pk=simulation.pk).update(
        completed_at=timezone.now() - timedelta(days=31)
    )

    counts = run_housekeeping()

    assert counts["simulation_individual_data"] == 6
    erased = Recipient.objects.filter(simulation=simulation)
    assert not Event.objects.filter(recipient__simulation=simulation).exists()
    assert all(r.staff_id is None and r.email.endswith("@efface.invalid") for r in erased)
    assert Recipient.objects.filter(simulation=recent, staff__isnull=False).count() == 5
    assert Recipient.objects.filter(simulation=running, staff__isnull=False).count() == 5
    # The old link leads nowhere now.
    assert Client().get(reverse("phishing:landing", args=[old_token])).status_code == 404
    after = results.simulation_results(simulation)
    assert after.total == before.total
    assert [b.rows for b in after.breakdowns] == [b.rows for b in before.breakdowns]
    event = AuditEvent.objects.get(action="phishing.individual_data_erased")
    assert event.details == {"recipients": 6, "retention_days": 30}
    # Nothing left to do on the next run (one query, however many old campaigns); the page
    # says the data is gone.
    with CaptureQueriesContext(connection) as queries:
        assert privacy.erase_expired_individual_data() == 0
    assert len(queries) == 1
    body = people_page(world.editor, simulation).content.decode()
    assert "ont été effacées le" in body and "Lefebvre" not in body
    assert body.count("effacé</span>") == 6


def test_a_cancelled_campaign_is_erased_from_its_last_date(world, settings):
    settings.SIMULATION_RETENTION_DAYS = 30
    cancelled = campaign(
        world.est_a1, "Annulée", launched_days_ago=45, status=CampaignStatus.CANCELLED
    )
    people(cancelled, 5, establishment=world.est_a1)
    assert privacy.erase_expired_individual_data() == 5


# Transparency page ------------------------------------------------------------------------------
def test_the_transparency_page_tells_staff_what_is_kept_and_whom_to_ask(world, settings):
    settings.SIMULATION_RETENTION_DAYS = 180
    anonymous = Client()
    url = reverse("phishing:transparency", args=[world.est_a1.pk])
    body = anonymous.get(url).content.decode()
    assert "CHU A1" in body
    assert "n'est jamais lu ni conservé" in body
    assert "180 jours" in body
    assert "délégué à la protection des données de votre établissement" in body
    factories.user("dpo-ght", role=Role.DPO, at=world.ght_a, first_name="Inès", last_name="Moreau")
    body = anonymous.get(url).content.decode()
    assert "Inès Moreau" in body and "mailto:dpo-ght@example.org" in body
    for node in (world.service_a1, world.region_a):
        assert anonymous.get(reverse("phishing:transparency", args=[node.pk])).status_code == 404


def test_the_teachable_page_links_to_the_transparency_page(world, simulation):
    recipient = simulation.recipients.first()
    page = Client().get(reverse("phishing:teachable", args=[recipient.token]))
    link = reverse("phishing:transparency", args=[world.est_a1.pk])
    assert f'href="{link}"' in page.content.decode()
