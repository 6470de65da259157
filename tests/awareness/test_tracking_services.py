"""Campaigns, assignment, reminders, progress, coverage and facts (hygie.awareness.services)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core import mail
from django.utils import timezone

from hygie.assessments.models import Fact
from hygie.awareness import services
from hygie.awareness.models import (
    Assignment,
    Attendance,
    CampaignKind,
    CampaignStatus,
    SessionParticipant,
    State,
    TrainingSession,
)
from hygie.orgs.models import JobFamily, Kind
from tests import factories
from tests.awareness.tracking_data import (
    campaign,
    days,
    module,
    opens_on,
    people,
    set_states,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(world):
    """CHU A1 with a lab (6 carers), pharmacy (4 medico-technical staff) on a second site,
    and a doctor without a service."""
    w = world
    w.site_a2 = factories.org(Kind.SITE, w.est_a1, name="Site Nord")
    w.lab = factories.org(Kind.SERVICE, w.site_a1, name="Laboratoire")
    w.pharmacy = factories.org(Kind.SERVICE, w.site_a2, name="Pharmacie")
    w.lab_people = people(w.est_a1, 6, service=w.lab, site=w.site_a1)
    w.pharmacy_people = people(
        w.est_a1, 4, service=w.pharmacy, site=w.site_a2, job_family=JobFamily.MEDICO_TECHNICAL
    )
    w.doctor = factories.staff(w.est_a1, job_family=JobFamily.MEDICAL)
    w.gone = factories.staff(w.est_a1, service=w.lab, active=False)
    w.phishing = module("reperer-hameconnage", title="Repérer l'hameçonnage")
    w.passwords = module("phrases-de-passe", title="Phrases de passe", pass_mark=None)
    return w


def test_an_annual_campaign_assigns_every_active_person_once(hospital):
    w = hospital
    annual = campaign(
        w.est_a1, w.phishing, w.passwords, kind=CampaignKind.ANNUAL, due_date=dt.date(2026, 12, 1)
    )
    created = services.open_campaign(annual, actor=w.editor)
    # 12 active people (world's staff_a1 included) × 2 modules; the one who left is skipped.
    assert created == 24
    assert services.assign(annual) == 0, "assigning again creates nothing"
    lab = Assignment.objects.filter(staff=w.lab_people[0]).first()
    assert (lab.service, lab.site, lab.job_family) == (w.lab, w.site_a1, JobFamily.CARE)
    assert lab.due_date == dt.date(2026, 12, 1) and lab.module_version == 1
    assert not Assignment.objects.filter(staff=w.gone).exists()
    assert not Assignment.objects.filter(staff=w.staff_b1).exists(), "another GHT is untouched"
    annual.refresh_from_db()
    assert annual.status == CampaignStatus.OPEN and annual.opened_at


def test_a_targeted_campaign_follows_services_sites_families_and_arrivals(hospital):
    w = hospital
    by_service = campaign(w.est_a1, w.phishing)
    by_service.target_services.set([w.lab])
    assert services.targeting_preview(by_service).total == 6
    by_site = campaign(w.est_a1, w.phishing)
    by_site.target_sites.set([w.site_a2])
    assert services.targeting_preview(by_site).by_service == [("Pharmacie", 4)]
    by_family = campaign(w.est_a1, w.phishing, target_job_families=[JobFamily.MEDICAL])
    assert list(services.targeted_staff(by_family)) == [w.doctor]
    w.pharmacy_people[0].arrival_date = dt.date(2026, 3, 1)
    w.pharmacy_people[0].save()
    newcomers = campaign(w.est_a1, w.phishing, arrived_since=dt.date(2026, 1, 1))
    assert list(services.targeted_staff(newcomers)) == [w.pharmacy_people[0]]


def test_onboarding_keeps_assigning_newcomers_with_their_own_due_date(hospital):
    w = hospital
    onboarding = campaign(
        w.est_a1, w.phishing, kind=CampaignKind.ONBOARDING, due_days=30,
        arrived_since=dt.date(2026, 1, 1),
    )  # fmt: skip
    assert services.open_campaign(onboarding) == 0, "nobody arrived since"
    newcomer = factories.staff(w.est_a1, service=w.lab, arrival_date=dt.date(2026, 2, 10))
    factories.staff(w.est_a1, service=w.lab, arrival_date=dt.date(2025, 6, 1))
    assert services.assign_onboarding() == 1
    assignment = Assignment.objects.get(campaign=onboarding)
    assert assignment.staff == newcomer and assignment.due_date == dt.date(2026, 3, 12)
    assert services.assign_onboarding() == 0


def test_modules_can_follow_each_persons_role(hospital):
    w = hospital
    for_doctors = module("prescription", audiences=["medecin"])
    for_carers = module("transmissions", audiences=["soignant"])
    for_managers = module("encadrer", audiences=["encadrement"])
    general = module("signaler")  # no audience: for everyone
    # The job title adds to the job family: a care manager is care staff and a manager.
    manager = factories.staff(
        w.est_a1, service=w.lab, job_family=JobFamily.CARE, job_title="Cadre de santé"
    )
    mixed = campaign(w.est_a1, for_doctors, for_carers, for_managers, general, match_audiences=True)
    services.open_campaign(mixed)

    def slugs(person):
        return set(Assignment.objects.filter(staff=person).values_list("module__slug", flat=True))

    assert slugs(w.doctor) == {"prescription", "signaler"}
    assert slugs(w.lab_people[0]) == {"transmissions", "signaler"}
    assert slugs(manager) == {"transmissions", "encadrer", "signaler"}


def test_assigning_thousands_of_people_is_bulk(world):
    """5,000 here; benchmarks/awareness.py times 20,000."""
    from hygie.orgs.models import StaffMember

    StaffMember.objects.bulk_create(
        StaffMember(
            establishment=world.est_a2,
            first_name="P",
            last_name=f"N{i}",
            job_family=JobFamily.CARE,
        )
        for i in range(5000)
    )
    annual = campaign(world.est_a2, module(), kind=CampaignKind.ANNUAL)
    started = timezone.now()
    assert services.assign(annual) == 5000
    assert (timezone.now() - started).total_seconds() < 5


def test_reminders_go_on_reminder_days_and_once_after_the_due_date(hospital):
    w = hospital
    due = dt.date(2026, 6, 30)
    targeted = campaign(w.est_a1, w.phishing, due_date=due, reminder_days=[7, 1])
    targeted.target_services.set([w.lab])
    services.open_campaign(targeted)
    finished = Assignment.objects.filter(staff=w.lab_people[0])
    set_states(finished, State.PASSED, score=90)

    def at(day: dt.date, hour: int = 9):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))

    assert services.send_due_reminders(at(due - days(8))) == 0
    assert services.send_due_reminders(at(due - days(7))) == 5, "the one who passed is left alone"
    assert services.send_due_reminders(at(due - days(7), 15)) == 0, "once a day"
    assert services.send_due_reminders(at(due - days(3))) == 0
    assert services.send_due_reminders(at(due - days(1))) == 5
    assert services.send_due_reminders(at(due)) == 0
    assert services.send_due_reminders(at(due + days(2))) == 5, "once after the due date"
    assert services.send_due_reminders(at(due + days(3))) == 0
    assert services.send_due_reminders(at(due + days(10))) == 0
    # Three e-mails each to the five who have not finished, none to the one who passed.
    assert Counter(m.to[0] for m in mail.outbox) == {p.email: 3 for p in w.lab_people[1:]}
    assert Assignment.objects.get(staff=w.lab_people[1]).reminders_sent == 3
    # Each reminder carries a fresh link: the latest one opens the module.
    latest = [m for m in mail.outbox if m.to == [w.lab_people[1].email]][-1]
    assert "Repérer l'hameçonnage" in latest.subject + latest.body
    assert opens_on(latest, "Repérer l'hameçonnage")
    services.close_campaign(targeted)
    assert services.send_due_reminders(at(due + days(40))) == 0
    assert len(mail.outbox) == 15


def test_progress_per_service_family_and_site(hospital):
    w = hospital
    today = dt.date(2026, 6, 1)
    annual = campaign(w.est_a1, w.phishing, kind=CampaignKind.ANNUAL, due_date=today - days(1))
    services.open_campaign(annual)
    lab = list(Assignment.objects.filter(service=w.lab).order_by("pk"))
    set_states(lab[:3], State.PASSED, score=85)
    set_states(lab[3:4], State.FAILED, score=40)
    set_states(lab[4:5], State.INCOMPLETE)
    rows = {row.label: row for row in services.progress(w.est_a1, "service", today=today)}
    assert set(rows) == {"Laboratoire", "Pharmacie", "Urgences A1", "Non renseigné"}
    row = rows["Laboratoire"]
    assert (row.assigned, row.not_started, row.in_progress, row.done) == (6, 1, 1, 3)
    assert (row.failed, row.overdue, row.completion_rate, row.pass_rate) == (1, 3, 50.0, 75.0)
    families = {r.key: r for r in services.progress(w.est_a1, "job_family", today=today)}
    assert families[JobFamily.MEDICO_TECHNICAL].assigned == 4
    sites = {r.label: r.assigned for r in services.progress(w.ght_a, "site", today=today)}
    assert sites == {"Site principal A1": 7, "Site Nord": 4, "Non renseigné": 1}


def test_small_groups_are_masked_with_their_complement(hospital):
    w = hospital
    services.open_campaign(campaign(w.est_a1, w.phishing, kind=CampaignKind.ANNUAL))
    rows = services.suppress(services.progress(w.est_a1, "service"))
    shown = {row.label: row.masked for row in rows}
    # The pharmacy (4), the emergency room (1) and "no service" (1) are under 5. The lab (6)
    # is big enough, but on its site the emergency room is the only masked service: the site's
    # figures minus the lab's would give it away, so the lab is masked too.
    assert shown == {
        "Laboratoire": True,
        "Pharmacie": True,
        "Urgences A1": True,
        "Non renseigné": True,
    }
    assert rows[0].assigned == 0 and rows[0].completion_rate is None
    families = services.suppress(services.progress(w.est_a1, "job_family"))
    assert [(r.label, r.masked) for r in families] == [
        ("Médical", True),
        ("Médico-technique", True),
        ("Soignant", False),
    ]


def test_coverage_counts_modules_done_and_sessions_attended_in_the_last_year(hospital):
    w = hospital
    services.open_campaign(campaign(w.est_a1, w.phishing, kind=CampaignKind.ANNUAL))
    assignments = list(Assignment.objects.filter(service=w.lab).order_by("pk"))
    set_states(assignments[:2], State.PASSED, score=100)
    set_states(assignments[2:3], State.FAILED, score=20)
    set_states(assignments[3:4], State.PASSED, when=timezone.now() - days(400))
    session = TrainingSession.objects.create(
        organisation=w.est_a1,
        title="Atelier",
        starts_at=timezone.now() - days(10),
        ends_at=timezone.now() - days(10),
    )
    SessionParticipant.objects.create(
        session=session, staff=w.doctor, attendance=Attendance.PRESENT
    )
    figures = services.coverage(w.est_a1)
    assert (figures["staff"], figures["trained"]) == (12, 3)
    assert figures["coverage"] == 25.0
    assert figures["pass_rate"] == round(100 * 2 / 3, 1)


def test_closing_records_coverage_as_evidence_and_housekeeping_refreshes_it(hospital):
    w = hospital
    annual = campaign(w.est_a1, w.phishing, kind=CampaignKind.ANNUAL, name="CaRE 2026")
    services.open_campaign(annual)
    set_states(Assignment.objects.filter(service=w.lab), State.PASSED, score=90)
    facts = services.close_campaign(annual)
    assert len(facts) == 1
    fact = facts[0]
    assert fact.organisation == w.est_a1 and fact.source == "awareness.campaign"
    assert fact.value == 50.0 and "CaRE 2026" in fact.summary
    assert services.close_campaign(annual) == [], "closing twice records nothing more"
    assert services.refresh_coverage_facts() == 1
    assert services.refresh_coverage_facts() == 0, "once a day"
    yearly = Fact.objects.get(source_key=f"coverage-{timezone.localdate().year}")
    assert yearly.value == 50.0 and yearly.details["trained"] == 6


def test_new_learners_are_invited_once_by_a_worker(hospital, django_capture_on_commit_callbacks):
    w = hospital
    targeted = campaign(w.est_a1, w.phishing, due_date=dt.date(2030, 1, 1))
    targeted.target_services.set([w.lab])
    with django_capture_on_commit_callbacks(execute=True):
        services.open_campaign(targeted)
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get(task_path="hygie.awareness.tasks.invite")
    assert queued.args_kwargs["args"] == [targeted.pk], "opening hands the e-mails to a worker"
    assert mail.outbox == []
    assert services.send_invitations(targeted) == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in w.lab_people)
    assert all(opens_on(m, "Repérer l'hameçonnage") for m in mail.outbox)
    assert services.send_invitations() == 0, "once"
    assert len(mail.outbox) == 6
    newcomer = factories.staff(w.est_a1, service=w.lab)
    services.assign(targeted)
    assert services.send_invitations() == 1 and mail.outbox[-1].to == [newcomer.email]
    assert opens_on(mail.outbox[-1], "Repérer l'hameçonnage")


def test_the_trend_shows_the_completion_rate_at_each_month_end(hospital):
    w = hospital
    services.open_campaign(campaign(w.est_a1, w.phishing, kind=CampaignKind.ANNUAL))
    Assignment.objects.update(assigned_at=timezone.now() - days(130))
    lab = list(Assignment.objects.filter(service=w.lab).order_by("pk"))
    today = timezone.localdate()
    mid_month = timezone.make_aware(dt.datetime.combine(today.replace(day=15), dt.time(12)))
    set_states(lab[:3], State.PASSED, score=90, when=mid_month - days(62))
    set_states(lab[3:6], State.COMPLETED, when=mid_month)
    points = services.trend(w.est_a1, months=4, today=today)
    assert [p.month for p in points][-1] == today.replace(day=1)
    assert [p.assigned for p in points] == [12, 12, 12, 12]
    assert [p.done for p in points] == [0, 3, 3, 6]
    assert points[-1].rate == 50.0
