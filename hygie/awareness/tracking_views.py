"""Tracking pages: campaigns, the progress dashboard, the HR export, xAPI settings and export.

Campaigns belong to an establishment or a GHT: reading needs "view", creating, editing,
opening, assigning and closing "change". The dashboard answers "aggregate" too: analysts see
figures only, small groups masked (decision 0532). Exports are nominative: "view". The LRS
settings hold a secret: "manage".
"""

from __future__ import annotations

import csv
import io
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hygie.awareness import services, tally
from hygie.awareness.models import (
    DONE_STATES,
    Assignment,
    Campaign,
    CampaignKind,
    CampaignStatus,
    LearningRecordStore,
    State,
    Statement,
)
from hygie.awareness.tracking_forms import CampaignForm, LrsForm
from hygie.core.audit import record_event
from hygie.core.exports import safe_cell
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.dashboards import charts
from hygie.dashboards.services import SMALL_CELL
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import AGGREGATE, CHANGE, MANAGE, VIEW
from hygie.orgs.services import can

OWNER_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)


def _node(request, org_id: int, action: str = VIEW) -> Organisation:
    if action == VIEW:
        return get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(
        Organisation.objects, request.user, action, seen_with=VIEW, pk=org_id
    )


def _campaign(request, campaign_id: int, action: str = VIEW) -> Campaign:
    queryset = Campaign.objects.select_related("organisation", "simulation")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=campaign_id)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=campaign_id)


# Campaigns ----------------------------------------------------------------------------------------
@login_required
def campaigns(request, org_id: int):
    node = _node(request, org_id)
    rows = (
        Campaign.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .annotate(
            assigned=Count("assignments"),
            done=Count("assignments", filter=Q(assignments__state__in=DONE_STATES)),
        )
    )
    return render(
        request,
        "awareness/campaign_list.html",
        {
            "node": node,
            "campaigns": rows,
            "can_create": node.kind in OWNER_KINDS and can(request.user, CHANGE, node),
            "can_manage": node.kind in OWNER_KINDS and can(request.user, MANAGE, node),
        },
    )


@login_required
def campaign_create(request, org_id: int):
    node = _node(request, org_id, CHANGE)
    if node.kind not in OWNER_KINDS:
        raise Http404
    initial = {}
    if request.GET.get("simulation", "").isdigit():
        initial = {"kind": CampaignKind.SIMULATION, "simulation": request.GET["simulation"]}
    form = CampaignForm(request.POST or None, node=node, initial=initial)
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.organisation = node
        campaign.created_by = request.user
        campaign.save()
        form.save_m2m()
        record_event(
            "awareness.campaign_create",
            request=request,
            target=campaign,
            organisation=node,
            details={"name": campaign.name, "kind": campaign.kind},
        )
        messages.success(request, _("Campagne « %(name)s » créée.") % {"name": campaign.name})
        return redirect("awareness:campaign", campaign.pk)
    return render(
        request, "awareness/campaign_form.html", {"node": node, "form": form, "campaign": None}
    )


@login_required
def campaign_edit(request, campaign_id: int):
    campaign = _campaign(request, campaign_id, CHANGE)
    if campaign.status == CampaignStatus.CLOSED:
        messages.error(request, _("Une campagne clôturée ne se modifie plus."))
        return redirect("awareness:campaign", campaign.pk)
    node = campaign.organisation
    old_due = campaign.due_date
    form = CampaignForm(request.POST or None, node=node, instance=campaign)
    if campaign.status == CampaignStatus.OPEN:
        form.fields["kind"].disabled = True  # the people already assigned came from this kind
    if request.method == "POST" and form.is_valid():
        campaign = form.save()
        if campaign.due_date != old_due and campaign.kind != CampaignKind.ONBOARDING:
            # A new deadline applies to everyone who has not finished yet.
            campaign.assignments.exclude(state__in=DONE_STATES).update(due_date=campaign.due_date)
            tally.rebuild_soon(
                campaign.assignments.order_by()
                .values_list("establishment_id", flat=True)
                .distinct()
            )
        record_event(
            "awareness.campaign_edit",
            request=request,
            target=campaign,
            organisation=node,
            details={"name": campaign.name},
        )
        messages.success(request, _("Campagne enregistrée."))
        return redirect("awareness:campaign", campaign.pk)
    return render(
        request,
        "awareness/campaign_form.html",
        {"node": node, "form": form, "campaign": campaign},
    )


