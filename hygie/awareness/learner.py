"""What a learner without an account does with a personal link: open it, follow a module's
steps, take its quiz, get a certificate, ask for a fresh link.

Plain functions over models, no HTTP (the pages are in `learner_views.py`). Decisions:
0510 (what "valid", "already used" and "revoked" mean), 0511 (state machine and scoring),
0512 (fresh links by e-mail).
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

# `services` imports this module as well (for `send_assignment_link`): a module import, used
# only inside functions, works whichever of the two is imported first.
from hygie.awareness import links, services, tally
from hygie.awareness.certificates import Certificate, new_certificate_number
from hygie.awareness.models import (
    DONE_STATES,
    Assignment,
    LearnerLink,
    LinkPurpose,
    QuizAttempt,
    State,
)
from hygie.core import throttle

log = logging.getLogger(__name__)

# The cookie that identifies a learner's browser (its value is random; only a digest is kept
# on the links it opened). One cookie per browser, shared by all the links it opens.
BROWSER_COOKIE = "hygie_apprenant"
BROWSER_COOKIE_PATH = "/apprendre/"
BROWSER_COOKIE_AGE = 400 * 24 * 3600  # the longest lifetime browsers accept

# Fresh links sent for one assignment: by the learner ("m'envoyer un nouveau lien") or by
# reminders. Enough for a genuine retry, not enough to flood someone's mailbox.
NEW_LINK_SCOPE = "awareness.learner_link"
NEW_LINK_CAPACITY = 3
NEW_LINK_PER_SECONDS = 3600

# A token is 43 URL-safe characters; anything much longer is not ours (and is not looked up).
MAX_TOKEN_LENGTH = 100


class Outcome(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED_ELSEWHERE = "used_elsewhere"  # bound to another browser
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass
class Opening:
    """What opening a link gives: the outcome, the link when known, and whether the link is
    already bound to this very browser (False for a link nobody has started yet)."""

    outcome: Outcome
    link: LearnerLink | None = None
    bound: bool = False

    @property
    def valid(self) -> bool:
        return self.outcome == Outcome.VALID


def browser_digest(cookie_value: str) -> str:
    return hashlib.sha256(f"learner-browser:{cookie_value}".encode()).hexdigest()


def resolve(token: str, browser_cookie: str | None, *, now=None) -> Opening:
    """The outcome of opening `token` in the browser carrying `browser_cookie`.

    Opening never binds: a mail scanner that follows the link must not spend it (decision 0510).
    The browser is bound by `bind`, when the learner presses "Commencer".
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return Opening(Outcome.UNKNOWN)
    link = (
        LearnerLink.objects.select_related(
            "staff",
            "assignment__module",
            "assignment__staff",
            "assignment__establishment",
        )
        .filter(token_digest=links.digest(token))
        .first()
    )
    if link is None:
        return Opening(Outcome.UNKNOWN)
    now = now or timezone.now()
    if link.revoked_at is not None:
        return Opening(Outcome.REVOKED, link)
    if link.expires_at <= now:
        return Opening(Outcome.EXPIRED, link)
    if not link.browser_digest:
        return Opening(Outcome.VALID, link, bound=False)
    if browser_cookie and secrets.compare_digest(
        link.browser_digest, browser_digest(browser_cookie)
    ):
        return Opening(Outcome.VALID, link, bound=True)
    return Opening(Outcome.USED_ELSEWHERE, link)


def bind(link: LearnerLink, browser_cookie: str | None, *, now=None) -> str | None:
    """Bind `link` to this browser; returns the cookie value to keep (a new one when the
    browser had none), or None when another browser got there first."""
    cookie = browser_cookie or secrets.token_urlsafe(32)
    mine = browser_digest(cookie)
    now = now or timezone.now()
    # Conditional update: of two tabs or two devices racing, exactly one wins.
    won = LearnerLink.objects.filter(pk=link.pk, browser_digest="").update(
        browser_digest=mine, first_used_at=now
    )
    if not won:
        link.refresh_from_db(fields=["browser_digest", "first_used_at"])
        if not secrets.compare_digest(link.browser_digest, mine):
            return None
    else:
        link.browser_digest, link.first_used_at = mine, now
    return cookie


# Progress ---------------------------------------------------------------------------------------
def steps_of(assignment: Assignment) -> list[dict]:
    return list(assignment.module.content.get("steps") or [])


def questions_of(assignment: Assignment) -> list[dict]:
    quiz = assignment.module.content.get("quiz") or {}
    return list(quiz.get("questions") or [])


def all_steps_done(assignment: Assignment) -> bool:
    return set(range(len(steps_of(assignment)))) <= set(assignment.steps_done)


def quiz_open(assignment: Assignment) -> bool:
    """The quiz opens once every step has been gone through (decision 0511); never again
    after a pass."""
    return (
        assignment.module.has_quiz
        and assignment.state != State.PASSED
        and all_steps_done(assignment)
    )


