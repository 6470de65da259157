"""The progress tally (hygie.awareness.tally, decision 0538): after every kind of change the
dashboard's figures are the ones counted straight from the assignments."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from hygie.awareness import learner, services, sessions, tally
from hygie.awareness.models import (
    DONE_STATES,
    Assignment,
    Attendance,
    CampaignKind,
    ProgressTally,
    State,
)
from hygie.orgs.models import JobFamily, Kind
from tests import factories
from tests.awareness import learner_data
from tests.awareness.sessions_support import make_session
from tests.awareness.tracking_data import campaign, people

pytestmark = pytest.mark.django_db


def reference(establishment, today: dt.date) -> dict:
    """The dashboard's figures counted the plain way, one assignment at a time."""
    start = services.recent_start(today)
    per_service: dict = defaultdict(Counter)
    people: dict = defaultdict(set)
    assigned_by, done_by = Counter(), Counter()
    quizzes = Counter()
    for a in Assignment.objects.filter(establishment=establishment):
        figures = per_service[a.service_id]
        figures["assigned"] += 1
        figures["not_started"] += a.state == State.NOT_ATTEMPTED
        figures["in_progress"] += a.state == State.INCOMPLETE
        figures["done"] += a.state in DONE_STATES
        figures["passed"] += a.state == State.PASSED
        figures["failed"] += a.state == State.FAILED
        figures["overdue"] += (
            a.state not in DONE_STATES and a.due_date is not None and a.due_date < today
        )
        people[a.service_id].add(a.staff_id)
        assigned_by[tally.month_of(a.assigned_at)] += 1
        if a.state in DONE_STATES:
            done_by[tally.month_of(a.completed_at)] += 1
        if a.state == State.PASSED and tally.month_of(a.completed_at) >= start:
            quizzes["passed"] += 1
        if a.state == State.FAILED and tally.month_of(a.assigned_at) >= start:
            quizzes["failed"] += 1
    months = services._month_starts(today, 12)
    return {
        "services": {key: dict(+value) for key, value in per_service.items()},
        "people": {key: len(value) for key, value in people.items()},
        "trend": [
            (
                month,
                sum(n for m, n in assigned_by.items() if m <= month),
                sum(n for m, n in done_by.items() if m <= month),
            )
            for month in months
        ],
        "quizzes": (quizzes["passed"], quizzes["failed"]),
    }


def from_dashboard(establishment, today: dt.date) -> dict:
    board = services.dashboard(establishment, nominative=True, today=today)
    names = ("assigned", "not_started", "in_progress", "done", "passed", "failed", "overdue")
    figures = {
        row.key: {name: getattr(row, name) for name in names if getattr(row, name)}
        for row in board.breakdowns["service"]
    }
    # Distinct people, which the aggregate view masks small groups with (before masking).
    rows = services.breakdowns(establishment, ["service"], today=today)["service"]
    return {
        "services": figures,
        "people": {row.key: row.people for row in rows if row.people},
        "trend": [(p.month, p.assigned, p.done) for p in board.trend],
        "quizzes": (board.coverage["passed"], board.coverage["failed"]),
    }


def check(establishment, today: dt.date) -> None:
    assert tally.stored(establishment.pk) == tally.computed(establishment.pk), (
        "the maintained tally is the one rebuilt from the assignments"
    )
    assert from_dashboard(establishment, today) == reference(establishment, today)


@pytest.fixture
def hospital(world):
    w = world
    w.site_a2 = factories.org(Kind.SITE, w.est_a1, name="Site Nord")
    w.lab = factories.org(Kind.SERVICE, w.site_a1, name="Laboratoire")
    w.pharmacy = factories.org(Kind.SERVICE, w.site_a2, name="Pharmacie")
    w.lab_people = people(w.est_a1, 6, service=w.lab, site=w.site_a1)
    w.pharmacy_people = people(
        w.est_a1, 5, service=w.pharmacy, site=w.site_a2, job_family=JobFamily.MEDICO_TECHNICAL
    )
    w.quiz = learner_data.module("hameconnage-quiz")
    w.reading = learner_data.module("lecture", quiz=False)
    return w


def mine(staff, module) -> Assignment:
    """The person's assignment of the module in the annual campaign (the first one)."""
    return (
        Assignment.objects.select_related("module", "staff", "establishment")
        .filter(staff=staff, module=module)
        .order_by("pk")
        .first()
    )


def follow_steps(assignment, *, now=None) -> None:
    for index in range(len(assignment.module.content["steps"])):
        learner.finish_step(assignment, index, now=now)


