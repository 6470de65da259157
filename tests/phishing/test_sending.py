"""Sending a simulation: the schedule, the messages on a real SMTP server, the send log."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from hygie.assessments.models import Fact
from hygie.orgs.models import JobFamily, Kind
from hygie.phishing import sending, services, tasks
from hygie.phishing.lures import get_lure
from hygie.phishing.models import (
    CampaignStatus,
    CustomLure,
    Recipient,
    SendingProfile,
    SendStatus,
    Simulation,
)
from tests import factories
from tests.services import smtp as smtp_service

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


@pytest.fixture
def relay():
    with smtp_service.smtp_server() as server:
        yield server


@pytest.fixture
def campaign(world, relay):
    """A campaign of CHU A1 for its laboratory and its accounts office, sendable right now."""
    w = world
    w.lab = factories.org(Kind.SERVICE, w.site_a1, name="Laboratoire de biologie")
    w.accounts = factories.org(Kind.SERVICE, w.site_a1, name="Bureau des entrées")
    for _ in range(4):
        factories.staff(
            w.est_a1, service=w.lab, site=w.site_a1, job_family=JobFamily.MEDICO_TECHNICAL
        )
    for _ in range(3):
        factories.staff(
            w.est_a1, service=w.accounts, site=w.site_a1, job_family=JobFamily.ADMINISTRATIVE
        )
    factories.staff(w.est_a1, service=w.lab, email="pas-une-adresse")
    w.profile = SendingProfile.objects.create(
        organisation=w.est_a1,
        name="Relais",
        host=relay.host,
        port=relay.port,
        username=smtp_service.USERNAME,
        password=smtp_service.PASSWORD,
        from_address="informatique@chu-a.example",
        ca_certificate=relay.ca_pem,
    )
    w.simulation = Simulation.objects.create(
        organisation=w.est_a1,
        name="Printemps",
        sending_profile=w.profile,
        lures=["resultats-laboratoire", "facture-fournisseur"],
        target_services=[w.lab.pk, w.accounts.pk],
        business_start=time(0, 0),
        business_end=time(23, 59, 59),
        business_days=EVERY_DAY,
        rate_per_minute=0,
    )
    return w


def run_until_done(simulation, rounds=10):
    for _ in range(rounds):
        # Through the task the workers run, which also records the campaign as evidence.
        report = tasks.send_simulation.call(simulation.pk)
        if report["finished"] or report["next_run"] is None:
            return report
        Recipient.objects.filter(simulation=simulation, send_status=SendStatus.RETRY).update(
            scheduled_at=timezone.now()
        )
    raise AssertionError("the campaign did not finish")


# ------------------------------------------------------------------ schedule


def moment(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


def test_schedule_spreads_messages_over_business_hours_only(world):
    simulation = Simulation(
        business_start=time(9, 0),
        business_end=time(12, 0),
        business_days=[0, 1, 2, 3, 4],
        rate_per_minute=10,
        send_from=moment(4, 10),  # a Friday, 10:00
        send_until=moment(8, 12),  # the next Tuesday, noon
    )
    moments = sending.schedule(simulation, 300, now=moment(1, 8), seed=7)
    assert len(moments) == 300
    local = [timezone.localtime(m, PARIS) for m in moments]
    assert all(m.weekday() < 5 for m in local), "nothing on Saturday or Sunday"
    assert all(time(9, 0) <= m.time() <= time(12, 0) for m in local)
    assert local[0] >= moment(4, 10) and local[-1] <= moment(8, 12)
    gaps = [(b - a).total_seconds() for a, b in zip(moments, moments[1:], strict=False)]
    assert min(gaps) >= 6 - 1e-6, "never faster than 10 a minute"
    # Random, not bunched at the start: every business day of the period gets some.
    assert {m.date().day for m in local} == {4, 7, 8}
    assert sending.schedule(simulation, 300, now=moment(1, 8), seed=7) == moments


def test_schedule_refuses_a_period_too_short_for_the_rate(world):
    simulation = Simulation(
        business_start=time(9, 0),
        business_end=time(10, 0),
        business_days=[0, 1, 2, 3, 4],
        rate_per_minute=1,
        send_from=moment(7, 9),
        send_until=moment(7, 18),
    )
    with pytest.raises(sending.ScheduleError) as refused:
        sending.schedule(simulation, 120, now=moment(1, 8))
    message = str(refused.value)
    assert "1 messages par minute" in message and "120 messages" in message
    assert "1 h 00" in message  # what the period offers


def test_schedule_without_end_goes_as_fast_as_the_cap_from_the_next_opening(world):
    simulation = Simulation(
        business_start=time(8, 30),
        business_end=time(17, 30),
        business_days=[0, 1, 2, 3, 4],
        rate_per_minute=60,
    )
    saturday_night = moment(5, 22)
    moments = sending.schedule(simulation, 3, now=saturday_night)
    assert [timezone.localtime(m, PARIS) for m in moments] == [
        moment(7, 8, 30),
        moment(7, 8, 30) + timedelta(seconds=1),
        moment(7, 8, 30) + timedelta(seconds=2),
    ]


# ------------------------------------------------------------------ sending


def test_campaign_for_two_services_is_sent_through_the_real_relay(campaign, relay):
    w = campaign
    preparation = services.launch(w.simulation, actor=w.editor, seed=3)
    assert preparation.recipients == 7
    assert [e.reason for e in preparation.excluded] == ["adresse invalide : pas-une-adresse"]
    w.simulation.refresh_from_db()
    assert w.simulation.status == CampaignStatus.SCHEDULED

    report = run_until_done(w.simulation)

    assert report["finished"]
    w.simulation.refresh_from_db()
    assert w.simulation.status == CampaignStatus.RUNNING
    assert len(relay.messages) == 7
    recipients = {r.email: r for r in w.simulation.recipients.all()}
    for envelope_from, rcpts, message in relay.messages:
        assert envelope_from == "informatique@chu-a.example"
        (address,) = rcpts
        recipient = recipients[address]
        assert message["X-Hygie-Simulation"] == recipient.token
        assert message["Message-ID"] == recipient.message_id
        assert message["From"].endswith("@chu-a.example>")
        text = message.get_body(("plain",)).get_content()
        assert f"/s/c/{recipient.token}/" in text
        html = message.get_body(("html",)).get_content()
        assert f"/s/o/{recipient.token}.gif" in html
        assert "{{" not in text and "{{" not in html
        lure = get_lure(recipient.lure)
        if "{{prenom}}" in lure.text:
            assert recipient.staff.first_name in text
        assert "{{" not in str(message["From"])
    assert all(r.send_status == SendStatus.SENT and r.sent_at for r in recipients.values())
    # The lab gets the lab lure ("per service"), the accounts office the invoice.
    lab = {r.lure for r in recipients.values() if r.service_id == w.lab.pk}
    assert lab == {"resultats-laboratoire"}
    lab_message = next(m for _f, (a,), m in relay.messages if recipients[a].service_id == w.lab.pk)
    assert str(lab_message["From"]).startswith("Laboratoire de biologie - CHU A1 <")
    fact = Fact.objects.get(organisation=w.est_a1, source="phishing.campaign")
    assert "7 messages envoyés" in fact.summary


def test_temporary_refusal_is_retried_with_back_off_and_permanent_one_fails(campaign, relay):
    w = campaign
    services.launch(w.simulation, seed=1)
    relay.fail_with = [(451, "4.3.0 Try again later"), (550, "5.1.1 User unknown")]
    before = timezone.now()
    report = sending.run(w.simulation.pk, seconds=30)
    assert (report.sent, report.retried, report.failed) == (5, 1, 1)
    retry = w.simulation.recipients.get(send_status=SendStatus.RETRY)
    assert retry.attempts == 1 and "451" in retry.last_error
    assert retry.scheduled_at >= before + timedelta(seconds=sending.BACKOFF_BASE)
    failed = w.simulation.recipients.get(send_status=SendStatus.FAILED)
    assert "550" in failed.last_error and "User unknown" in failed.last_error
    assert report.next_run >= before + timedelta(seconds=sending.BACKOFF_BASE - 1)

    # Not due yet: a run now sends nothing more.
    assert sending.run(w.simulation.pk, seconds=30).sent == 0
    Recipient.objects.filter(pk=retry.pk).update(scheduled_at=timezone.now())
    report = sending.run(w.simulation.pk, seconds=30)
    assert report.sent == 1 and report.finished
    retry.refresh_from_db()
    assert retry.send_status == SendStatus.SENT and retry.attempts == 2
    assert len(relay.messages) == 6


def test_repeated_temporary_refusals_end_in_failure(campaign, relay, settings):
    settings.SIMULATION_MAX_ATTEMPTS = 2
    w = campaign
    w.simulation.target_services = [w.accounts.pk]
    w.simulation.save()
    services.launch(w.simulation, seed=1)
    relay.fail_with = [(421, "4.7.0 Busy")]
    assert sending.run(w.simulation.pk, seconds=30).retried == 1
    unlucky = w.simulation.recipients.get(send_status=SendStatus.RETRY)
    Recipient.objects.filter(pk=unlucky.pk).update(scheduled_at=timezone.now())
    relay.fail_with = [(421, "4.7.0 Busy")]
    report = sending.run(w.simulation.pk, seconds=30)
    assert (report.failed, report.finished) == (1, True)
    unlucky.refresh_from_db()
    assert unlucky.send_status == SendStatus.FAILED and unlucky.attempts == 2
    assert "421" in unlucky.last_error
    assert len(relay.messages) == 2


def test_rate_cap_limits_what_one_run_sends(campaign, relay):
    w = campaign
    w.simulation.rate_per_minute = 3
    w.simulation.send_until = timezone.now() + timedelta(hours=2)
    w.simulation.save()
    services.launch(w.simulation, seed=1)
    Recipient.objects.filter(simulation=w.simulation).update(scheduled_at=timezone.now())
    report = sending.run(w.simulation.pk, seconds=30)
    assert report.sent == 3
    assert report.next_run > timezone.now()


def test_pause_resume_and_cancel(campaign, relay):
    w = campaign
    services.launch(w.simulation, seed=1)
    services.pause(w.simulation, actor=w.editor)
    assert sending.run(w.simulation.pk, seconds=30).sent == 0
    assert relay.messages == []

    services.resume(w.simulation, actor=w.editor, seed=2)
    w.simulation.refresh_from_db()
    assert w.simulation.status == CampaignStatus.SCHEDULED
    later = timezone.now() + timedelta(hours=1)
    Recipient.objects.filter(simulation=w.simulation).update(scheduled_at=later)
    two = list(w.simulation.recipients.values_list("pk", flat=True)[:2])
    Recipient.objects.filter(pk__in=two).update(scheduled_at=timezone.now())
    assert sending.run(w.simulation.pk, seconds=30).sent == 2

    services.cancel(w.simulation, actor=w.editor)
    w.simulation.refresh_from_db()
    assert w.simulation.status == CampaignStatus.CANCELLED
    counts = sending.progress(w.simulation)
    assert counts[SendStatus.SENT] == 2 and counts[SendStatus.CANCELLED] == 5
    with pytest.raises(services.SimulationError):
        services.resume(w.simulation)


def test_claims_are_exclusive_and_a_dead_workers_claim_is_taken_back(campaign, settings):
    w = campaign
    services.launch(w.simulation, seed=1)
    Recipient.objects.filter(simulation=w.simulation).update(scheduled_at=timezone.now())
    first = sending.claim(w.simulation, limit=4, worker="a")
    second = sending.claim(w.simulation, limit=10, worker="b")
    assert len(first) == 4 and len(second) == 3
    assert not {r.pk for r in first} & {r.pk for r in second}

    settings.SIMULATION_CLAIM_LEASE = 60
    Recipient.objects.filter(claimed_by="a").update(
        claimed_at=timezone.now() - timedelta(seconds=61)
    )
    assert sending.release_stale_claims(w.simulation) == 4
    assert Recipient.objects.filter(claimed_by="b", send_status=SendStatus.CLAIMED).count() == 3


def test_launch_refuses_a_custom_lure_with_an_unknown_placeholder(campaign, relay):
    w = campaign
    custom = CustomLure.objects.create(
        organisation=w.ght_a,
        name="Colis en attente",
        sender_name="Service courrier",
        subject="Votre colis {{.FirstName}}",
        text="Bonjour {{prenom}}, suivez {{lien}} avant {{date_limite}}.",
        landing_title="Suivi",
        landing_fields=[{"name": "identifiant", "label": "Identifiant", "type": "text"}],
        teachable_title="C'était un exercice",
        teachable_body="Un colis inattendu est un signe.",
    )
    w.simulation.lures = [custom.key]
    w.simulation.save()
    with pytest.raises(services.SimulationError) as refused:
        services.launch(w.simulation)
    message = str(refused.value)
    assert "{{.FirstName}}" in message and "{{date_limite}}" in message
    assert "Colis en attente" in message
    w.simulation.refresh_from_db()
    assert w.simulation.status == CampaignStatus.DRAFT
    assert not w.simulation.recipients.exists(), "nothing half-prepared"
    assert relay.messages == []


def test_a_ght_lure_serves_its_members_but_not_another_ght(campaign, world):
    custom = CustomLure.objects.create(
        organisation=world.ght_b,
        name="Autre GHT",
        sender_name="X",
        subject="Objet",
        text="{{lien}}",
        landing_title="T",
        landing_fields=[{"name": "a", "label": "A", "type": "text"}],
        teachable_title="T",
        teachable_body="B",
    )
    campaign.simulation.lures = [custom.key]
    campaign.simulation.save()
    problems = services.launch_problems(campaign.simulation)
    assert problems == [f"Leurre introuvable : {custom.key}."]
    custom.organisation = world.ght_a
    custom.save()
    assert services.launch_problems(campaign.simulation) == []


def test_message_id_is_stable_per_recipient(campaign):
    services.launch(campaign.simulation, seed=1)
    recipient = campaign.simulation.recipients.first()
    first = sending.message_id(recipient, "chu-a.example")
    assert first == sending.message_id(recipient, "chu-a.example")
    assert re.fullmatch(r"<[0-9a-f]{32}@chu-a\.example>", first)


def test_observation_period_ends_the_campaign_and_it_becomes_evidence(campaign, relay):
    w = campaign
    services.launch(w.simulation, seed=1)
    run_until_done(w.simulation)
    w.simulation.refresh_from_db()
    assert tasks.complete_observed() == 0, "still observing"
    later = w.simulation.sent_out_at + timedelta(days=w.simulation.observe_days, minutes=1)
    assert tasks.complete_observed(now=later) == 1
    w.simulation.refresh_from_db()
    assert w.simulation.status == CampaignStatus.COMPLETED and w.simulation.completed_at


def test_a_campaign_whose_run_was_lost_gets_a_new_one(campaign):
    from django_tasks_db.models import DBTaskResult

    w = campaign
    services.launch(w.simulation, seed=1)
    runs = DBTaskResult.objects.filter(task_path=tasks.send_simulation.module_path)
    runs.delete()  # as when the worker running it was killed
    assert tasks.restart_stalled_sending() == 1
    assert runs.count() == 1
    assert tasks.restart_stalled_sending() == 0, "one waiting run is enough"


def test_pages_prepare_show_exclusions_and_launch(campaign, relay):
    from django.urls import reverse

    from tests.clients import browser

    w = campaign
    client = browser(w.editor)
    page = client.get(reverse("phishing:simulation", args=[w.simulation.pk]))
    html = page.content.decode()
    assert "7 personnes seront ciblées" in html
    assert "adresse invalide : pas-une-adresse" in html
    response = client.post(reverse("phishing:simulation_action", args=[w.simulation.pk, "lancer"]))
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Campagne lancée : 7 destinataires, 1 personnes écartées" in html
    assert "Programmée" in html
    client.post(reverse("phishing:simulation_action", args=[w.simulation.pk, "pause"]))
    w.simulation.refresh_from_db()
    assert w.simulation.status == CampaignStatus.PAUSED


def test_a_refused_launch_says_why_on_the_page(campaign):
    from django.urls import reverse

    from tests.clients import browser

    w = campaign
    w.simulation.send_until = timezone.now() - timedelta(days=1)
    w.simulation.save()
    client = browser(w.editor)
    response = client.post(
        reverse("phishing:simulation_action", args=[w.simulation.pk, "lancer"]), follow=True
    )
    assert "La fin de l&#x27;envoi est déjà passée." in response.content.decode()
    w.simulation.refresh_from_db()
    assert w.simulation.status == CampaignStatus.DRAFT


def test_accents_long_subjects_and_leading_dots_arrive_intact(campaign, relay):
    w = campaign
    subject = (
        "Résultats d'analyses à valider avant 17 h — patients du pôle médico-technique, "
        "{{service}} : dossier n° 2026-114 (urgence)"
    )
    custom = CustomLure.objects.create(
        organisation=w.est_a1,
        name="Accents",
        sender_name="Pôle santé — {{etablissement}}",
        sender_local_part="poles",
        subject=subject,
        text="Bonjour {{prenom}},\n.\n..ligne qui commence par des points\nÉtape : {{lien}}\n",
        html="<p>Été, {{prenom}} : <a href='{{lien}}'>ouvrir</a></p>{{pixel}}",
        landing_title="Connexion",
        landing_fields=[{"name": "identifiant", "label": "Identifiant", "type": "text"}],
        teachable_title="Exercice",
        teachable_body="Les signes.",
    )
    w.simulation.lures = [custom.key]
    w.simulation.target_services = [w.accounts.pk]
    w.simulation.save()
    services.launch(w.simulation, seed=1)
    run_until_done(w.simulation)
    assert len(relay.messages) == 3
    for _sender, (address,), message in relay.messages:
        recipient = w.simulation.recipients.get(email=address)
        assert message["Subject"] == (
            "Résultats d'analyses à valider avant 17 h — patients du pôle médico-technique, "
            "Bureau des entrées : dossier n° 2026-114 (urgence)"
        )
        assert message["From"].addresses[0].display_name == "Pôle santé — CHU A1"
        assert message["From"].addresses[0].addr_spec == "poles@chu-a.example"
        text = message.get_body(("plain",)).get_content()
        assert text.splitlines()[:3] == [
            f"Bonjour {recipient.staff.first_name},",
            ".",
            "..ligne qui commence par des points",
        ]
        assert f"Étape : http://127.0.0.1:8000/s/c/{recipient.token}/" in text
        html = message.get_body(("html",)).get_content()
        assert html.startswith(f"<p>Été, {recipient.staff.first_name} : <a href='")
        assert all(len(line) <= 998 for line in message.as_bytes().split(b"\n"))


def test_a_sender_address_that_could_inject_headers_is_refused_at_launch(campaign, relay):
    w = campaign
    custom = CustomLure.objects.create(
        organisation=w.est_a1,
        name="Injection",
        sender_name="Service",
        sender_local_part="rh\r\nBcc: tout-le-monde@chu-a.example",
        subject="Objet",
        text="{{lien}}",
        landing_title="T",
        landing_fields=[{"name": "a", "label": "A", "type": "text"}],
        teachable_title="T",
        teachable_body="B",
    )
    w.simulation.lures = [custom.key]
    w.simulation.save()
    with pytest.raises(services.SimulationError) as refused:
        services.launch(w.simulation)
    assert "Adresse d'expédition" in str(refused.value)
    assert relay.messages == []
