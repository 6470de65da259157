"""Self-assessment campaigns: scope, baseline, answers and their history, review, scores, facts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from hygie.assessments import services
from hygie.assessments.models import Campaign, CampaignStatus, Result, Status
from hygie.orgs.roles import Role
from tests import factories
from tests.clients import browser
from tests.governance import campaign, mini_framework

pytestmark = pytest.mark.django_db


def results(c: Campaign) -> dict[str, str]:
    return dict(c.answers.values_list("node__ref_id", "result"))


def test_an_establishment_assesses_entity_measures_and_the_ght_its_own(world):
    assert set(results(campaign(world.est_a1))) == {"GOV.1", "GOV.2", "TECH.1", "TECH.2"}
    assert set(results(campaign(world.ght_a))) == {"GOV.3"}
    with pytest.raises(services.CampaignError, match="établissement"):
        campaign(world.site_a1)


def test_implementation_groups_narrow_the_measures(world):
    reinforced = campaign(world.est_a1, implementation_groups=["R"])
    assert set(results(reinforced)) == {"TECH.2"}


def test_score_follows_the_documented_formula(world):
    c = campaign(
        world.est_a1,
        results={
            "GOV.1": Result.COMPLIANT,  # weight 3
            "GOV.2": Result.PARTIAL,  # weight 1
            "TECH.1": Result.NON_COMPLIANT,  # weight 1
            "TECH.2": Result.NOT_APPLICABLE,  # left out
        },
    )
    assert c.score == pytest.approx(100 * (3 + 0.5 + 0) / 5)
    assert c.progress == 100.0  # the N/A measure does not wait for an answer
    themes = {row.theme.ref_id: row for row in c.theme_scores.select_related("theme")}
    assert themes["GOV"].score == pytest.approx(100 * 3.5 / 4)
    assert themes["TECH"].score == 0
    assert (themes["TECH"].applicable, themes["TECH"].total) == (1, 2)


def test_maturity_is_the_weighted_mean_of_levels(world):
    c = campaign(world.est_a1)
    answers = {a.node.ref_id: a for a in c.answers.select_related("node")}
    services.update_answer(answers["GOV.1"], user=world.editor, maturity=4)  # weight 3
    services.update_answer(answers["TECH.1"], user=world.editor, maturity=0)
    c.refresh_from_db()
    assert c.maturity == pytest.approx((3 * 4 + 0) / 4)


def test_a_new_campaign_starts_from_the_previous_one(world):
    first = campaign(world.est_a1, results={"GOV.1": Result.COMPLIANT, "TECH.1": Result.PARTIAL})
    client = browser(world.editor)
    response = client.post(
        reverse("assessments:campaign_create", args=[world.est_a1.pk]),
        {
            "framework": first.framework_id,
            "name": "Campagne 2027",
            "starts_on": "2027-01-04",
            "due_on": "2027-03-31",
            "start_from_previous": "on",
            "reminder_days": "14",
        },
    )
    second = Campaign.objects.get(name="Campagne 2027")
    assert response["Location"] == reverse("assessments:campaign", args=[second.pk])
    assert second.baseline == first
    assert results(second) == results(first)
    carried = second.answers.get(node__ref_id="GOV.1")
    assert carried.review == "pending" and carried.status == Status.IN_PROGRESS
    assert "Reprise" in carried.revisions.first().note
    # The trend across campaigns is shown on the new campaign's page.
    page = client.get(reverse("assessments:campaign", args=[second.pk])).content.decode()
    assert "Évolution" in page and "Campagne 2026" in page


def test_each_change_is_kept_in_the_history(world):
    c = campaign(world.est_a1)
    answer = c.answers.get(node__ref_id="TECH.1")
    client = browser(world.editor)
    url = reverse("assessments:answer", args=[c.pk, answer.pk])
    form = {
        "status": "in_progress",
        "result": "non_compliant",
        "maturity": "1",
        "comment": "Pas de MFA",
    }
    client.post(url, form)
    client.post(url, {**form, "result": "partially_compliant", "comment": "MFA sur le VPN"})
    client.post(
        url, {**form, "result": "partially_compliant", "comment": "MFA sur le VPN"}
    )  # no change
    answer.refresh_from_db()
    assert answer.result == Result.PARTIAL and answer.maturity == 1
    history = [r.values["result"] for r in answer.revisions.order_by("changed_at", "pk")]
    assert history == ["not_assessed", "non_compliant", "partially_compliant"]
    page = client.get(url).content.decode()
    assert "Partiellement conforme" in page and "Non conforme" in page


def test_a_bad_maturity_level_is_named_and_nothing_is_saved(world):
    c = campaign(world.est_a1)
    answer = c.answers.get(node__ref_id="TECH.1")
    response = browser(world.editor).post(
        reverse("assessments:answer", args=[c.pk, answer.pk]),
        {"status": "done", "result": "compliant", "maturity": "9", "comment": ""},
    )
    assert response.status_code == 200
    assert "Niveau de maturité" in response.content.decode()
    answer.refresh_from_db()
    assert answer.result == Result.NOT_ASSESSED


def test_the_author_of_an_answer_cannot_approve_it_another_person_can(world):
    c = campaign(world.est_a1)
    answer = c.answers.get(node__ref_id="GOV.1")
    services.update_answer(answer, user=world.editor, result=Result.COMPLIANT)
    url = reverse("assessments:answer_review", args=[c.pk, answer.pk])
    assert browser(world.editor).post(url, {"decision": "approve"}).status_code == 403
    quality = factories.user("qualite-a1", role=Role.QUALITY, at=world.est_a1)
    assert (
        browser(quality).post(url, {"decision": "approve", "note": "conforme"}).status_code == 302
    )
    answer.refresh_from_db()
    assert (answer.review, answer.reviewed_by, answer.status) == ("approved", quality, Status.DONE)
    # A later change of the finding sends it back to review.
    services.update_answer(answer, user=world.editor, result=Result.PARTIAL)
    answer.refresh_from_db()
    assert answer.review == "pending" and answer.reviewed_by is None


def test_a_closed_campaign_is_read_only(world):
    c = campaign(world.est_a1)
    c.status = CampaignStatus.CLOSED
    c.save()
    answer = c.answers.first()
    client = browser(world.editor)
    url = reverse("assessments:answer", args=[c.pk, answer.pk])
    assert 'data-testid="answer-form"' not in client.get(url).content.decode()
    response = client.post(url, {"status": "done", "result": "compliant", "comment": ""})
    assert response.status_code == 403
    assert "clôturée" in response.content.decode()


def test_facts_from_other_modules_become_evidence_with_a_link(world):
    c = campaign(world.est_a1)
    other = campaign(world.est_b1)
    fact = services.record_fact(
        world.est_a1,
        "crisis.exercise",
        source_key="exercise-7",
        occurred_on=dt.date(2026, 3, 12),
        summary="Exercice de crise « rançongiciel » du 12 mars",
        url="/crise/exercices/7/",
    )
    answer = c.answers.get(node__ref_id="GOV.2")
    assert list(answer.evidence.values_list("fact", flat=True)) == [fact.pk]
    assert not other.answers.filter(evidence__fact=fact).exists()
    assert not c.answers.exclude(pk=answer.pk).filter(evidence__isnull=False).exists()
    page = (
        browser(world.reader)
        .get(reverse("assessments:answer", args=[c.pk, answer.pk]))
        .content.decode()
    )
    assert "Exercice de crise « rançongiciel » du 12 mars" in page
    assert 'href="/crise/exercices/7/"' in page
    # Recording the same fact again updates it rather than duplicating the evidence.
    services.record_fact(
        world.est_a1,
        "crisis.exercise",
        source_key="exercise-7",
        occurred_on=dt.date(2026, 3, 12),
        summary="Exercice du 12 mars (retour à chaud)",
    )
    assert answer.evidence.count() == 1
    # A campaign opened later finds the recent facts.
    later = campaign(world.est_a1, starts_on=dt.date(2026, 9, 1), name="Campagne de rentrée")
    assert later.answers.get(node__ref_id="GOV.2").evidence.filter(fact=fact).exists()


def test_unknown_fact_sources_are_a_programming_error(world):
    with pytest.raises(ValueError, match="unknown evidence source"):
        services.record_fact(
            world.est_a1,
            "crisis.exercice",
            source_key="x",
            occurred_on=dt.date(2026, 1, 1),
            summary="x",
        )


def test_reminders_go_to_owners_of_unfinished_measures_once_a_day(world, settings):
    settings.BASE_URL = "https://hygie.chu-a.example"
    c = campaign(
        world.est_a1, user=world.editor, starts_on=dt.date(2026, 1, 1), due_on=dt.date(2026, 3, 31)
    )
    dpo = factories.user("dpo-a1", role=Role.DPO, at=world.est_a1)
    done = c.answers.get(node__ref_id="GOV.1")
    services.update_answer(done, user=world.editor, status=Status.DONE, result=Result.COMPLIANT)
    services.update_answer(c.answers.get(node__ref_id="TECH.1"), user=world.editor, owner=dpo)
    assert (
        services.send_campaign_reminders(dt.date(2026, 3, 20)) == 0
    )  # 11 days left: not a reminder day
    assert services.send_campaign_reminders(dt.date(2026, 3, 17)) == 2  # 14 days left
    by_person = {message.to[0]: message for message in mail.outbox}
    assert set(by_person) == {"dpo-a1@example.org", "rssi-a@example.org"}
    dpo_mail = by_person["dpo-a1@example.org"]
    assert "échéance dans 14 jours" in dpo_mail.subject
    assert "TECH.1" in dpo_mail.body and "GOV.2" not in dpo_mail.body
    assert f"https://hygie.chu-a.example/campagnes/{c.pk}/" in dpo_mail.body
    assert "GOV.1" not in by_person["rssi-a@example.org"].body  # done: no reminder
    assert services.send_campaign_reminders(dt.date(2026, 3, 17)) == 0  # once a day
    assert services.send_campaign_reminders(dt.date(2026, 4, 1)) == 2  # the day after the deadline
    assert "Échéance dépassée" in mail.outbox[-1].subject


def test_the_campaign_page_filters_measures(world):
    c = campaign(world.est_a1, results={"GOV.1": Result.COMPLIANT, "TECH.1": Result.NON_COMPLIANT})
    page = (
        browser(world.reader)
        .get(reverse("assessments:campaign", args=[c.pk]), {"result": "non_compliant"})
        .content.decode()
    )
    assert 'data-ref="TECH.1"' in page and 'data-ref="GOV.1"' not in page


def test_campaign_list_shows_subtree_campaigns_only(world):
    campaign(world.est_a1, name="Campagne CHU A1")
    campaign(world.est_b1, name="Campagne CH B1")
    page = (
        browser(world.editor)
        .get(reverse("assessments:campaigns", args=[world.ght_a.pk]))
        .content.decode()
    )
    assert "Campagne CHU A1" in page and "Campagne CH B1" not in page
    mini_framework()