def test_the_tally_follows_a_programme_step_by_step(hospital, django_capture_on_commit_callbacks):
    w = hospital
    est = w.est_a1
    today = timezone.localdate()
    annual = campaign(
        est, w.quiz, w.reading, kind=CampaignKind.ANNUAL, due_date=today + dt.timedelta(days=30)
    )
    late = campaign(est, w.reading, kind=CampaignKind.ANNUAL, due_date=today - dt.timedelta(days=3))
    assert services.open_campaign(annual) == 2 * 12  # the world's staff_a1 is in A1 too
    check(est, today)
    services.open_campaign(late)
    services.assign(annual)  # idempotent: nothing counted twice
    check(est, today)

    # Learners: one starts, one reads a module to the end (completed), one fails then passes,
    # one only fails, one passed two months ago.
    first, second, third, fourth, fifth = w.lab_people[:5]
    learner.start(mine(first, w.quiz))
    check(est, today)
    follow_steps(mine(second, w.reading))
    check(est, today)
    quiz = mine(third, w.quiz)
    follow_steps(quiz)
    learner.submit_quiz(quiz, learner_data.HALF)
    check(est, today)
    learner.submit_quiz(quiz, learner_data.RIGHT)
    learner.submit_quiz(quiz, learner_data.HALF)  # a passed module stays passed
    check(est, today)
    failing = mine(fourth, w.quiz)
    follow_steps(failing)
    learner.submit_quiz(failing, learner_data.HALF)
    earlier = timezone.now() - dt.timedelta(days=62)
    early = mine(fifth, w.quiz)
    follow_steps(early, now=earlier)
    learner.submit_quiz(early, learner_data.RIGHT, now=earlier)
    check(est, today)
    board = from_dashboard(est, today)
    assert board["quizzes"] == (2, 1)
    assert board["services"][w.lab.pk]["done"] == 3
    assert board["trend"][-3][2] == 1 and board["trend"][-1][2] == 3, "done month by month"
    assert board["services"][w.lab.pk]["overdue"] == 6, "the late campaign, nobody done"

    # A session: the people marked present get its practice modules (a second tally row set).
    session = make_session(est, days=0)
    sessions.add_participants(session, w.pharmacy_people[:3])
    marks = {p.pk: Attendance.PRESENT for p in session.participants.all()}
    assert sessions.take_attendance(session, marks).assigned == 6
    check(est, today)

    # Deletions cascade without a signal per assignment: rebuilt once committed.
    with django_capture_on_commit_callbacks(execute=True):
        second.delete()
    check(est, today)
    pharmacy = w.pharmacy.pk
    with django_capture_on_commit_callbacks(execute=True):
        w.pharmacy.delete()  # its people's assignments keep their figures, without a service
    assert not Assignment.objects.filter(service_id=pharmacy).exists()
    assert Assignment.objects.filter(staff__in=w.pharmacy_people).exists()
    check(est, today)
    with django_capture_on_commit_callbacks(execute=True):
        late.delete()
    check(est, today)
    assert ProgressTally.objects.filter(establishment=est).exists()


def test_housekeeping_and_the_command_rebuild_a_tally_that_drifted(hospital):
    w = hospital
    today = timezone.localdate()
    services.open_campaign(campaign(w.est_a1, w.quiz, kind=CampaignKind.ANNUAL, due_date=today))
    # A bulk update that bypasses the learner functions (a data fix, a benchmark).
    Assignment.objects.filter(service=w.lab).update(state=State.FAILED)
    assert tally.stored(w.est_a1.pk) != tally.computed(w.est_a1.pk)
    with pytest.raises(CommandError, match="rebuild"):
        call_command("awareness_tally", "check")
    night = timezone.make_aware(dt.datetime.combine(today, dt.time(tally.CHECK_HOUR, 5)))
    assert tally.daily_check(now=night - dt.timedelta(hours=2)) == 0, "only in the night"
    assert tally.daily_check(now=night) == 1
    check(w.est_a1, today)
    assert services.dashboard(w.est_a1, nominative=True, today=today).total.failed == 6
    call_command("awareness_tally", "check")
    call_command("awareness_tally", "rebuild", establishment=w.est_a1.pk)
    with pytest.raises(CommandError, match="identifiant"):
        call_command("awareness_tally", "rebuild", establishment=w.site_a1.pk)


def test_concurrent_increments_of_one_row_add_up(hospital):
    """Two writers on one tally row: `apply` adds to what is there, it never overwrites."""
    w = hospital
    services.open_campaign(campaign(w.est_a1, w.reading, kind=CampaignKind.ANNUAL))
    some = Assignment.objects.filter(service=w.lab).first()
    key = tally.snapshot(some)
    before = tally.stored(w.est_a1.pk)[key]
    tally.apply(Counter({key: 2}))
    tally.apply(Counter({key: 3}))
    assert tally.stored(w.est_a1.pk)[key] == before + 5
    tally.apply(Counter({key: -(before + 5)}))
    assert key not in tally.stored(w.est_a1.pk), "a row at zero counts nothing"
