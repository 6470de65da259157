"""The learner's domain logic: links, state machine, scoring, fresh links by e-mail."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from hygie.awareness import learner, links, services
from hygie.awareness.learner import Delivery, Outcome
from hygie.awareness.models import LearnerLink, QuizAttempt, State, Statement
from tests.awareness import learner_data as data


def queued(assignment) -> list[tuple[str, dict | None]]:
    """The xAPI statements in the outbox for this person and module, oldest first:
    (verb id, result). The outbox itself (shape, delivery) is tested in test_tracking_xapi."""
    actor = services.actor_name(assignment.staff_id)
    activity = services.activity_id("module", assignment.module.slug)
    return [
        (row.statement["verb"]["id"], row.statement.get("result"))
        for row in Statement.objects.filter(establishment=assignment.establishment_id)
        if row.statement["actor"]["account"]["name"] == actor
        and row.statement["object"]["id"] == activity
    ]


VERB = "http://adlnet.gov/expapi/verbs/{}".format


def fresh(assignment):
    assignment.refresh_from_db()
    return assignment


# Opening a link ---------------------------------------------------------------------------------
def test_a_new_link_is_valid_and_not_yet_bound(world):
    _, link, token = data.learner_link(world.staff_a1)
    opening = learner.resolve(token, None)
    assert opening.outcome == Outcome.VALID and opening.link == link and not opening.bound
    # Opening (a mail scanner following the link, say) spends nothing.
    assert LearnerLink.objects.get(pk=link.pk).browser_digest == ""


def test_the_first_browser_to_start_keeps_the_link(world):
    _, link, token = data.learner_link(world.staff_a1)
    cookie = learner.bind(link, None)
    assert cookie
    assert learner.resolve(token, cookie).bound
    stored = LearnerLink.objects.get(pk=link.pk)
    assert stored.first_used_at is not None
    assert cookie not in stored.browser_digest  # only a digest of the cookie is kept
    assert learner.resolve(token, None).outcome == Outcome.USED_ELSEWHERE
    assert learner.resolve(token, "another-browser").outcome == Outcome.USED_ELSEWHERE
    # A second browser racing for the same link loses.
    assert learner.bind(LearnerLink.objects.get(pk=link.pk), "another-browser") is None


def test_a_browser_keeps_its_cookie_for_every_link_it_opens(world):
    _, first, _ = data.learner_link(world.staff_a1)
    _, second, token = data.learner_link(world.staff_a1, data.module("autre-module"))
    cookie = learner.bind(first, None)
    assert learner.bind(second, cookie) == cookie
    assert learner.resolve(token, cookie).bound


def test_expired_revoked_and_unknown_links(world):
    _, link, token = data.learner_link(world.staff_a1, validity=timedelta(days=1))
    later = timezone.now() + timedelta(days=2)
    assert learner.resolve(token, None, now=later).outcome == Outcome.EXPIRED
    cookie = learner.bind(link, None)
    assert learner.resolve(token, cookie, now=later).outcome == Outcome.EXPIRED
    LearnerLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    assert learner.resolve(token, cookie).outcome == Outcome.REVOKED
    assert learner.resolve("nope", None).outcome == Outcome.UNKNOWN
    assert learner.resolve("x" * 500, None).outcome == Outcome.UNKNOWN
    assert learner.resolve("", None).outcome == Outcome.UNKNOWN


# State machine ----------------------------------------------------------------------------------
def test_starting_then_going_through_the_steps(world):
    assignment, _, _ = data.learner_link(world.staff_a1)
    assert assignment.state == State.NOT_ATTEMPTED
    learner.start(assignment)
    assert fresh(assignment).state == State.INCOMPLETE
    assert assignment.started_at and assignment.module_version == assignment.module.version
    for index in (0, 2, 1, 2):
        learner.finish_step(assignment, index)
    assert fresh(assignment).steps_done == [0, 1, 2]
    assert assignment.state == State.INCOMPLETE and not learner.quiz_open(assignment)
    learner.finish_step(assignment, 3)
    # A module with a quiz is not completed by its steps: the quiz opens.
    assert fresh(assignment).state == State.INCOMPLETE and learner.quiz_open(assignment)
    with pytest.raises(ValueError, match="step 4 does not exist"):
        learner.finish_step(assignment, 4)


def test_a_module_without_quiz_is_completed_by_its_last_step(world):
    assignment, _, _ = data.learner_link(world.staff_a1, data.module(quiz=False))
    for index in range(4):
        learner.finish_step(assignment, index)
    fresh(assignment)
    assert assignment.state == State.COMPLETED and assignment.completed_at
    year = timezone.localdate().year
    assert assignment.certificate_number == f"M-{year}-{assignment.pk:06d}"
    assert queued(assignment) == [(VERB("completed"), {"completion": True})]
    # Going through a step again changes nothing.
    learner.finish_step(assignment, 0)
    assert fresh(assignment).state == State.COMPLETED and len(queued(assignment)) == 1


def test_fail_then_pass_then_never_back_to_failed(world):
    assignment, _, _ = data.learner_link(world.staff_a1)
    learner.start(assignment)
    for index in range(4):
        learner.finish_step(assignment, index)

    attempt = learner.submit_quiz(assignment, data.HALF)
    assert (attempt.score, attempt.passed) == (50, False)
    fresh(assignment)
    assert assignment.state == State.FAILED and assignment.attempts == 1
    assert assignment.best_score == 50 and not assignment.certificate_number
    assert learner.quiz_open(assignment)  # a failed learner may retry

    attempt = learner.submit_quiz(assignment, data.RIGHT)
    assert (attempt.score, attempt.passed) == (100, True)
    fresh(assignment)
    assert assignment.state == State.PASSED and assignment.attempts == 2
    assert assignment.best_score == 100 and assignment.certificate_number
    assert not learner.quiz_open(assignment)
    number, completed_at = assignment.certificate_number, assignment.completed_at

    # A later (worse) attempt is kept, but passed stays passed, with the same certificate.
    learner.submit_quiz(assignment, {})
    fresh(assignment)
    assert assignment.state == State.PASSED and assignment.attempts == 3
    assert assignment.best_score == 100
    assert (assignment.certificate_number, assignment.completed_at) == (number, completed_at)
    (failed, failed_result), (passed, passed_result) = queued(assignment)
    assert (failed, passed) == (VERB("failed"), VERB("passed"))
    assert failed_result["score"] == {"scaled": 0.5, "raw": 50, "min": 0, "max": 100}
    assert failed_result["success"] is False
    assert passed_result["score"] == {"scaled": 1.0, "raw": 100, "min": 0, "max": 100}
    assert passed_result["success"] is True and passed_result["completion"] is True
    assert QuizAttempt.objects.filter(assignment=assignment).count() == 3


def test_a_module_without_quiz_refuses_a_quiz(world):
    assignment, _, _ = data.learner_link(world.staff_a1, data.module(quiz=False))
    with pytest.raises(ValueError, match="has no quiz"):
        learner.submit_quiz(assignment, {})


def test_a_newer_module_version_keeps_the_steps_that_still_exist(world):
    assignment, _, _ = data.learner_link(world.staff_a1)
    learner.start(assignment)
    for index in range(4):
        learner.finish_step(assignment, index)
    module = assignment.module
    module.content["steps"] = module.content["steps"][:2]
    module.version = 2
    module.save()
    learner.start(fresh(assignment))
    fresh(assignment)
    assert assignment.module_version == 2 and assignment.steps_done == [0, 1]


# Scoring ----------------------------------------------------------------------------------------
QUESTIONS = data.CONTENT["quiz"]["questions"]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (data.RIGHT, 100),
        (data.HALF, 50),
        ({}, 0),
        # A multiple-answer question is right only with exactly the correct set.
        ({**data.RIGHT, "q2": ["a"]}, 75),
        ({**data.RIGHT, "q2": ["a", "b", "c"]}, 75),
    ],
)
def test_score_counts_questions_answered_exactly(answers, expected):
    assert learner.score(QUESTIONS, answers) == expected


def test_score_rounds_half_up():
    questions = [
        {"id": str(i), "choices": [{"id": "ok", "correct": True}, {"id": "ko", "correct": False}]}
        for i in range(8)
    ]
    answers = {str(i): ["ok"] for i in range(5)}  # 5 / 8 = 62.5 %
    assert learner.score(questions, answers) == 63
    assert learner.score(questions, {str(i): ["ok"] for i in range(1)}) == 13  # 12.5 %
    assert learner.score([], {}) == 100


def test_unknown_answers_are_dropped_before_storing(world):
    assignment, _, _ = data.learner_link(world.staff_a1)
    attempt = learner.submit_quiz(
        assignment, {"q1": ["b", "zzz"], "q3": ["a", "b"], "evil": ["<script>"]}
    )
    assert attempt.answers == {"q1": ["b"], "q2": [], "q3": ["a"], "q4": []}
    assert attempt.score == 50


# Certificate ------------------------------------------------------------------------------------
def test_certificate_names_person_module_and_score(world):
    assignment, _, _ = data.learner_link(world.staff_a1)
    with pytest.raises(ValueError):
        learner.certificate_for(assignment)
    learner.submit_quiz(assignment, data.RIGHT)
    certificate = learner.certificate_for(fresh(assignment))
    assert certificate.person == str(world.staff_a1)
    assert certificate.title == "Repérer un message piégé"
    assert certificate.organisation == "CHU A1"
    assert certificate.number == assignment.certificate_number
    assert any("100 %" in line and "75 %" in line for line in certificate.details)


# Fresh links ------------------------------------------------------------------------------------
def test_mask_email():
    assert learner.mask_email("camille.martin@chu-exemple.fr") == "c•••@c•••.fr"
    assert learner.mask_email("a@localhost") == "a•••@l•••"
    assert learner.mask_email("broken") == "•••"


def test_send_assignment_link_mails_a_working_link(world, settings):
    settings.BASE_URL = "https://hygie.chu-exemple.fr"
    assignment, _, old_token = data.learner_link(world.staff_a1)
    assignment.due_date = date(2026, 6, 30)
    assignment.save()
    assert learner.send_assignment_link(assignment)
    [message] = mail.outbox
    assert message.to == [world.staff_a1.email]
    assert "Repérer un message piégé" in message.subject
    body = message.body
    assert "CHU A1" in body and "30 juin 2026" in body and "10 minutes" in body
    url = next(line for line in body.splitlines() if line.startswith("https://hygie."))
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert learner.resolve(token, None).outcome == Outcome.VALID
    assert url in message.alternatives[0][0]
    # The earlier link, never opened, no longer works: only the latest e-mail does.
    assert learner.resolve(old_token, None).outcome == Outcome.REVOKED


def test_a_link_already_bound_survives_a_fresh_one(world):
    assignment, link, token = data.learner_link(world.staff_a1)
    cookie = learner.bind(link, None)
    assert learner.send_assignment_link(assignment)
    assert learner.resolve(token, cookie).bound


def test_fresh_links_are_throttled_per_assignment(world):
    assignment, _, _ = data.learner_link(world.staff_a1)
    other, _, _ = data.learner_link(world.staff_a1, data.module("autre-module"))
    results = [learner.deliver_assignment_link(assignment) for _ in range(4)]
    assert results == [Delivery.SENT] * 3 + [Delivery.THROTTLED]
    assert len(mail.outbox) == 3
    assert learner.send_assignment_link(other)  # another assignment has its own budget


def test_no_address_no_link(world):
    world.staff_a1.email = ""
    world.staff_a1.save()
    assignment, _, _ = data.learner_link(world.staff_a1)
    assert learner.deliver_assignment_link(assignment) == Delivery.NO_ADDRESS
    assert not mail.outbox


def test_a_refused_message_keeps_nothing(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assignment, _, old_token = data.learner_link(world.staff_a1)
    assert learner.deliver_assignment_link(assignment) == Delivery.FAILED
    assert LearnerLink.objects.filter(assignment=assignment).count() == 1
    assert learner.resolve(old_token, None).outcome == Outcome.VALID
    assert links.DEFAULT_VALIDITY == timedelta(days=30)
