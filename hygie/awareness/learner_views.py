"""Pages a learner reaches from a personal link, without an account.

The token in the URL is the key; the browser that pressed "Commencer" first is bound to the
link by a cookie (decision 0510). Every page answers a clear page, never an error, for a link
that is expired (410), revoked (410) or already used from another browser (403); an unknown
token gets the generic "lien invalide" page (404). No response is cached or sends a referrer:
the token is in the address (decision 0514).
"""

from __future__ import annotations

import functools
import re

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from hygie.awareness import kit_views, learner, session_views
from hygie.awareness.certificates import render_certificate
from hygie.awareness.learner import Delivery, Outcome
from hygie.awareness.models import DONE_STATES, LinkPurpose, State

# Pages other areas serve behind the same entry point, for their kinds of link.
PURPOSE_PAGES = {
    LinkPurpose.SESSION: session_views.session_learner_page,
    LinkPurpose.KIT: kit_views.kit_learner_page,
}

PROBLEM_STATUS = {
    Outcome.EXPIRED: 410,
    Outcome.REVOKED: 410,
    Outcome.USED_ELSEWHERE: 403,
    Outcome.UNKNOWN: 404,
}


# The token is in the address: no Referer header ever carries a path, to other sites or to us.
# Not "no-referrer": browsers then send `Origin: null` with form posts, which the CSRF check
# rightly refuses (decision 0514).
REFERRER_POLICY = "strict-origin"


def _private(response):
    response["Referrer-Policy"] = REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _problem(request, opening, *, status=None):
    link = opening.link
    can_resend = (
        opening.outcome != Outcome.UNKNOWN
        and link is not None
        and link.purpose == LinkPurpose.ASSIGNMENT
        and bool(link.assignment.staff.email)
    )
    context = {
        "outcome": str(opening.outcome),
        "link": link,
        "can_resend": can_resend,
        "masked_email": learner.mask_email(link.assignment.staff.email) if can_resend else "",
        "token": request.resolver_match.kwargs.get("token", ""),
    }
    return render(
        request,
        "awareness/learner_problem.html",
        context,
        status=status or PROBLEM_STATUS[opening.outcome],
    )


def learner_page(view):
    """Resolve the link for `view(request, opening)`; refuse with the right page when it is not
    valid, and send a browser not yet bound back to the link's welcome page."""

    @functools.wraps(view)
    @never_cache
    def wrapper(request, token: str, *args, **kwargs):
        opening = learner.resolve(token, request.COOKIES.get(learner.BROWSER_COOKIE))
        if not opening.valid:
            return _private(_problem(request, opening))
        if not opening.bound or opening.link.purpose != LinkPurpose.ASSIGNMENT:
            return _private(redirect("awareness:learner_open", token=token))
        return _private(view(request, opening, token, *args, **kwargs))

    return wrapper


def _context(opening, token: str, **extra) -> dict:
    assignment = opening.link.assignment
    return {
        "assignment": assignment,
        "module": assignment.module,
        "token": token,
        "steps": learner.steps_of(assignment),
        **extra,
    }


# Entry point --------------------------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def open_link(request, token: str):
    """The address in the e-mail: a welcome page until a browser is bound, then the module
    (or, for a session or kit link, that area's page)."""
    opening = learner.resolve(token, request.COOKIES.get(learner.BROWSER_COOKIE))
    if not opening.valid:
        return _private(_problem(request, opening))
    link = opening.link
    if not opening.bound:
        if request.method == "POST":
            return _private(redirect("awareness:learner_open", token=token))
        return _private(
            render(request, "awareness/learner_welcome.html", {"link": link, "token": token})
        )
    if link.purpose != LinkPurpose.ASSIGNMENT:
        return _private(PURPOSE_PAGES[link.purpose](request, link))
    if request.method == "POST":
        return _private(HttpResponse(status=405, headers={"Allow": "GET, HEAD"}))
    return _private(_home(request, opening, token))


def _home(request, opening, token: str):
    assignment = opening.link.assignment
    steps = learner.steps_of(assignment)
    done = set(assignment.steps_done)
    next_step = next((i for i in range(len(steps)) if i not in done), None)
    rows = [
        {"number": i + 1, "title": step.get("title", ""), "kind": step["kind"], "done": i in done}
        for i, step in enumerate(steps)
    ]
    return render(
        request,
        "awareness/learner_home.html",
        _context(
            opening,
            token,
            rows=rows,
            done_count=len(done & set(range(len(steps)))),
            next_number=None if next_step is None else next_step + 1,
            quiz_open=learner.quiz_open(assignment),
            is_done=assignment.state in DONE_STATES,
            has_attempt=assignment.attempts > 0,
        ),
    )


