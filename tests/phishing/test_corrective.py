"""Corrective measures: results turned into action-plan items and teachable e-mails."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from hygie.actions.models import ActionItem
from hygie.orgs.models import Kind
from hygie.phishing import services
from hygie.phishing.corrective import apply_rules
from hygie.phishing.models import (
    CampaignStatus,
    CorrectiveOutcome,
    CorrectiveRule,
    Remedy,
    Trigger,
)
from tests import factories
from tests.clients import browser
from tests.phishing.results_data import campaign, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def results(world):
    """A campaign of CHU A1 sent out: the lab (10 people, 5 clicked, 1 reported), the
    accounts office (6 people, none clicked, 4 reported), a tiny service (3 people, 3 clicked)."""
    w = world
    w.lab = factories.org(Kind.SERVICE, w.site_a1, name="Laboratoire")
    w.accounts = factories.org(Kind.SERVICE, w.site_a1, name="Bureau des entrées")
    w.tiny = factories.org(Kind.SERVICE, w.site_a1, name="Standard")
    w.simulation = campaign(
        w.est_a1, "Automne", status=CampaignStatus.RUNNING, lures=["resultats-laboratoire"]
    )
    common = {"establishment": w.est_a1, "site": w.site_a1}
    w.lab_people = people(w.simulation, 10, service=w.lab, clicked=5, reported=1, **common)
    people(w.simulation, 6, service=w.accounts, clicked=0, reported=4, **common)
    people(w.simulation, 3, service=w.tiny, clicked=3, **common)
    w.simulation.recipients.update(lure="resultats-laboratoire")
    return w


def rule(w, trigger, threshold, remedy, organisation=None):
    return CorrectiveRule.objects.create(
        organisation=organisation or w.est_a1,
        name=f"{trigger} {threshold}",
        trigger=trigger,
        threshold=threshold,
        remedy=remedy,
    )


def test_a_service_above_the_click_threshold_gets_an_action_item(results):
    w = results
    rule(w, Trigger.SERVICE_CLICKS, 30, Remedy.ACTION_ITEM, organisation=w.ght_a)
    outcomes = apply_rules(w.simulation)
    assert [o.service for o in outcomes] == [w.lab]  # 50 %; the tiny service is never singled out
    item = ActionItem.objects.get(origin="simulation")
    assert item.organisation == w.est_a1
    assert "Laboratoire" in item.title and "Automne" in item.title
    assert "50 % de clics" in item.description
    assert "Agent" not in item.title + item.description, "no name in the plan"
    assert apply_rules(w.simulation) == [], "applying again adds nothing"
    assert ActionItem.objects.filter(origin="simulation").count() == 1


def test_a_service_that_reports_little_is_flagged(results):
    w = results
    rule(w, Trigger.SERVICE_REPORTS, 50, Remedy.ACTION_ITEM)
    flagged = {o.service for o in apply_rules(w.simulation)}
    assert flagged == {w.lab}  # 10 % reported; the accounts office reported 67 %


def test_clickers_receive_the_teachable_email_once(results):
    w = results
    rule(w, Trigger.CLICKED, 0, Remedy.TEACHABLE_EMAIL)
    outcomes = apply_rules(w.simulation)
    assert len(outcomes) == 8 and len(mail.outbox) == 8
    message = mail.outbox[0]
    assert message.subject == "Exercice d'hameçonnage : ce qu'il fallait repérer"
    recipient = outcomes[0].recipient
    assert message.to == [recipient.email]
    assert f"/s/a/{recipient.token}/" in message.body
    assert "Personne n'est sanctionné" in message.body
    assert "{{" not in message.body
    apply_rules(w.simulation)
    assert len(mail.outbox) == 8


def test_repeat_clickers_become_one_anonymous_action(results):
    w = results
    earlier = campaign(w.est_a1, "Printemps", launched_days_ago=120)
    staff = [r.staff for r in w.lab_people[:2]]
    people(earlier, 2, establishment=w.est_a1, service=w.lab, clicked=2, staff=staff)
    rule(w, Trigger.REPEAT, 2, Remedy.ACTION_ITEM)
    (outcome,) = apply_rules(w.simulation)
    assert "2 personne(s)" in outcome.summary
    assert outcome.action_item.organisation == w.est_a1
    assert all(s.last_name not in outcome.action_item.description for s in staff)


def test_completion_applies_the_rules_and_the_page_lists_them(results):
    w = results
    rule(w, Trigger.SERVICE_CLICKS, 30, Remedy.ACTION_ITEM)
    services.complete(w.simulation, actor=w.editor)
    assert CorrectiveOutcome.objects.filter(simulation=w.simulation).count() == 1
    page = browser(w.editor).get(reverse("phishing:simulation", args=[w.simulation.pk]))
    html = page.content.decode()
    assert "Laboratoire : 50 % de clics" in html and "Action créée" in html


def test_rules_are_managed_by_the_rssi_only(results):
    w = results
    url = reverse("phishing:corrective_rules", args=[w.est_a1.pk])
    data = {"name": "Clics", "trigger": "service_clicks", "threshold": 150, "remedy": "action_item"}
    answer = browser(w.editor).post(url, data)
    assert "Un pourcentage entre 1 et 100." in answer.content.decode()
    assert browser(w.reader).post(url, {**data, "threshold": 20}).status_code == 403
    browser(w.editor).post(url, {**data, "threshold": 20, "active": "on"})
    assert CorrectiveRule.objects.get(organisation=w.est_a1).threshold == 20
