"""The DPO's review pages: figures, queue, case, dispositions and their follow-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hygie.access.models import (
    CareRelation,
    CaseStatus,
    PersonRecord,
    ReviewCase,
    ReviewRun,
)
from hygie.actions.models import ActionItem
from hygie.assessments.models import Fact
from hygie.core.models import AuditEvent
from hygie.orgs.roles import Role
from tests import factories
from tests.clients import browser

NOW = timezone.now()


@pytest.fixture
def run(world):
    run = ReviewRun.objects.create(
        organisation=world.est_a1,
        period_start=NOW - dt.timedelta(days=28),
        period_end=NOW,
        events=40_000,
        explained=39_900,
        flagged=4,
        figures={"services": {"Cardiologie": {"events": 10_000}, "Urgences": {"events": 30_000}}},
    )

    def case(user, patient, service, patterns, score, **extra):
        return ReviewCase.objects.create(
            run=run,
            organisation=world.est_a1,
            user_id=user,
            user_label=f"Agent {user}",
            service=service,
            patient_id=patient,
            patterns=patterns,
            score=score,
            first_at=NOW - dt.timedelta(days=3),
            last_at=NOW - dt.timedelta(days=3),
            **extra,
        )

    run.vip = case("u1", "P1", "Cardiologie", ["vip", "unexplained"], 90, accesses=5)
    run.name = case("u2", "P2", "Cardiologie", ["same_name"], 70, accesses=3)
    run.bulk = case("u3", "P3", "Urgences", ["bulk"], 50, accesses=6)
    run.done = case("u4", "P4", "Urgences", ["unexplained"], 30, status=CaseStatus.LEGITIMATE)
    return run


@pytest.fixture
def dpo(world):
    return factories.user("dpo-a", role=Role.DPO, at=world.ght_a)


def test_review_page_shows_figures_per_service_as_chart_and_table(world, run):
    page = browser(world.editor).get(reverse("access:review", args=[world.est_a1.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-chart="review-services"' in body and "pour 1 000 accès" in body
    table = body[body.index('data-testid="review-services"') :]
    # Cardiologie: 8 flagged accesses of 10,000 = 0.8 per 1,000; Urgences: 7 of 30,000 = 0.23.
    assert table.index("Cardiologie") < table.index("Urgences")
    assert "<td>0,8</td>" in table and "<td>0,23</td>" in table  # French decimal comma
    assert "40000" in body  # events of the run
    totals = body[body.index('data-testid="review-status-totals"') :]
    assert "À examiner : 3" in totals and "Légitime : 1" in totals


def test_queue_is_sorted_by_score_and_filtered(world, run, dpo):
    client = browser(dpo)
    url = reverse("access:review_queue", args=[world.est_a1.pk])
    body = client.get(url).content.decode()
    assert body.index("Agent u1") < body.index("Agent u2") < body.index("Agent u3")
    body = client.get(url, {"status": "open"}).content.decode()
    assert "Agent u4" not in body and "Agent u1" in body
    body = client.get(url, {"pattern": "same_name"}).content.decode()
    assert "Agent u2" in body and "Agent u1" not in body and "Agent u3" not in body
    body = client.get(url, {"service": "urgences"}).content.decode()
    assert "Agent u3" in body and "Agent u4" in body and "Agent u1" not in body
    # GHT A's queue gathers its establishments' cases.
    body = client.get(reverse("access:review_queue", args=[world.ght_a.pk])).content.decode()
    assert "Agent u1" in body


def test_case_page_explains_patterns_and_shows_care_evidence(world, run, dpo):
    CareRelation.objects.create(
        organisation=world.est_a1,
        kind=CareRelation.Kind.STAY,
        patient_id="P1",
        unit="Réanimation",
        starts_at=NOW - dt.timedelta(days=5),
    )
    CareRelation.objects.create(
        organisation=world.est_a1,
        kind=CareRelation.Kind.TEAM,
        user_id="u1",
        unit="Cardiologie",
        starts_at=NOW - dt.timedelta(days=400),
    )
    PersonRecord.objects.create(
        organisation=world.est_a1, kind="patient", person_id="P1", last_name="Célèbre", vip=True
    )
    page = browser(dpo).get(reverse("access:review_case", args=[run.vip.pk]))
    body = page.content.decode()
    assert "personnalité (dossier VIP)" in body
    assert "Aucune relation de soins ne justifie" in body
    evidence = body[body.index('data-testid="case-evidence"') :]
    assert "Réanimation" in evidence and "en cours" in evidence and "Cardiologie" in evidence
    assert "Célèbre" in body and "(VIP)" in body


def test_dpo_requests_an_explanation_from_the_manager(world, run, dpo):
    response = browser(dpo).post(
        reverse("access:review_case_decide", args=[run.vip.pk]),
        {
            "status": "explanation",
            "note": "Demande au cadre de santé",
            "manager_email": "cadre.cardio@chu-a1.example",
        },
    )
    assert response.status_code == 302
    case = ReviewCase.objects.get(pk=run.vip.pk)
    assert case.status == CaseStatus.EXPLANATION and case.decided_by == dpo
    assert "Demande au cadre de santé" in case.disposition
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["cadre.cardio@chu-a1.example"]
    assert f"cas n° {case.pk}" in message.body and "Agent u1" in message.body
    assert "P1" not in message.body.replace(f"n° {case.pk}", "")  # never the patient
    event = AuditEvent.objects.get(action="access.review_case_decided")
    assert event.details["explanation_requested_from"] == "cadre.cardio@chu-a1.example"
    assert event.details["to"] == "explanation"


def test_misuse_confirmed_with_an_action_plan_item_and_the_fact(world, run, dpo):
    client = browser(dpo)
    response = client.post(
        reverse("access:review_case_decide", args=[run.vip.pk]),
        {"status": "misuse", "note": "Aucun motif de soins", "follow_up": "action"},
    )
    assert response.status_code == 302
    case = ReviewCase.objects.get(pk=run.vip.pk)
    item = ActionItem.objects.get(pk=case.action_id)
    assert item.origin == "access" and item.organisation == world.est_a1
    assert "Dossier VIP" in item.description and item.priority == "p2"
    fact = Fact.objects.get(organisation=world.est_a1, source="access.review")
    assert fact.value == 50.0  # 2 of 4 cases decided
    assert "2 cas décidés sur 4" in fact.summary
    page = client.get(reverse("access:review_case", args=[case.pk])).content.decode()
    assert "Aucun motif de soins" in page and item.title in page


def test_hr_referral_needs_its_reference_and_history_is_kept(world, run, dpo):
    client = browser(dpo)
    url = reverse("access:review_case_decide", args=[run.name.pk])
    refused = client.post(url, {"status": "misuse", "note": "Sa sœur", "follow_up": "hr"})
    assert refused.status_code == 400
    assert "Indiquez la référence du dossier RH" in refused.content.decode()
    assert ReviewCase.objects.get(pk=run.name.pk).status == CaseStatus.OPEN
    wrong = client.post(url, {"status": "legitimate", "note": "x", "manager_email": "a@b.example"})
    assert "accompagne une demande d" in wrong.content.decode()
    client.post(url, {"status": "explanation", "note": "Premier échange"})
    client.post(
        url,
        {"status": "misuse", "note": "Sa sœur", "follow_up": "hr", "hr_reference": "RH-2024-17"},
    )
    case = ReviewCase.objects.get(pk=run.name.pk)
    assert case.hr_reference == "RH-2024-17"
    assert case.disposition.index("Premier échange") < case.disposition.index("Sa sœur")
    assert AuditEvent.objects.filter(action="access.review_case_decided").count() == 2


def test_import_refuses_a_binary_file_with_a_clear_message(world):
    client = browser(world.editor)
    response = client.post(
        reverse("access:review_import", args=[world.est_a1.pk]),
        {
            "kind": "access",
            "file": SimpleUploadedFile("journal.exe", b"MZ\x90\x00", "application/octet-stream"),
        },
        follow=True,
    )
    assert "Type de fichier refusé" in response.content.decode()


def test_run_refuses_a_reversed_period(world):
    response = browser(world.editor).post(
        reverse("access:review_run", args=[world.est_a1.pk]),
        {"start": "2024-02-04", "end": "2024-01-08"},
        follow=True,
    )
    assert "La fin de la période précède son début" in response.content.decode()


def test_upload_run_and_decide_end_to_end(world, dpo, tmp_path):
    from hygie.access.review import quality, synthetic

    truth = synthetic.generate(tmp_path, events=20_000, seed=11, malformed=2)
    client = browser(world.editor)
    for kind, name in truth.files.items():
        with open(tmp_path / name, "rb") as handle:
            client.post(
                reverse("access:review_import", args=[world.est_a1.pk]),
                {"kind": kind, "file": handle},
            )
    start, end = truth.period
    client.post(
        reverse("access:review_run", args=[world.est_a1.pk]),
        {"start": start.date().isoformat(), "end": (end.date() - dt.timedelta(days=1)).isoformat()},
    )
    run = ReviewRun.objects.get(organisation=world.est_a1)
    result = quality.score(run, truth)
    assert result["recall"] >= 0.95 and result["precision"] >= 0.8
    page = browser(dpo).get(reverse("access:review", args=[world.est_a1.pk])).content.decode()
    assert "2" in page  # rejected lines reported