@never_cache
@require_POST
def start(request, token: str):
    """The "Commencer" button: bind this browser to the link (decision 0510), start the module."""
    cookie = request.COOKIES.get(learner.BROWSER_COOKIE)
    opening = learner.resolve(token, cookie)
    if not opening.valid:
        return _private(_problem(request, opening))
    link = opening.link
    if not opening.bound:
        cookie = learner.bind(link, cookie)
        if cookie is None:
            return _private(_problem(request, learner.Opening(Outcome.USED_ELSEWHERE, link)))
    if link.purpose == LinkPurpose.ASSIGNMENT:
        learner.start(link.assignment)
    response = redirect("awareness:learner_open", token=token)
    response.set_cookie(
        learner.BROWSER_COOKIE,
        cookie,
        max_age=learner.BROWSER_COOKIE_AGE,
        path=learner.BROWSER_COOKIE_PATH,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return _private(response)


# Steps --------------------------------------------------------------------------------------------
_MARK = re.compile(r'<mark data-sign="([^"]+)"')
_HREF = re.compile(r'\shref="([^"]*)"')


def _inert(body_html: str) -> str:
    """The practice e-mail's links lead nowhere: their target shows as a tooltip, which is
    where a learner should look."""
    return _HREF.sub(lambda m: f' title="{m.group(1)}" data-href="{m.group(1)}"', body_html)


def _marked_email(body_html: str, classes: dict[str, str]) -> str:
    """The e-mail body with each zone's verdict as a class (found, missed, decoy…)."""

    def tag(match):
        css = classes.get(match.group(1), "")
        return match.group(0) + (f' class="{escape(css)}"' if css else "")

    return _MARK.sub(tag, _inert(body_html))


def _options(step: dict, token: str, index: int) -> list[dict]:
    """Signs and decoys in one list, in an order that does not give away which is which
    (stable for a given link, so a reload does not reshuffle)."""
    items = [*step.get("signs", []), *step.get("decoys", [])]
    return sorted(items, key=lambda item: learner.browser_digest(f"{token}:{index}:{item['id']}"))


@learner_page
@require_http_methods(["GET", "HEAD", "POST"])
def step(request, opening, token: str, number: int):
    assignment = opening.link.assignment
    steps = learner.steps_of(assignment)
    index = number - 1
    if not 0 <= index < len(steps):
        return redirect("awareness:learner_open", token=token)
    current = steps[index]
    kind = current["kind"]
    is_last = index == len(steps) - 1
    if is_last:
        following = reverse(
            "awareness:learner_quiz" if assignment.module.has_quiz else "awareness:learner_open",
            args=[token],
        )
    else:
        following = reverse("awareness:learner_step", args=[token, number + 1])
    context = _context(
        opening,
        token,
        step=current,
        number=number,
        count=len(steps),
        following=following,
        is_last=is_last,
        feedback=None,
        error="",
    )
    if kind == "spot_signs":
        context["options"] = _options(current, token, index)
        context["email_html"] = mark_safe(_inert(current["email"]["body_html"]))  # noqa: S308
    if kind in ("scenario", "passphrase"):
        context["choices"] = current.get("choices") or current.get("candidates") or []
    if request.method != "POST":
        return render(request, "awareness/learner_step.html", context)

    if kind == "lesson":
        learner.finish_step(assignment, index)
        return redirect(following)
    if kind == "spot_signs":
        ticked = set(request.POST.getlist("signes"))
        signs = current.get("signs", [])
        decoys = current.get("decoys", [])
        feedback = {
            "found": [s for s in signs if s["id"] in ticked],
            "missed": [s for s in signs if s["id"] not in ticked],
            "wrong": [d for d in decoys if d["id"] in ticked],
            "spared": [d for d in decoys if d["id"] not in ticked],
            "ticked": ticked,
        }
        classes = {s["id"]: "sign-found" for s in feedback["found"]}
        classes |= {s["id"]: "sign-missed" for s in feedback["missed"]}
        classes |= {d["id"]: "decoy-ticked" for d in feedback["wrong"]}
        classes |= {d["id"]: "decoy" for d in feedback["spared"]}
        context["email_html"] = mark_safe(  # noqa: S308 (the loader's HTML, our classes)
            _marked_email(current["email"]["body_html"], classes)
        )
        context["feedback"] = feedback
        learner.finish_step(assignment, index)
        return render(request, "awareness/learner_step.html", context)
    # scenario, passphrase: one choice, then its feedback (and the right answer when wrong).
    choices = context["choices"]
    chosen = next((c for c in choices if c["id"] == request.POST.get("choix")), None)
    if chosen is None:
        context["error"] = _("Choisissez une réponse avant de valider.")
        return render(request, "awareness/learner_step.html", context)
    context["feedback"] = {
        "chosen": chosen,
        "right": [c for c in choices if c["correct"] and c["id"] != chosen["id"]],
    }
    learner.finish_step(assignment, index)
    return render(request, "awareness/learner_step.html", context)


# Quiz, result, certificate ------------------------------------------------------------------------
@learner_page
@require_http_methods(["GET", "HEAD", "POST"])
def quiz(request, opening, token: str):
    assignment = opening.link.assignment
    if assignment.state == State.PASSED:
        return redirect("awareness:learner_result", token=token)
    if not learner.quiz_open(assignment):
        return redirect("awareness:learner_open", token=token)
    questions = learner.questions_of(assignment)
    answers = {q["id"]: request.POST.getlist(f"q-{q['id']}") for q in questions}
    missing = []
    if request.method == "POST":
        missing = [q["id"] for q in questions if not answers[q["id"]]]
        if not missing:
            learner.submit_quiz(assignment, answers)
            return redirect("awareness:learner_result", token=token)
    rows = [
        {
            "number": n,
            "question": q,
            "chosen": set(answers[q["id"]]),
            "missing": q["id"] in missing,
        }
        for n, q in enumerate(questions, start=1)
    ]
    return render(
        request,
        "awareness/learner_quiz.html",
        _context(
            opening,
            token,
            rows=rows,
            missing=[r for r in rows if r["missing"]],
            attempt_number=assignment.attempts + 1,
        ),
    )


@learner_page
@require_http_methods(["GET", "HEAD"])
def result(request, opening, token: str):
    assignment = opening.link.assignment
    attempt = assignment.quiz_attempts.order_by("-submitted_at", "-pk").first()
    if attempt is None:
        return redirect("awareness:learner_open", token=token)
    questions = learner.questions_of(assignment)
    wrong = []
    for number, question in enumerate(questions, start=1):
        expected = {c["id"] for c in question["choices"] if c["correct"]}
        chosen = set(attempt.answers.get(question["id"], []))
        if chosen != expected:
            wrong.append(
                {
                    "number": number,
                    "question": question,
                    "chosen": [c["text"] for c in question["choices"] if c["id"] in chosen],
                }
            )
    return render(
        request,
        "awareness/learner_result.html",
        _context(
            opening,
            token,
            attempt=attempt,
            wrong=wrong,
            right_count=len(questions) - len(wrong),
            question_count=len(questions),
            is_done=assignment.state in DONE_STATES,
        ),
    )


@learner_page
@require_http_methods(["GET", "HEAD"])
def certificate(request, opening, token: str):
    assignment = opening.link.assignment
    if assignment.state not in DONE_STATES:
        return render(
            request, "awareness/learner_no_certificate.html", _context(opening, token), status=409
        )
    pdf = render_certificate(learner.certificate_for(assignment))
    response = HttpResponse(pdf, content_type="application/pdf")
    name = slugify(f"attestation {assignment.module.slug} {assignment.certificate_number}")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


# A fresh link -------------------------------------------------------------------------------------
@never_cache
@require_POST
def new_link(request, token: str):
    """The "new link" button: a fresh link to the address on file, never shown in full
    (decision 0512)."""
    opening = learner.resolve(token, request.COOKIES.get(learner.BROWSER_COOKIE))
    link = opening.link
    if link is None:
        return _private(_problem(request, opening))
    if link.purpose != LinkPurpose.ASSIGNMENT or not link.assignment.staff.email:
        return _private(_problem(request, opening, status=PROBLEM_STATUS.get(opening.outcome, 409)))
    delivery = learner.deliver_assignment_link(link.assignment)
    status = {Delivery.SENT: 200, Delivery.THROTTLED: 429}.get(delivery, 503)
    return _private(
        render(
            request,
            "awareness/learner_link_sent.html",
            {
                "delivery": str(delivery),
                "masked_email": learner.mask_email(link.assignment.staff.email),
                "link": link,
            },
            status=status,
        )
    )