def _locked(assignment: Assignment) -> Assignment:
    """The assignment row, locked for the rest of the transaction, with its module."""
    fresh = Assignment.objects.select_for_update().get(pk=assignment.pk)
    fresh.module = assignment.module
    fresh.staff = assignment.staff
    fresh.establishment = assignment.establishment
    return fresh


def _copy_progress(source: Assignment, target: Assignment) -> None:
    for name in (
        "state",
        "module_version",
        "started_at",
        "completed_at",
        "steps_done",
        "attempts",
        "best_score",
        "certificate_number",
    ):
        setattr(target, name, getattr(source, name))


def start(assignment: Assignment, *, now=None) -> None:
    """The learner opened the module: not_attempted → incomplete, with the module's version.

    A newer version of the module while still in progress: steps that no longer exist are
    forgotten, the others are kept (the learner is not sent back to the start for a typo fix).
    """
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(assignment)
        before = tally.snapshot(row)
        changed = []
        if row.state == State.NOT_ATTEMPTED:
            row.state, row.started_at = State.INCOMPLETE, now
            changed += ["state", "started_at"]
        if row.state not in DONE_STATES and row.module_version != row.module.version:
            row.module_version = row.module.version
            count = len(steps_of(row))
            row.steps_done = [i for i in row.steps_done if i < count]
            changed += ["module_version", "steps_done"]
        if changed:
            row.save(update_fields=changed)
            tally.move(before, tally.snapshot(row))
        _copy_progress(row, assignment)


def finish_step(assignment: Assignment, index: int, *, now=None) -> None:
    """The learner went through step `index`; the last step of a module without a quiz
    completes it."""
    count = len(steps_of(assignment))
    if not 0 <= index < count:
        raise ValueError(f"step {index} does not exist (the module has {count})")
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(assignment)
        before = tally.snapshot(row)
        if row.state == State.NOT_ATTEMPTED:
            row.state, row.started_at = State.INCOMPLETE, now
        if row.module_version is None:
            row.module_version = row.module.version
        row.steps_done = sorted(set(row.steps_done) | {index})
        completes = not row.module.has_quiz and row.state not in DONE_STATES and all_steps_done(row)
        if completes:
            row.state = State.COMPLETED
            _draw_certificate(row, now)
        row.save(
            update_fields=[
                "state",
                "started_at",
                "module_version",
                "steps_done",
                "completed_at",
                "certificate_number",
            ]
        )
        tally.move(before, tally.snapshot(row))
        if completes:
            _statement(row, "completed", {"completion": True})
        _copy_progress(row, assignment)


def score(questions: list[dict], answers: dict[str, list[str]]) -> int:
    """Percentage of questions answered exactly right (the set of chosen choices equals the set
    of correct ones), rounded half up: 5 right out of 8 is 63 %, not 62 % (decision 0511)."""
    if not questions:
        return 100
    right = sum(
        1
        for question in questions
        if set(answers.get(question["id"], []))
        == {choice["id"] for choice in question["choices"] if choice["correct"]}
    )
    total = len(questions)
    return (200 * right + total) // (2 * total)


def clean_answers(questions: list[dict], answers: dict[str, list[str]]) -> dict[str, list[str]]:
    """Only known questions and known choices are kept (a single choice for a single-answer
    question); the rest is dropped rather than stored."""
    kept = {}
    for question in questions:
        known = {choice["id"] for choice in question["choices"]}
        chosen = sorted({c for c in answers.get(question["id"], []) if c in known})
        if not question.get("multiple"):
            chosen = chosen[:1]
        kept[question["id"]] = chosen
    return kept


def submit_quiz(assignment: Assignment, answers: dict[str, list[str]], *, now=None) -> QuizAttempt:
    """Record one attempt and move the state: passed on a score ≥ the pass mark, failed
    otherwise — except that a passed module stays passed (a later attempt is still kept)."""
    module = assignment.module
    if not module.has_quiz:
        raise ValueError(f"the module {module.slug} has no quiz")
    now = now or timezone.now()
    questions = questions_of(assignment)
    answers = clean_answers(questions, answers)
    result = score(questions, answers)
    passed = result >= module.pass_mark
    with transaction.atomic():
        row = _locked(assignment)
        before = tally.snapshot(row)
        attempt = QuizAttempt.objects.create(
            assignment=row,
            module_version=module.version,
            submitted_at=now,
            answers=answers,
            score=result,
            passed=passed,
        )
        row.attempts += 1
        row.best_score = result if row.best_score is None else max(row.best_score, result)
        if row.started_at is None:
            row.started_at = now
        if row.module_version is None:
            row.module_version = module.version
        verb = None
        if row.state != State.PASSED:
            if passed:
                row.state = State.PASSED
                _draw_certificate(row, now)
                verb = "passed"
            else:
                row.state = State.FAILED
                verb = "failed"
        row.save(
            update_fields=[
                "attempts",
                "best_score",
                "started_at",
                "module_version",
                "state",
                "completed_at",
                "certificate_number",
            ]
        )
        tally.move(before, tally.snapshot(row))
        if verb:
            _statement(
                row,
                verb,
                {
                    "score": {"scaled": result / 100, "raw": result, "min": 0, "max": 100},
                    "success": passed,
                    "completion": True,
                },
            )
        _copy_progress(row, assignment)
    return attempt