@login_required
def campaign_detail(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    node = campaign.organisation
    preview = services.targeting_preview(campaign)
    rows = services.progress(node, "service", campaign=campaign)
    return render(
        request,
        "awareness/campaign_detail.html",
        {
            "node": node,
            "campaign": campaign,
            "modules": campaign.modules.all(),
            "preview": preview,
            "rows": rows,
            "total": services.total_row(rows),
            "can_change": can(request.user, CHANGE, node),
            "scope_label": services.SIMULATION_SCOPES.get(campaign.simulation_scope, ""),
        },
    )


@login_required
@require_POST
def campaign_open(request, campaign_id: int):
    campaign = _campaign(request, campaign_id, CHANGE)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _("Cette campagne est déjà ouverte."))
        return redirect("awareness:campaign", campaign.pk)
    if not campaign.modules.exists():
        messages.error(request, _("Choisissez au moins un module avant d'ouvrir la campagne."))
        return redirect("awareness:campaign", campaign.pk)
    created = services.open_campaign(campaign, actor=request.user)
    messages.success(request, _("Campagne ouverte : %(n)s module(s) attribué(s).") % {"n": created})
    return redirect("awareness:campaign", campaign.pk)


@login_required
@require_POST
def campaign_assign(request, campaign_id: int):
    campaign = _campaign(request, campaign_id, CHANGE)
    if campaign.status != CampaignStatus.OPEN:
        messages.error(request, _("Seule une campagne en cours attribue des modules."))
        return redirect("awareness:campaign", campaign.pk)
    created = services.assign(campaign, actor=request.user)
    messages.success(
        request, _("%(n)s nouvelle(s) attribution(s) (personnes arrivées depuis).") % {"n": created}
    )
    return redirect("awareness:campaign", campaign.pk)


@login_required
@require_POST
def campaign_close(request, campaign_id: int):
    campaign = _campaign(request, campaign_id, CHANGE)
    if campaign.status != CampaignStatus.OPEN:
        messages.error(request, _("Seule une campagne en cours peut être clôturée."))
        return redirect("awareness:campaign", campaign.pk)
    facts = services.close_campaign(campaign, actor=request.user)
    messages.success(
        request,
        _("Campagne clôturée ; couverture enregistrée comme preuve pour %(n)s établissement(s).")
        % {"n": len(facts)},
    )
    return redirect("awareness:campaign", campaign.pk)


# Progress dashboard -------------------------------------------------------------------------------
BREAKDOWN_TITLES = {
    "service": _("Par service"),
    "job_family": _("Par famille de métiers"),
    "site": _("Par site"),
}


@login_required
def progress(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, AGGREGATE, pk=org_id)
    nominative = can(request.user, VIEW, node)
    board = services.dashboard(node, nominative=nominative)
    sections = []
    for key, rows in board.breakdowns.items():
        title = str(BREAKDOWN_TITLES[key])
        picture = None
        if any(not row.masked and row.assigned for row in rows):
            picture = charts.bars(
                f"chart-{key}",
                _("Modules terminés — %(title)s") % {"title": title.lower()},
                [(row.label, row.completion_rate, None) for row in rows],
            )
        sections.append({"key": key, "title": title, "rows": rows, "picture": picture})
    trend_picture = None
    if any(point.rate is not None for point in board.trend):
        trend_picture = charts.line(
            "chart-trend",
            _("Part des modules attribués terminés, fin de chaque mois"),
            [(f"{point.month:%m/%y}", point.rate) for point in board.trend],
        )
    return render(
        request,
        "awareness/tracking_progress.html",
        {
            "node": node,
            "board": board,
            "sections": sections,
            "trend_picture": trend_picture,
            "small_cell": SMALL_CELL,
            "can_export": nominative,
        },
    )


