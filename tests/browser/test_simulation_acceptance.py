"""Acceptance of the attack-simulation issue, end to end with real components.

The RSSI prepares a campaign for two services in the browser and launches it; it is sent to a
real SMTP server by the sending worker's code; a recipient follows the link in the received
message in a browser of their own, types a password (nothing stored) and lands on the teachable
page; a colleague reports the message to the abuse mailbox on a real dovecot and is credited;
the RSSI completes the campaign and sees the service statistics and the corrective action.
(The worker-kill part of the acceptance is tests/phishing/test_worker_kill.py.)
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.core import serializers
from playwright.sync_api import expect

from hygie.actions.models import ActionItem
from hygie.mailreports import imap as imap_client
from hygie.mailreports.models import Mailbox, Security
from hygie.orgs.models import JobFamily, Kind
from hygie.phishing import tasks
from hygie.phishing.models import (
    CampaignStatus,
    CorrectiveRule,
    Event,
    EventKind,
    SendingProfile,
    Simulation,
)
from tests import factories
from tests.browser.helpers import log_in_with_totp
from tests.mailreports import corpus
from tests.services import smtp as smtp_service
from tests.services.imap import imap_server

pytestmark = pytest.mark.browser

TYPED = "Hopital-Secret-2026!"


@pytest.fixture
def relay():
    with smtp_service.smtp_server() as server:
        yield server


@pytest.fixture
def dovecot():
    with imap_server() as server:
        yield server


@pytest.fixture
def hospital(world, relay, dovecot, settings, live_server):
    w = world
    settings.SIMULATION_BASE_URL = live_server.url
    settings.SIMULATION_SCANNER_SECONDS = 0
    w.lab = factories.org(Kind.SERVICE, w.site_a1, name="Laboratoire de biologie")
    w.accounts = factories.org(Kind.SERVICE, w.site_a1, name="Bureau des entrées")
    w.lab_staff = [
        factories.staff(
            w.est_a1, service=w.lab, site=w.site_a1, job_family=JobFamily.MEDICO_TECHNICAL
        )
        for _ in range(6)
    ]
    w.accounts_staff = [
        factories.staff(
            w.est_a1, service=w.accounts, site=w.site_a1, job_family=JobFamily.ADMINISTRATIVE
        )
        for _ in range(5)
    ]
    SendingProfile.objects.create(
        organisation=w.est_a1,
        name="Relais interne",
        host=relay.host,
        port=relay.port,
        username=smtp_service.USERNAME,
        password=smtp_service.PASSWORD,
        from_address="informatique@chu-a.example",
        ca_certificate=relay.ca_pem,
        timeout=5,
    )
    w.mailbox = Mailbox.objects.create(
        organisation=w.est_a1,
        name="Signalements",
        host=dovecot.host,
        port=dovecot.port,
        security=Security.NONE,
        username=dovecot.username,
        password=dovecot.password,
        timeout=5,
        reply_address="securite@chu-a.example",
    )
    CorrectiveRule.objects.create(
        organisation=w.est_a1,
        name="Services qui cliquent",
        trigger="service_clicks",
        threshold=30,
        remedy="action_item",
    )
    return w


def link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://\S+/s/c/[A-Za-z0-9_-]+/", text).group(0)


def test_a_campaign_for_two_services_from_launch_to_corrective_action(
    page, browser, hospital, relay, dovecot
):
    w = hospital
    log_in_with_totp(page, w.editor)

    # The RSSI prepares the campaign in the browser.
    page.goto(f"/organisations/{w.est_a1.pk}/simulations/")
    page.get_by_test_id("simulation-create-link").click()
    page.get_by_label("Nom").fill("Campagne laboratoire et accueil")
    page.get_by_label("Profil d'envoi").select_option(label="Relais interne")
    page.get_by_label(re.compile("Résultats de laboratoire à valider")).check()
    page.get_by_label(re.compile("Facture fournisseur impayée")).check()
    page.get_by_label("Laboratoire de biologie", exact=True).check()
    page.get_by_label("Bureau des entrées", exact=True).check()
    for day in ("samedi", "dimanche"):
        page.get_by_label(day, exact=True).check()  # sendable whatever day the test runs
    page.get_by_label("Heure d'ouverture").fill("00:00")
    page.get_by_label("Heure de fermeture").fill("23:59")
    page.get_by_label("Messages par minute au plus").fill("0")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_test_id("preview-count")).to_have_text("11 personnes seront ciblées.")
    page.get_by_test_id("launch").click()
    expect(page.get_by_text("Campagne lancée : 11 destinataires")).to_be_visible()

    # The worker sends it through the real relay.
    simulation = Simulation.objects.get(name="Campagne laboratoire et accueil")
    report = tasks.send_simulation.call(simulation.pk)
    assert report["finished"] and len(relay.messages) == 11
    messages = {rcpts[0]: message for _sender, rcpts, message in relay.messages}

    # A lab technician follows the link of the message received, in their own browser.
    clicker = w.lab_staff[0]
    person = browser.new_context(locale="fr-FR")
    staff_page = person.new_page()
    staff_page.goto(link_in(messages[clicker.email]))
    form = staff_page.locator("form")
    for field in form.locator("input:not([type=hidden])").all():
        field.fill(TYPED)
    form.get_by_role("button").click()
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text("exercice")
    expect(staff_page.get_by_test_id("transparency-link")).to_be_visible()
    person.close()
    submitted = Event.objects.get(kind=EventKind.SUBMIT, recipient__email=clicker.email)
    assert submitted.fields and TYPED not in str(submitted.fields)
    for model in apps.get_models():
        if model._meta.app_label in {"phishing", "core", "mailreports", "accounts"}:
            dump = serializers.serialize("json", model._base_manager.all())
            assert TYPED not in dump, f"{model._meta.label} holds what was typed"
    # Two more lab clicks (3 of 6: 50 %), by the people themselves.
    for member in w.lab_staff[1:3]:
        staff_page = browser.new_context().new_page()
        staff_page.goto(link_in(messages[member.email]))
        staff_page.context.close()

    # A colleague of the accounts office reports it with "forward as attachment".
    reporter = w.accounts_staff[0]
    dovecot.append(corpus.forward_as_attachment(messages[reporter.email], reporter.email))
    outcome = imap_client.poll(w.mailbox)
    assert outcome.credited == 1
    credited = simulation.recipients.get(email=reporter.email)
    assert credited.reported_at is not None

    # The RSSI completes the campaign: statistics per service and the corrective action.
    page.goto(f"/simulations/{simulation.pk}/")
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("simulation-status")).to_contain_text("Terminée")
    outcomes = page.get_by_test_id("corrective-outcomes")
    expect(outcomes).to_contain_text("Laboratoire de biologie : 50 % de clics")
    expect(outcomes.get_by_role("link", name="Action créée")).to_be_visible()
    assert ActionItem.objects.filter(origin="simulation", organisation=w.est_a1).count() == 1

    page.get_by_test_id("results-link").click()
    lab_row = page.get_by_role("row").filter(has_text="Laboratoire de biologie").first
    expect(lab_row).to_contain_text("3")
    accounts_row = page.get_by_role("row").filter(has_text="Bureau des entrées").first
    expect(accounts_row).to_be_visible()
    simulation.refresh_from_db()
    assert simulation.status == CampaignStatus.COMPLETED
