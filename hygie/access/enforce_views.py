"""Enforcement views: the decision endpoints for nginx and Envoy, the break-the-glass page
(reached through the proxy) and the review of break-the-glass accesses."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from hygie.access import break_glass
from hygie.access.models import BreakGlass
from hygie.access.pdp import context as ctx
from hygie.access.pdp import service
from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, VIEW
from hygie.orgs.services import can

ORG_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)
PATIENT_ID = re.compile(r"^[\w.-]{1,120}$")


def _inputs(request, *, method=None, path=None) -> ctx.HttpInputs:
    return ctx.HttpInputs.from_headers(
        request.headers, method=method, path=path, peer=request.META.get("REMOTE_ADDR", "")
    )


def _answer(status, headers, body) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return response


# Decision endpoints ------------------------------------------------------------------------------
@csrf_exempt
def authz_nginx(request, slug):
    """nginx `auth_request`: the original method and URI come as X-Original-Method/-URI."""
    return _answer(*service.handle(service.NGINX, slug, _inputs(request)))


@csrf_exempt
def authz_envoy(request, slug, rest=""):
    """Envoy `ext_authz` (HTTP service): the original path is appended to the prefix, the
    method is the original one."""
    query = request.META.get("QUERY_STRING", "")
    path = (rest or "/") + (f"?{query}" if query else "")
    inputs = _inputs(request, method=request.method, path=path)
    return _answer(*service.handle(service.ENVOY, slug, inputs))


# Break-the-glass through the proxy --------------------------------------------------------------
class BreakGlassForm(forms.Form):
    patient = forms.CharField(
        label=gettext_lazy("Patient (identifiant du dossier)"), max_length=120
    )
    reason = forms.CharField(
        label=gettext_lazy("Motif de l'accès en urgence"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=break_glass.MAX_REASON,
        help_text=gettext_lazy(
            "Obligatoire. Le DPO et le RSSI sont prévenus immédiatement et l'accès sera revu."
        ),
    )
    token = forms.CharField(widget=forms.HiddenInput)

    def clean_patient(self):
        value = self.cleaned_data["patient"].strip()
        if not PATIENT_ID.match(value):
            raise forms.ValidationError(_("Identifiant de patient invalide."))
        return value

    def clean_reason(self):
        value = " ".join(self.cleaned_data["reason"].split())
        if len(value) < break_glass.MIN_REASON:
            raise forms.ValidationError(
                _("Décrivez le motif en %(n)d caractères au moins.") % {"n": break_glass.MIN_REASON}
            )
        return value


def _form_token(slug, principal) -> str:
    return signing.dumps({"a": slug, "p": principal}, salt="access.break-glass")


def _token_ok(token, slug, principal) -> bool:
    try:
        data = signing.loads(token, salt="access.break-glass", max_age=3600)
    except signing.BadSignature:
        return False
    return data == {"a": slug, "p": principal}


def _safe_next(request, value: str) -> str:
    if value and value.startswith("/") and url_has_allowed_host_and_scheme(value, None):
        return value
    return "/"


@csrf_exempt  # through the proxy: a signed token bound to the person replaces the CSRF cookie
@require_http_methods(["GET", "POST"])
def break_glass_page(request, slug):
    inputs = _inputs(request)
    entry, status = service.authenticate(slug, inputs)
    if entry is None:
        return HttpResponse(status=status)
    application = entry.application
    try:
        identity = ctx.identify(application, inputs)
    except ctx.IdentityError:
        return HttpResponse(_("Identité requise."), status=401)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    initial_patient = ""
    if next_url != "/":
        *_rest, captures, _bare = ctx.match_route(application, "GET", next_url)
        initial_patient = captures.get("patient", "")
    if request.method == "POST":
        form = BreakGlassForm(request.POST)
        if form.is_valid() and not _token_ok(form.cleaned_data["token"], slug, identity.principal):
            form.add_error(None, _("Le formulaire a expiré : recommencez."))
        if form.is_valid():
            glass = break_glass.grant(
                application,
                principal=identity.principal,
                patient_id=form.cleaned_data["patient"],
                reason=form.cleaned_data["reason"],
                source_address=ctx.client_address(inputs),
            )
            response = HttpResponseRedirect(next_url)
            response.status_code = 303
            response["X-Hygie-Break-Glass"] = str(glass.pk)
            return response
    else:
        form = BreakGlassForm(
            initial={
                "patient": request.GET.get("patient", initial_patient),
                "token": _form_token(slug, identity.principal),
            }
        )
    return render(
        request,
        "access/break_glass.html",
        {
            "application": application,
            "principal": identity.principal,
            "form": form,
            "next": next_url,
            "hours": int(break_glass.DURATION.total_seconds() // 3600),
        },
        status=400 if request.method == "POST" else 200,
    )


# Review of break-the-glass ------------------------------------------------------------------------
def _organisation(request, org_id, action=VIEW) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=ORG_KINDS)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


class ReviewForm(forms.Form):
    review = forms.ChoiceField(
        label=gettext_lazy("Appréciation"),
        choices=[
            (BreakGlass.Review.JUSTIFIED, BreakGlass.Review.JUSTIFIED.label),
            (BreakGlass.Review.UNJUSTIFIED, BreakGlass.Review.UNJUSTIFIED.label),
        ],
    )
    note = forms.CharField(
        label=gettext_lazy("Observations"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


@login_required
@require_http_methods(["GET"])
def break_glass_list(request, org_id):
    node = _organisation(request, org_id)
    rows = (
        BreakGlass.objects.visible_to(request.user, VIEW)
        .filter(application__organisation__path__startswith=node.path)
        .select_related("application", "reviewed_by")
        .order_by("review", "-started_at")  # "pending" sorts first
    )
    now = timezone.now()
    return render(
        request,
        "access/break_glass_list.html",
        {
            "node": node,
            # One form per row, with its own ids, so each field keeps its label.
            "rows": [
                (g, g.expires_at > now, ReviewForm(auto_id=f"id_%s_{g.pk}")) for g in rows[:500]
            ],
            "pending": sum(1 for g in rows if g.review == BreakGlass.Review.PENDING),
            "can_review": can(request.user, CHANGE, node),
        },
    )


@login_required
@require_POST
def break_glass_review(request, pk):
    queryset = BreakGlass.objects.select_related("application__organisation")
    try:
        glass = get_for_action_or_refuse(queryset, request.user, CHANGE, seen_with=VIEW, pk=pk)
    except (ValueError, BreakGlass.DoesNotExist):
        raise Http404 from None
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Appréciation invalide."), status=400)
    BreakGlass.objects.filter(pk=glass.pk).update(
        review=form.cleaned_data["review"],
        review_note=form.cleaned_data["note"],
        reviewed_at=timezone.now(),
        reviewed_by=request.user,
    )
    record_event(
        "access.break_glass_reviewed",
        request=request,
        target=glass.application,
        organisation=glass.application.organisation,
        details={"break_glass": str(glass.pk), "review": form.cleaned_data["review"]},
    )
    return redirect("access:break_glass_list", glass.application.organisation_id)