# HR export ----------------------------------------------------------------------------------------
HR_HEADER = [
    "nom",
    "prénom",
    "identifiant",
    "établissement",
    "service",
    "module",
    "version",
    "état",
    "score",
    "date de réalisation",
    "numéro d'attestation",
    "échéance",
    "campagne",
]
HR_COLUMNS = (
    "staff__last_name",
    "staff__first_name",
    "staff__external_id",
    "establishment__name",
    "service__name",
    "module__title",
    "module_version",
    "state",
    "best_score",
    "completed_at",
    "certificate_number",
    "due_date",
    "campaign__name",
)
STATE_LABELS = dict(State.choices)


def hr_rows(assignments, chunk_size: int = 2000):
    """CSV text in chunks: UTF-8 with a BOM, `;` separators, formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(HR_HEADER)
    values = assignments.order_by(
        "staff__last_name", "staff__first_name", "staff_id", "module__title", "pk"
    ).values_list(*HR_COLUMNS)
    for index, row in enumerate(values.iterator(chunk_size=chunk_size), start=1):
        *head, version, state, score, completed, certificate, due, campaign = row
        cells = [
            *(value or "" for value in head),
            version or "",
            str(STATE_LABELS.get(state, state)),
            "" if score is None else score,
            timezone.localtime(completed).strftime("%d/%m/%Y") if completed else "",
            certificate,
            due.strftime("%d/%m/%Y") if due else "",
            campaign or "",
        ]
        writer.writerow([safe_cell(cell) if isinstance(cell, str) else cell for cell in cells])
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@login_required
def progress_csv(request, org_id: int):
    node = _node(request, org_id)
    assignments = Assignment.objects.visible_to(request.user, VIEW).filter(
        establishment__path__startswith=node.path
    )
    campaign_id = request.GET.get("campagne", "")
    if campaign_id.isdigit():
        assignments = assignments.filter(campaign_id=int(campaign_id))
    record_event(
        "awareness.export_csv",
        request=request,
        organisation=node,
        details={"campaign": campaign_id or None},
    )
    response = StreamingHttpResponse(hr_rows(assignments), content_type="text/csv; charset=utf-8")
    name = slugify(node.short_name or node.name) or "organisation"
    response["Content-Disposition"] = (
        f'attachment; filename="formations-{name}-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response


# xAPI ---------------------------------------------------------------------------------------------
@login_required
def xapi_settings(request, org_id: int):
    node = _node(request, org_id, MANAGE)
    if node.kind not in OWNER_KINDS:
        raise Http404
    store = LearningRecordStore.objects.filter(organisation=node).first()
    form = LrsForm(request.POST or None, instance=store)
    if request.method == "POST" and form.is_valid():
        store = form.save(commit=False)
        store.organisation = node
        store.save()
        record_event(
            "awareness.lrs_save",
            request=request,
            target=store,
            organisation=node,
            details={"endpoint": store.endpoint, "enabled": store.enabled},
        )
        messages.success(request, _("Learning record store enregistré."))
        return redirect("awareness:xapi_settings", node.pk)
    outbox = Statement.objects.filter(establishment__path__startswith=node.path).aggregate(
        pending=Count("pk", filter=Q(sent_at__isnull=True)),
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        failing=Count("pk", filter=Q(sent_at__isnull=True, attempts__gt=0)),
    )
    return render(
        request,
        "awareness/tracking_xapi.html",
        {"node": node, "form": form, "store": store, "outbox": outbox},
    )


@login_required
def statements_json(request, org_id: int):
    """The organisation's xAPI statements as one JSON array (for an LRS import or an audit)."""
    node = _node(request, org_id)
    statements = (
        Statement.objects.visible_to(request.user, VIEW)
        .filter(establishment__path__startswith=node.path)
        .order_by("created_at", "pk")
        .values_list("statement", flat=True)
    )

    def chunks():
        yield "["
        for index, body in enumerate(statements.iterator(chunk_size=1000)):
            yield ("," if index else "") + json.dumps(body, ensure_ascii=False)
        yield "]"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    name = slugify(node.short_name or node.name) or "organisation"
    response["Content-Disposition"] = f'attachment; filename="xapi-{name}.json"'
    return response