def _draw_certificate(row: Assignment, now) -> None:
    row.completed_at = now
    if not row.certificate_number:
        row.certificate_number = new_certificate_number("M", row.pk, timezone.localdate(now))


def _statement(assignment: Assignment, verb: str, result: dict) -> None:
    """Queue the xAPI statement in the tracking area's outbox (decision 0513)."""
    services.record_statement(assignment, verb, result=result)


# Certificates -----------------------------------------------------------------------------------
def certificate_for(assignment: Assignment) -> Certificate:
    if assignment.state not in DONE_STATES or not assignment.certificate_number:
        raise ValueError("no certificate before the module is completed or passed")
    module = assignment.module
    details = [_("Durée : %(minutes)s min") % {"minutes": module.duration_minutes}]
    if assignment.best_score is not None and module.has_quiz:
        details.insert(
            0,
            _("Score : %(score)s %% (seuil de réussite : %(mark)s %%)")
            % {"score": assignment.best_score, "mark": module.pass_mark},
        )
    details.append(
        _("Version du module : %(version)s")
        % {"version": assignment.module_version or module.version}
    )
    return Certificate(
        number=assignment.certificate_number,
        person=str(assignment.staff),
        title=module.title,
        kind=_("Module de sensibilisation"),
        organisation=str(assignment.establishment),
        on=timezone.localdate(assignment.completed_at),
        details=details,
    )


# Fresh links ------------------------------------------------------------------------------------
def mask_email(address: str) -> str:
    """Enough for its owner to recognise the address, not enough to learn it:
    camille.martin@chu-exemple.fr → c•••@c•••.fr."""
    local, _at, domain = address.partition("@")
    if not local or not domain:
        return "•••"
    host, dot, tld = domain.rpartition(".")
    if not host:
        host, dot, tld = domain, "", ""
    return f"{local[0]}•••@{host[0]}•••{dot}{tld}"


class Delivery(enum.StrEnum):
    SENT = "sent"
    NO_ADDRESS = "no_address"
    THROTTLED = "throttled"
    FAILED = "failed"


def send_assignment_link(assignment: Assignment, *, now=None) -> bool:
    """E-mail a fresh link for `assignment` to the person's address on file; False when
    nothing was sent (see `deliver_assignment_link` for why)."""
    return deliver_assignment_link(assignment, now=now) == Delivery.SENT


def deliver_assignment_link(assignment: Assignment, *, now=None) -> Delivery:
    """Send a fresh link, or say why not: no address, the fresh-link budget of this assignment
    is spent (decision 0512), or the mail server refused (nothing is kept then).

    Links sent earlier and never opened are revoked: only the latest e-mail works, while a link
    already bound to a browser keeps working there.
    """
    staff = assignment.staff
    if not staff.email:
        return Delivery.NO_ADDRESS
    if not throttle.allow(
        NEW_LINK_SCOPE,
        str(assignment.pk),
        capacity=NEW_LINK_CAPACITY,
        per_seconds=NEW_LINK_PER_SECONDS,
    ):
        return Delivery.THROTTLED
    now = now or timezone.now()
    try:
        with transaction.atomic():
            LearnerLink.objects.filter(
                purpose=LinkPurpose.ASSIGNMENT,
                assignment=assignment,
                browser_digest="",
                revoked_at__isnull=True,
            ).update(revoked_at=now)
            link, token = links.issue_link(assignment=assignment, now=now)
            _link_message(assignment, link, token).send()
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("learner link for assignment %s not sent: %s", assignment.pk, exc)
        return Delivery.FAILED
    return Delivery.SENT


def _link_message(assignment: Assignment, link: LearnerLink, token: str) -> EmailMultiAlternatives:
    context = {
        "staff": assignment.staff,
        "module": assignment.module,
        "establishment": assignment.establishment,
        "due_date": assignment.due_date,
        "done": assignment.state in DONE_STATES,
        "url": links.link_url(token),
        "expires_at": link.expires_at,
        "base_url": settings.BASE_URL,
    }
    subject = render_to_string("awareness/learner_email_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("awareness/learner_email.txt", context),
        to=[assignment.staff.email],
    )
    message.attach_alternative(
        render_to_string("awareness/learner_email.html", context), "text/html"
    )
    return message
