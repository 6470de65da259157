"""Action-plan pages. Thin: objects come through `visible_to`, the work is in services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hygie.actions import exchange, services
from hygie.actions.forms import (
    ActionItemForm,
    GenerateForm,
    ImportForm,
    PlanFilterForm,
    PoolForm,
    ShareForm,
)
from hygie.actions.models import ActionItem, ActionMember
from hygie.actions.plan import lines_for
from hygie.actions.timeline import build_timeline
from hygie.assessments.models import Campaign
from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, VIEW

PLAN_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)


def _plan_organisation(request, org_id: int, action: str = VIEW) -> Organisation:
    """An establishment or GHT whose plan the user may see (404) and act on (403)."""
    organisations = Organisation.objects.filter(kind__in=PLAN_KINDS)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def _filters(request, node):
    owners = services.eligible_owners(node)
    form = PlanFilterForm(owners, request.GET or None)
    return form, (form.cleaned_data if form.is_valid() else {})


def _plan_url(node) -> str:
    return reverse("actions:plan", args=[node.pk])


@login_required
@require_GET
def plan(request, org_id: int):
    node = _plan_organisation(request, org_id)
    form, filters = _filters(request, node)
    lines = lines_for(node, filters)
    can_change = services.can(request.user, CHANGE, node)
    ght = services.ght_of(node)
    campaigns = Campaign.objects.visible_to(request.user, VIEW).filter(organisation=node)
    return render(
        request,
        "actions/plan.html",
        {
            "node": node,
            "lines": lines,
            "form": form,
            "can_change": can_change,
            "can_pool": ght is not None and services.can(request.user, CHANGE, ght),
            "generate_form": GenerateForm(campaigns) if can_change else None,
            "has_campaigns": campaigns.exists(),
            "overdue_count": sum(1 for line in lines if line.overdue),
        },
    )


@login_required
@require_POST
def generate(request, org_id: int):
    node = _plan_organisation(request, org_id, CHANGE)
    campaigns = Campaign.objects.visible_to(request.user, VIEW).filter(organisation=node)
    form = GenerateForm(campaigns, request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Choisissez une campagne d'auto-évaluation de %(org)s.") % {"org": node}
        )
        return redirect(_plan_url(node))
    report = services.generate_from_gaps(
        form.cleaned_data["campaign"],
        request.user,
        include_not_assessed=form.cleaned_data["include_not_assessed"],
        request=request,
    )
    messages.success(
        request,
        _(
            "%(created)s action(s) créée(s) depuis les écarts, %(skipped)s écart(s) déjà couvert(s) "
            "par une action ouverte."
        )
        % {"created": report.created_count, "skipped": report.skipped},
    )
    return redirect(_plan_url(node))


@login_required
@require_http_methods(["GET", "POST"])
def item_create(request, org_id: int):
    node = _plan_organisation(request, org_id, CHANGE)
    form = ActionItemForm(request.POST or None, user=request.user, organisation=node)
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        item.organisation = node
        services.normalise_progress(item)
        item.save()
        record_event("actions.item_created", request=request, target=item, organisation=node)
        messages.success(request, _("Action « %(title)s » ajoutée.") % {"title": item.title})
        return redirect(_plan_url(node))
    return render(
        request,
        "actions/item_form.html",
        {"node": node, "form": form, "title": _("Nouvelle action")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request, item_id: int):
    item = get_for_action_or_refuse(
        ActionItem.objects.select_related("organisation"),
        request.user,
        CHANGE,
        seen_with=VIEW,
        pk=item_id,
    )
    node = item.organisation
    form = ActionItemForm(request.POST or None, instance=item, user=request.user, organisation=node)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            item = form.save(commit=False)
            services.normalise_progress(item)
            item.save()
            record_event(
                "actions.item_changed",
                request=request,
                target=item,
                organisation=node,
                details={"fields": sorted(form.changed_data)},
            )
        messages.success(request, _("Action « %(title)s » enregistrée.") % {"title": item.title})
        return redirect(_plan_url(node))
    return render(
        request,
        "actions/item_form.html",
        {
            "node": node,
            "form": form,
            "item": item,
            "shares": item.members.select_related("member"),
            "title": _("Modifier l'action"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_pool(request, item_id: int):
    """« Mutualiser au niveau du GHT »: needs change on the GHT, not only on the establishment."""
    item = get_visible_or_404(
        ActionItem.objects.select_related("organisation", "node"), request.user, VIEW, pk=item_id
    )
    ght = services.ght_of(item.organisation)
    if ght is None or item.pooled_into_id:
        raise Http404
    if not services.can(request.user, CHANGE, ght):
        raise PermissionDenied
    form = PoolForm(item, ght, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pooled = services.pool(
                item,
                form.cleaned_data["members"],
                into=form.cleaned_data["into"],
                user=request.user,
                request=request,
            )
        except services.PlanError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("Action mutualisée au niveau de %(ght)s pour %(count)s établissement(s).")
                % {"ght": ght, "count": pooled.members.count()},
            )
            return redirect(reverse("actions:coherence", args=[ght.pk]))
    return render(
        request,
        "actions/pool_form.html",
        {"node": item.organisation, "item": item, "ght": ght, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_edit(request, share_id: int):
    """A member establishment updates its own share of a pooled action."""
    share = get_for_action_or_refuse(
        ActionMember.objects.select_related("action", "member", "action__organisation"),
        request.user,
        CHANGE,
        seen_with=VIEW,
        pk=share_id,
    )
    form = ShareForm(request.POST or None, instance=share)
    if request.method == "POST" and form.is_valid():
        services.update_share(
            share,
            status=form.cleaned_data["status"],
            progress=form.cleaned_data["progress"],
            note=form.cleaned_data["note"],
            user=request.user,
            request=request,
        )
        messages.success(
            request, _("Avancement de %(member)s enregistré.") % {"member": share.member}
        )
        return redirect(_plan_url(share.member))
    return render(
        request, "actions/share_form.html", {"node": share.member, "share": share, "form": form}
    )


@login_required
@require_GET
def coherence(request, org_id: int):
    ght = get_visible_or_404(
        Organisation.objects.filter(kind=Kind.GHT), request.user, VIEW, pk=org_id
    )
    actions, rows = services.coherence(ght)
    return render(
        request,
        "actions/coherence.html",
        {
            "node": ght,
            "actions": actions,
            "rows": rows,
            "lag_points": services.LAG_POINTS,
            "can_change": services.can(request.user, CHANGE, ght),
        },
    )


@login_required
@require_GET
def timeline(request, org_id: int):
    node = _plan_organisation(request, org_id)
    form, filters = _filters(request, node)
    lines = lines_for(node, filters)
    return render(
        request,
        "actions/timeline.html",
        {
            "node": node,
            "form": form,
            "lines": lines,
            "chart": build_timeline(lines),
            "can_change": services.can(request.user, CHANGE, node),
        },
    )


def _download(node, content: bytes, extension: str, content_type: str) -> HttpResponse:
    name = f"plan-action-{slugify(node.short_name or node.name)}-{timezone.localdate():%Y%m%d}"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@login_required
@require_GET
def export_xlsx(request, org_id: int):
    node = _plan_organisation(request, org_id)
    _form, filters = _filters(request, node)
    lines = lines_for(node, filters)
    record_event(
        "actions.exported",
        request=request,
        target=node,
        organisation=node,
        details={"format": "xlsx", "rows": len(lines)},
    )
    return _download(
        node,
        exchange.export_xlsx(node, lines),
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
@require_GET
def export_pdf(request, org_id: int):
    node = _plan_organisation(request, org_id)
    _form, filters = _filters(request, node)
    lines = lines_for(node, filters)
    record_event(
        "actions.exported",
        request=request,
        target=node,
        organisation=node,
        details={"format": "pdf", "rows": len(lines)},
    )
    return _download(node, exchange.export_pdf(node, lines), "pdf", "application/pdf")


@login_required
@require_http_methods(["GET", "POST"])
def import_plan(request, org_id: int):
    node = _plan_organisation(request, org_id, CHANGE)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > exchange.MAX_IMPORT_BYTES:
            form.add_error("file", _("Le fichier dépasse 5 Mo."))
        else:
            report = exchange.import_xlsx(node, upload.read(), user=request.user, request=request)
            if report.ok:
                messages.success(
                    request,
                    _(
                        "Import terminé : %(created)s créée(s), %(updated)s mise(s) à jour, "
                        "%(unchanged)s inchangée(s)."
                    )
                    % {
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                    },
                )
                return redirect(_plan_url(node))
    return render(
        request,
        "actions/import.html",
        {"node": node, "form": form, "report": report, "can_change": True},
    )
