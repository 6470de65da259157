"""Generating the plan from an assessment's gaps."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hygie.actions import services
from hygie.actions.models import ActionItem, ActionStatus, Priority
from hygie.assessments.models import Result
from hygie.core.models import AuditEvent
from tests.actions.helpers import item, measure
from tests.clients import browser
from tests.governance import campaign

GAPS = {
    "GOV.1": Result.NON_COMPLIANT,  # weight 3
    "GOV.2": Result.PARTIAL,  # weight 1
    "TECH.1": Result.COMPLIANT,
}


@pytest.mark.parametrize(
    ("weight", "result", "priority"),
    [
        (3, Result.NON_COMPLIANT, Priority.CRITICAL),
        (3, Result.PARTIAL, Priority.HIGH),
        (2, Result.NON_COMPLIANT, Priority.HIGH),
        (2, Result.PARTIAL, Priority.MEDIUM),
        (1, Result.NON_COMPLIANT, Priority.MEDIUM),
        (1, Result.PARTIAL, Priority.LOW),
        (5, Result.NON_COMPLIANT, Priority.CRITICAL),
    ],
)
def test_priority_follows_weight_and_result(weight, result, priority):
    assert services.priority_for(weight, result) == priority


def test_one_item_per_gap_with_title_priority_and_links(world):
    assessed = campaign(world.est_a1, results=GAPS)
    report = services.generate_from_gaps(assessed, world.editor)
    assert (report.created_count, report.skipped) == (2, 0)
    items = {i.node.ref_id: i for i in ActionItem.objects.filter(organisation=world.est_a1)}
    assert set(items) == {"GOV.1", "GOV.2"}
    gov1 = items["GOV.1"]
    assert gov1.title == "GOV.1 Politique de sécurité signée"
    assert gov1.priority == Priority.CRITICAL
    assert items["GOV.2"].priority == Priority.LOW
    assert gov1.campaign == assessed and gov1.origin == "gap"
    assert gov1.due_on > gov1.starts_on > items["GOV.2"].due_on.replace(year=2000)
    assert gov1.due_on < items["GOV.2"].due_on  # P1 is due sooner than P4
    assert "PSSI signée" in gov1.description


def test_generation_is_idempotent_and_skips_open_items(world):
    assessed = campaign(world.est_a1, results=GAPS)
    services.generate_from_gaps(assessed, world.editor)
    again = services.generate_from_gaps(assessed, world.editor)
    assert (again.created_count, again.skipped) == (0, 2)
    assert ActionItem.objects.filter(organisation=world.est_a1).count() == 2


def test_a_closed_item_no_longer_covers_the_gap(world):
    item(world.est_a1, "Ancienne PSSI", ref_id="GOV.1", status=ActionStatus.DONE)
    item(world.est_a1, "Exercice prévu", ref_id="GOV.2")
    report = services.generate_from_gaps(campaign(world.est_a1, results=GAPS), world.editor)
    assert [i.node.ref_id for i in report.created] == ["GOV.1"]
    assert report.skipped == 1


def test_not_assessed_measures_only_when_asked(world):
    assessed = campaign(world.est_a1, results=GAPS)
    services.generate_from_gaps(assessed, world.editor)
    report = services.generate_from_gaps(assessed, world.editor, include_not_assessed=True)
    assert [i.node.ref_id for i in report.created] == ["TECH.2"]


def test_another_organisation_is_not_counted(world):
    item(world.est_a2, "PSSI de A2", ref_id="GOV.1")
    report = services.generate_from_gaps(campaign(world.est_a1, results=GAPS), world.editor)
    assert report.created_count == 2


def test_generate_button_on_the_plan_page(world):
    assessed = campaign(world.est_a1, results=GAPS)
    client = browser(world.editor)
    page = client.get(reverse("actions:plan", args=[world.est_a1.pk]))
    assert "Générer depuis les écarts" in page.content.decode()
    assert assessed.name in page.content.decode()
    url = reverse("actions:generate", args=[world.est_a1.pk])
    response = client.post(url, {"campaign": assessed.pk}, follow=True)
    body = response.content.decode()
    assert "2 action(s) créée(s)" in body
    assert "GOV.1 Politique de sécurité signée" in body
    assert AuditEvent.objects.filter(action="actions.generated").exists()
    response = client.post(url, {"campaign": assessed.pk}, follow=True)
    assert (
        "0 action(s) créée(s) depuis les écarts, 2 écart(s) déjà couvert(s)"
        in response.content.decode()
    )


def test_a_campaign_of_another_organisation_cannot_be_chosen(world):
    other = campaign(world.est_b1, results=GAPS)
    client = browser(world.editor)
    response = client.post(
        reverse("actions:generate", args=[world.est_a1.pk]), {"campaign": other.pk}, follow=True
    )
    assert "Choisissez une campagne" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_reader_cannot_generate(world):
    assessed = campaign(world.est_a1, results=GAPS)
    client = browser(world.reader)
    page = client.get(reverse("actions:plan", args=[world.est_a1.pk]))
    assert "Générer depuis les écarts" not in page.content.decode()
    response = client.post(
        reverse("actions:generate", args=[world.est_a1.pk]), {"campaign": assessed.pk}
    )
    assert response.status_code == 403
    assert not ActionItem.objects.exists()
    assert measure("GOV.1")  # the framework is loaded: nothing was created by refusal
