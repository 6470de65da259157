"""What a simulation's recipient reaches without an account: the open pixel, the link, the
landing form, the teachable-moment page and the report endpoint. The token in the URL (256
random bits) is the only identifier; an unknown one answers 404 like any missing page."""

from __future__ import annotations

import base64
import re

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from hygie.phishing import tracking
from hygie.phishing.lures import render_text, resolve_lure
from hygie.phishing.models import EventKind, Recipient

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _recipient(token: str) -> Recipient:
    if len(token) > 64:
        raise Http404
    return get_object_or_404(
        Recipient.objects.select_related("simulation__organisation", "staff", "service"),
        token=token,
    )


def _lure(recipient: Recipient):
    lure = resolve_lure(recipient.lure)
    if lure is None:
        raise Http404
    return lure


def _page(recipient: Recipient, lure, part: str) -> dict:
    """The landing or teachable texts with the recipient's placeholders filled in."""
    staff = recipient.staff
    context = {
        "prenom": staff.first_name if staff else "",
        "nom": staff.last_name if staff else "",
        "service": recipient.service.name if recipient.service_id else "",
        "etablissement": str(recipient.simulation.organisation),
        "date": date_format(timezone.localdate(), "DATE_FORMAT"),
        "lien": "",
        "pixel": "",
    }
    context["expediteur"] = render_text(
        lure.sender.display_name, {**context, "expediteur": ""}, single_line=True
    )
    source = getattr(lure, part)
    page = {"title": render_text(source.title, context, single_line=True)}
    if part == "landing":
        page["intro"] = render_text(source.intro, context)
    else:
        page["paragraphs"] = [render_text(text, context) for text in source.paragraphs]
    return page


def _private(response):
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_http_methods(["GET", "HEAD"])
def open_pixel(request, token: str):
    tracking.record(_recipient(token), EventKind.OPEN, request)
    return _private(HttpResponse(PIXEL, content_type="image/gif"))


_FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
_ACTION_OR_METHOD = re.compile(
    r"""\s(?:action|method)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE
)


def imported_page(html: str, submit_url: str) -> str:
    """An imported (GoPhish) landing page with every form posting to our submission URL."""

    def point(match: re.Match) -> str:
        tag = _ACTION_OR_METHOD.sub("", match.group(0))
        return tag[:5] + f' action="{escape(submit_url)}" method="post"' + tag[5:]

    return _FORM_TAG.sub(point, html)


@never_cache
@require_http_methods(["GET", "HEAD"])
def landing(request, token: str):
    recipient = _recipient(token)
    lure = _lure(recipient)
    tracking.record(recipient, EventKind.CLICK, request)
    if request.method == "HEAD":
        return _private(HttpResponse(status=200))
    if lure.landing_html:
        # Someone else's HTML on our origin: no script, an opaque origin (no cookie, no
        # storage), forms allowed only towards the submission endpoint, which keeps names only.
        submit_url = reverse("phishing:submit", args=[token])
        response = HttpResponse(imported_page(lure.landing_html, submit_url))
        response["Content-Security-Policy"] = (
            "sandbox allow-forms; default-src 'none'; style-src 'unsafe-inline'; "
            f"img-src data:; form-action {request.build_absolute_uri(submit_url)}"
        )
        return _private(response)
    response = render(
        request,
        "phishing/landing.html",
        {"lure": lure, "page": _page(recipient, lure, "landing"), "token": token},
    )
    return _private(response)


@csrf_exempt  # the token is the key; an imported page is sandboxed, without our cookie
@never_cache
@require_POST
def submit(request, token: str):
    recipient = _recipient(token)
    lure = _lure(recipient)
    # Only which fields were filled is kept: the values are never read beyond that test.
    filled = [
        field.name for field in lure.landing.fields if request.POST.get(field.name, "").strip()
    ]
    tracking.record(recipient, EventKind.SUBMIT, request, fields=filled)
    return redirect("phishing:teachable", token=token)


@never_cache
def teachable(request, token: str):
    recipient = _recipient(token)
    lure = _lure(recipient)
    return _private(
        render(
            request,
            "phishing/teachable.html",
            {
                "lure": lure,
                "page": _page(recipient, lure, "teachable"),
                # The staff information page of the person's establishment (results_views).
                "transparency_org_id": recipient.establishment_id
                or recipient.simulation.organisation_id,
            },
        )
    )


@csrf_exempt  # called by report buttons in mail clients; the token is the credential
@never_cache
@require_POST
def report(request, token: str):
    recipient = _recipient(token)
    tracking.record(recipient, EventKind.REPORT, request)
    return JsonResponse({"ok": True})
