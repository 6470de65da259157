"""Pages of the policy area: protected applications, routes, network zones, policy versions,
test cases, "what if", the decision log and the shadow-mode report.

Thin: objects come through `visible_to` / `get_visible_or_404` / `get_for_action_or_refuse`;
the rules are in policies.py and decisions.py. VIEW reads, CHANGE edits routes, policies and
tests, MANAGE creates and deletes applications, switches the mode, handles secrets and zones.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hygie.access import decisions as decision_log
from hygie.access import policies
from hygie.access.models import Decision, NetworkZone, PolicyVersion, ProtectedApplication
from hygie.access.pdp import engine, proxy_config
from hygie.access.policy_forms import (
    ApplicationForm,
    DecisionFilterForm,
    DraftForm,
    ModeForm,
    PolicyForm,
    PolicyTestForm,
    RouteFormSet,
    WhatIfForm,
    ZoneFormSet,
)
from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can

ORG_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)
PAGE_SIZE = 50


def _organisation(request, org_id, action=VIEW) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=ORG_KINDS)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def _application(request, pk, action=VIEW) -> ProtectedApplication:
    queryset = ProtectedApplication.objects.select_related("organisation", "active_policy")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)


def _can(request, action, organisation) -> bool:
    return can(request.user, action, organisation)


def _app_context(request, application, here, **extra) -> dict:
    org = application.organisation
    return {
        "application": application,
        "node": org,
        "here": here,
        "can_change": _can(request, CHANGE, org),
        "can_manage": _can(request, MANAGE, org),
        **extra,
    }


def proxy_configs(application) -> dict:
    """The nginx and Envoy configuration texts shown on the application page."""
    return {
        "nginx": proxy_config.nginx_config(application),
        "envoy": proxy_config.envoy_config(application),
    }


# Applications -------------------------------------------------------------------------------------------
@login_required
@require_GET
def application_list(request, org_id):
    node = _organisation(request, org_id)
    since = timezone.now() - dt.timedelta(hours=24)
    applications = (
        ProtectedApplication.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation", "active_policy")
        .annotate(
            allowed_24h=Count(
                "decisions", filter=Q(decisions__at__gte=since, decisions__allowed=True)
            ),
            denied_24h=Count(
                "decisions", filter=Q(decisions__at__gte=since, decisions__allowed=False)
            ),
        )
    )
    return render(
        request,
        "access/application_list.html",
        {
            "node": node,
            "applications": applications,
            "can_manage": _can(request, MANAGE, node),
        },
    )


def _show_secret(request, application, *, created: bool):
    return render(
        request,
        "access/application_secret.html",
        _app_context(
            request, application, "detail", secret=application.proxy_secret, created=created
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_create(request, org_id):
    node = _organisation(request, org_id, MANAGE)
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            application = form.save(commit=False)
            application.organisation = node
            application.proxy_secret = policies.generate_secret()
            application.save()
            policies.save_version(
                application,
                policies.starter_policy(),
                user=request.user,
                comment=_("Politique de départ"),
            )
            record_event(
                "access.application.created",
                request=request,
                target=application,
                organisation=node,
                details={"slug": application.slug, "mode": application.mode},
            )
            policies.record_zero_trust(node)
        return _show_secret(request, application, created=True)
    return render(
        request,
        "access/application_form.html",
        {"node": node, "form": form, "application": None},
    )


@login_required
@require_GET
def application_detail(request, pk):
    application = _application(request, pk)
    return render(
        request,
        "access/application_detail.html",
        _app_context(
            request,
            application,
            "detail",
            mode_form=ModeForm(initial={"mode": application.mode}),
            routes=application.routes.all(),
            configs=proxy_configs(application),
            has_token_key=bool(application.token_key),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    application = _application(request, pk, MANAGE)
    form = ApplicationForm(request.POST or None, instance=application)
    if request.method == "POST" and form.is_valid():
        changed = [f for f in form.changed_data if f != "token_key"]
        if form.cleaned_data.get("token_key"):
            changed.append("token_key")
        with transaction.atomic():  # the change and its journal entry, or neither
            form.save()
            record_event(
                "access.application.changed",
                request=request,
                target=application,
                organisation=application.organisation,
                details={"fields": changed},
            )
        messages.success(request, _("Application enregistrée."))
        return redirect("access:application_detail", pk=application.pk)
    return render(
        request,
        "access/application_form.html",
        {"node": application.organisation, "form": form, "application": application},
    )


@login_required
@require_POST
def application_delete(request, pk):
    application = _application(request, pk, MANAGE)
    organisation = application.organisation
    if request.POST.get("confirm") != application.slug:
        messages.error(
            request,
            _("Saisissez l'identifiant « %(slug)s » pour confirmer.") % {"slug": application.slug},
        )
        return redirect("access:application_detail", pk=application.pk)
    with transaction.atomic():
        record_event(
            "access.application.deleted",
            request=request,
            target=application,
            organisation=organisation,
            details={"slug": application.slug, "name": application.name},
        )
        # The application's decision log goes with it (the cascade uses the base manager, not
        # the append-only one); the deletion itself is journalled above.
        application.delete()
        policies.record_zero_trust(organisation)
    messages.success(request, _("Application supprimée."))
    return redirect("access:applications", org_id=organisation.pk)


@login_required
@require_POST
def application_secret(request, pk):
    application = _application(request, pk, MANAGE)
    application.proxy_secret = policies.generate_secret()
    application.save(update_fields=["proxy_secret", "updated_at"])
    record_event(
        "access.application.secret_regenerated",
        request=request,
        target=application,
        organisation=application.organisation,
    )
    return _show_secret(request, application, created=False)


@login_required
@require_POST
def application_mode(request, pk):
    application = _application(request, pk, MANAGE)
    form = ModeForm(request.POST)
    if form.is_valid() and policies.set_mode(
        application, form.cleaned_data["mode"], user=request.user, request=request
    ):
        messages.success(request, _("Mode : %(mode)s.") % {"mode": application.get_mode_display()})
    return redirect("access:application_detail", pk=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def application_routes(request, pk):
    application = _application(request, pk, VIEW if request.method == "GET" else CHANGE)
    formset = RouteFormSet(
        request.POST if request.method == "POST" else None,
        queryset=application.routes.all(),
        prefix="routes",
    )
    if request.method == "POST" and formset.is_valid():
        with transaction.atomic():
            kept = formset.save_rows("application", application)
            record_event(
                "access.routes.changed",
                request=request,
                target=application,
                organisation=application.organisation,
                details={"routes": kept},
            )
        messages.success(request, _("Routes enregistrées (%(n)s lignes).") % {"n": kept})
        return redirect("access:application_routes", pk=application.pk)
    return render(
        request,
        "access/application_routes.html",
        _app_context(request, application, "routes", formset=formset),
    )


# Network zones ---------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def zones(request, org_id):
    node = _organisation(request, org_id, VIEW if request.method == "GET" else MANAGE)
    formset = ZoneFormSet(
        request.POST if request.method == "POST" else None,
        queryset=NetworkZone.objects.filter(organisation=node),
        prefix="zones",
    )
    if request.method == "POST" and formset.is_valid():
        with transaction.atomic():
            kept = formset.save_rows("organisation", node, positions=False)
            record_event(
                "access.zones.changed",
                request=request,
                target=node,
                organisation=node,
                details={"zones": kept},
            )
        messages.success(request, _("Zones réseau enregistrées (%(n)s plages).") % {"n": kept})
        return redirect("access:zones", org_id=node.pk)
    return render(
        request,
        "access/zone_list.html",
        {"node": node, "formset": formset, "can_manage": _can(request, MANAGE, node)},
    )


# Policies ----------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, pk):
    application = _application(request, pk, VIEW if request.method == "GET" else CHANGE)
    active = application.active_policy
    initial = {"text": active.text if active else policies.starter_policy()}
    form = PolicyForm(request.POST or None, initial=initial)
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            version = policies.save_version(
                application,
                form.cleaned_data["text"],
                user=request.user,
                comment=form.cleaned_data["comment"],
            )
        except engine.PolicyError as error:
            problems = error.problems
        else:
            messages.success(request, _("Version %(n)s active.") % {"n": version.number})
            return redirect("access:policy", pk=application.pk)
    status = 422 if problems else 200
    return render(
        request,
        "access/policy_edit.html",
        _app_context(
            request,
            application,
            "policy",
            form=form,
            problems=problems,
            annotated=policies.annotate(form.data.get("text", ""), problems) if problems else [],
        ),
        status=status,
    )


@login_required
@require_GET
def policy_history(request, pk):
    application = _application(request, pk)
    return render(
        request,
        "access/policy_history.html",
        _app_context(
            request,
            application,
            "history",
            versions=application.policy_versions.select_related("created_by"),
        ),
    )


def _version(application, number) -> PolicyVersion:
    return get_object_or_404(application.policy_versions, number=number)


@login_required
@require_GET
def policy_version(request, pk, number):
    application = _application(request, pk)
    version = _version(application, number)
    against = request.GET.get("against")
    if against and against.isdecimal():
        older = application.policy_versions.filter(number=int(against)).first()
    else:
        older = application.policy_versions.filter(number__lt=version.number).first()
    return render(
        request,
        "access/policy_version.html",
        _app_context(
            request,
            application,
            "history",
            version=version,
            older=older,
            diff=policies.diff(older, version),
            others=application.policy_versions.exclude(pk=version.pk).values_list(
                "number", flat=True
            ),
        ),
    )


@login_required
@require_POST
def policy_activate(request, pk, number):
    application = _application(request, pk, CHANGE)
    version = _version(application, number)
    try:
        policies.activate(application, version, user=request.user)
    except engine.PolicyError as error:
        messages.error(
            request,
            _("La version %(n)s n'est plus valide : %(e)s") % {"n": version.number, "e": error},
        )
    else:
        messages.success(request, _("Version %(n)s réactivée.") % {"n": version.number})
    return redirect("access:policy_history", pk=application.pk)


# Test cases and "what if" ---------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def policy_tests(request, pk):
    """The test cases with their results against the active version, or (POST) a draft."""
    application = _application(request, pk)
    draft_form = DraftForm(request.POST or None)
    problems = []
    results = []
    against = "active"
    text = None
    if request.method == "POST" and draft_form.is_valid() and draft_form.cleaned_data["draft"]:
        text = draft_form.cleaned_data["draft"]
        against = "draft"
    try:
        results = [
            {"test": test, "result": result, "passed": policies.passed(test, result)}
            for test, result in policies.run_tests(application, text=text)
        ]
    except engine.PolicyError as error:
        problems = error.problems
    return render(
        request,
        "access/policy_tests.html",
        _app_context(
            request,
            application,
            "tests",
            results=results,
            failed=sum(1 for r in results if not r["passed"]),
            draft_form=draft_form,
            against=against,
            problems=problems,
        ),
    )


def _test_form_page(request, application, form, test=None):
    return render(
        request,
        "access/policy_test_form.html",
        _app_context(request, application, "tests", form=form, test=test),
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_test_create(request, pk):
    application = _application(request, pk, CHANGE)
    form = PolicyTestForm(request.POST or None, initial={"hour": 10, "weekday": 1, "zone": "care"})
    if request.method == "POST" and form.is_valid():
        form.save(application)
        messages.success(request, _("Cas de test enregistré."))
        return redirect("access:policy_tests", pk=application.pk)
    return _test_form_page(request, application, form)


@login_required
@require_http_methods(["GET", "POST"])
def policy_test_edit(request, pk, test_id):
    application = _application(request, pk, CHANGE)
    test = get_object_or_404(application.policy_tests, pk=test_id)
    form = PolicyTestForm(request.POST or None, instance=test)
    if request.method == "POST" and form.is_valid():
        form.save(application)
        messages.success(request, _("Cas de test enregistré."))
        return redirect("access:policy_tests", pk=application.pk)
    return _test_form_page(request, application, form, test)


@login_required
@require_POST
def policy_test_delete(request, pk, test_id):
    application = _application(request, pk, CHANGE)
    get_object_or_404(application.policy_tests, pk=test_id).delete()
    messages.success(request, _("Cas de test supprimé."))
    return redirect("access:policy_tests", pk=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def what_if(request, pk):
    application = _application(request, pk)
    form = WhatIfForm(
        request.POST or None, initial={"hour": 10, "weekday": 1, "zone": "care", "sensitivity": 2}
    )
    result = None
    problems = []
    against = None
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["draft"]
        against = "draft" if text else "active"
        if not text:
            text = application.active_policy.text if application.active_policy else ""
        try:
            result = policies.decide_document(text, form.document())
        except engine.PolicyError as error:
            problems = error.problems
    return render(
        request,
        "access/policy_what_if.html",
        _app_context(
            request,
            application,
            "what_if",
            form=form,
            result=result,
            problems=problems,
            against=against,
        ),
    )


# Decision log ------------------------------------------------------------------------------------------------
def _decision_scope(request, org_id=None, pk=None):
    """(node, application or None, queryset of visible decisions in scope)."""
    visible = Decision.objects.visible_to(request.user, VIEW).select_related("application")
    if pk is not None:
        application = _application(request, pk)
        return application.organisation, application, visible.filter(application=application)
    node = _organisation(request, org_id)
    return node, None, visible.filter(application__organisation__path__startswith=node.path)


def _filtered(request, node, application, queryset):
    applications = (
        None
        if application
        else ProtectedApplication.objects.visible_to(request.user, VIEW).filter(
            organisation__path__startswith=node.path
        )
    )
    form = DecisionFilterForm(request.GET or None, applications=applications)
    if form.is_bound and form.is_valid():
        queryset = decision_log.filter_decisions(queryset, form.cleaned_data)
    return form, queryset


@login_required
@require_GET
def decision_list(request, org_id=None, pk=None):
    node, application, queryset = _decision_scope(request, org_id, pk)
    form, queryset = _filtered(request, node, application, queryset)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    export_base = (
        reverse("access:app_decisions_export", args=[application.pk, "jsonl"])
        if application
        else reverse("access:decisions_export", args=[node.pk, "jsonl"])
    )
    return render(
        request,
        "access/decision_list.html",
        {
            "node": node,
            "application": application,
            "here": "decisions",
            "form": form,
            "page_obj": page,
            "query": query.urlencode(),
            "export_jsonl": export_base,
            "export_syslog": export_base[: -len("jsonl/")] + "syslog/",
        },
    )


@login_required
@require_GET
def decision_export(request, fmt, org_id=None, pk=None):
    if fmt not in ("jsonl", "syslog"):
        raise Http404
    node, application, queryset = _decision_scope(request, org_id, pk)
    form, queryset = _filtered(request, node, application, queryset)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "access/decision_list.html",
            {"node": node, "application": application, "form": form, "page_obj": None},
            status=400,
        )
    record_event(
        "access.decisions.exported",
        request=request,
        target=application or node,
        organisation=node,
        details={"format": fmt, "filters": request.GET.dict(), "rows": queryset.count()},
    )
    if fmt == "jsonl":
        stream = decision_log.export_jsonl(queryset)
        content_type, extension = "application/x-ndjson; charset=utf-8", "jsonl"
    else:
        stream = decision_log.export_syslog(queryset)
        content_type, extension = "text/plain; charset=utf-8", "log"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = application.slug if application else f"org{node.pk}"
    response = StreamingHttpResponse(stream, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="decisions-{name}-{stamp}.{extension}"'
    return response


@login_required
@require_GET
def decision_detail(request, decision_id):
    decision = get_visible_or_404(
        Decision.objects.select_related("application__organisation"),
        request.user,
        VIEW,
        pk=decision_id,
    )
    return render(
        request,
        "access/decision_detail.html",
        {
            "decision": decision,
            "application": decision.application,
            "node": decision.application.organisation,
            "inputs_json": json.dumps(
                decision.inputs, ensure_ascii=False, indent=2, sort_keys=True
            ),
        },
    )


@login_required
@require_GET
def shadow_report(request, pk):
    application = _application(request, pk)
    days = request.GET.get("days", "30")
    days = int(days) if days.isdecimal() and 0 < int(days) <= 3650 else 30
    since = timezone.now() - dt.timedelta(days=days)
    queryset = Decision.objects.filter(application=application, at__gte=since)
    report = decision_log.shadow_report(queryset, application.routes.all())
    return render(
        request,
        "access/decision_shadow.html",
        _app_context(request, application, "shadow", report=report, days=days),
    )
