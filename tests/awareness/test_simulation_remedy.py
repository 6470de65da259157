"""The "assign training" corrective remedy: simulation results turned into awareness campaigns."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from hygie.awareness.models import Assignment, Campaign, CampaignKind, CampaignStatus, Module
from hygie.orgs.models import Kind
from hygie.orgs.roles import Role
from hygie.phishing.corrective import apply_rules
from hygie.phishing.models import CampaignStatus as SimulationStatus
from hygie.phishing.models import CorrectiveRule, Remedy, Trigger
from tests import factories
from tests.clients import browser
from tests.phishing.results_data import campaign, people

pytestmark = pytest.mark.django_db


# The shipped modules (hygie/awareness/content/, loaded by migrate) that list the
# "resultats-laboratoire" lure.
LAB_RESULTS_MODULES = {"courriel-piege", "mots-de-passe", "signaler-message-suspect"}


@pytest.fixture
def results(world):
    """CHU A1's lab (10 people, 5 clicked, 2 of them typed something), accounts (6, none
    clicked), a tiny service (3 people, all clicked), after a "fake lab results" lure."""
    w = world
    w.lab = factories.org(Kind.SERVICE, w.site_a1, name="Laboratoire")
    w.accounts = factories.org(Kind.SERVICE, w.site_a1, name="Bureau des entrées")
    w.tiny = factories.org(Kind.SERVICE, w.site_a1, name="Standard")
    w.simulation = campaign(
        w.est_a1, "Automne", status=SimulationStatus.COMPLETED, lures=["resultats-laboratoire"]
    )
    common = {"establishment": w.est_a1, "site": w.site_a1}
    w.lab_people = people(w.simulation, 10, service=w.lab, clicked=5, submitted=2, **common)
    people(w.simulation, 6, service=w.accounts, clicked=0, reported=4, **common)
    people(w.simulation, 3, service=w.tiny, clicked=3, **common)
    w.usb = Module.objects.get(slug="cle-usb-trouvee")
    return w


def rule(w, trigger, threshold=0, training_module=""):
    return CorrectiveRule.objects.create(
        organisation=w.ght_a,
        name=f"Formation {trigger}",
        trigger=trigger,
        threshold=threshold,
        remedy=Remedy.ASSIGN_TRAINING,
        training_module=training_module,
    )


def test_clickers_get_the_lures_module_through_a_simulation_campaign(results):
    w = results
    rule(w, Trigger.CLICKED)
    outcomes = apply_rules(w.simulation)
    assert len(outcomes) == 8  # 5 in the lab, 3 in the tiny service: people, not groups
    training = Campaign.objects.get(simulation=w.simulation)
    assert training.kind == CampaignKind.SIMULATION and training.status == CampaignStatus.OPEN
    assert training.simulation_scope == "clickers" and training.due_date
    assert {m.slug for m in training.modules.all()} == LAB_RESULTS_MODULES
    assigned = Assignment.objects.filter(campaign=training)
    clickers = {r.staff_id for r in w.simulation.recipients.filter(first_click_at__isnull=False)}
    assert {a.staff_id for a in assigned} == clickers
    assert assigned.count() == 8 * 3, "each clicker gets every module of the lure"
    assert "Formation attribuée" in outcomes[0].summary
    assert apply_rules(w.simulation) == [], "applying again assigns nothing more"
    assert Assignment.objects.filter(campaign=training).count() == 8 * 3


def test_a_service_above_the_threshold_is_trained_as_a_whole_with_a_chosen_module(results):
    w = results
    rule(w, Trigger.SERVICE_CLICKS, threshold=30, training_module="cle-usb-trouvee")
    outcomes = apply_rules(w.simulation)
    # The lab (50 %) is trained; the tiny service (3 people) is never singled out.
    assert [o.service for o in outcomes] == [w.lab]
    training = Campaign.objects.get(simulation=w.simulation)
    assert training.simulation_scope == "service"
    assert list(training.target_services.all()) == [w.lab]
    assert list(training.modules.all()) == [w.usb]
    assigned = Assignment.objects.filter(campaign=training)
    assert assigned.count() == 10 and {a.service_id for a in assigned} == {w.lab.pk}


def test_repeat_clickers_are_assigned_and_keep_being_the_campaigns_people(results):
    w = results
    earlier = campaign(w.est_a1, "Printemps", launched_days_ago=120)
    people(
        earlier, 2, establishment=w.est_a1, service=w.lab, clicked=2,
        staff=[r.staff for r in w.lab_people[:2]],
    )  # fmt: skip
    rule(w, Trigger.REPEAT, threshold=2)
    outcomes = apply_rules(w.simulation)
    assert {o.recipient.staff_id for o in outcomes} == {r.staff_id for r in w.lab_people[:2]}
    training = Campaign.objects.get(simulation=w.simulation)
    assert training.simulation_scope == "people"
    from hygie.awareness import services

    assert services.assign(training) == 0, "assigning again keeps exactly these people"


def test_without_a_module_for_the_lure_nothing_is_created(results):
    w = results
    # The lure's modules were withdrawn from the catalogue.
    Module.objects.filter(slug__in=LAB_RESULTS_MODULES).update(active=False)
    rule(w, Trigger.SUBMITTED)
    assert apply_rules(w.simulation) == []
    assert not Campaign.objects.exists()


def test_the_rules_page_offers_the_training_remedy_and_its_module(results):
    w = results
    client = browser(w.editor)
    url = reverse("phishing:corrective_rules", args=[w.est_a1.pk])
    page = client.get(url).content.decode()
    assert "Attribuer une formation" in page and "La clé USB trouvée sur le parking" in page
    response = client.post(
        url,
        {"name": "Former les cliqueurs", "trigger": "clicked", "threshold": 0,
         "remedy": "assign_training", "training_module": "cle-usb-trouvee", "active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    created = CorrectiveRule.objects.get(name="Former les cliqueurs")
    assert created.remedy == Remedy.ASSIGN_TRAINING
    assert created.training_module == "cle-usb-trouvee"
    assert "(cle-usb-trouvee)" in client.get(url).content.decode()


def test_a_simulations_page_leads_to_a_training_campaign_for_those_who_may_create_one(results):
    w = results
    # A DPO may create campaigns ("change") without managing the organisation.
    dpo = factories.user("dpo-a1", role=Role.DPO, at=w.est_a1)
    client = browser(dpo)
    detail = reverse("phishing:simulation", args=[w.simulation.pk])
    page = client.get(detail).content.decode()
    found = re.search(r'href="([^"]+)" data-testid="create-awareness-campaign"', page)
    assert found and "Créer une campagne de sensibilisation" in page
    create = html.unescape(found.group(1))
    assert create == reverse("awareness:campaign_create", args=[w.est_a1.pk]) + (
        f"?simulation={w.simulation.pk}"
    )
    form = client.get(create).content.decode()
    assert re.search(r'<option value="simulation"[^>]*selected', form)
    assert re.search(rf'<option value="{w.simulation.pk}"[^>]*selected>Automne', form)

    courriel = Module.objects.get(slug="courriel-piege")
    response = client.post(
        create,
        {"name": "Après Automne", "kind": "simulation", "modules": [courriel.pk],
         "simulation": w.simulation.pk, "simulation_scope": "clickers",
         "due_date": "2030-01-31", "due_days": 30, "reminder_days": "7, 1"},
    )  # fmt: skip
    assert response.status_code == 302
    training = Campaign.objects.get(name="Après Automne")
    assert (training.simulation, training.kind) == (w.simulation, CampaignKind.SIMULATION)
    summary = client.get(response.headers["Location"]).content.decode()
    assert 'data-testid="preview-total">8<' in summary, "the 8 people who clicked"

    # Someone who may only read the results is not offered it, nor is anyone on a draft.
    assert "create-awareness-campaign" not in browser(w.reader).get(detail).content.decode()
    draft = campaign(w.est_a1, "Hiver", status=SimulationStatus.DRAFT)
    draft_page = browser(w.editor).get(reverse("phishing:simulation", args=[draft.pk]))
    assert "create-awareness-campaign" not in draft_page.content.decode()
