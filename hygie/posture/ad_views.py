"""Active Directory audit pages: audits per domain with their trend, one audit, its report,
export upload and live connections. Thin: objects come through `visible_to`; the work is in
ad/audits.py, ad/report.py and ad/tasks.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.dashboards import charts
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can
from hygie.posture.ad import audits, report
from hygie.posture.ad.snapshot import ExportError
from hygie.posture.ad_forms import ConnectionForm, ExportUploadForm
from hygie.posture.models import ADAudit, ADFinding, DirectoryConnection

AUDIT_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)


def _organisation(request, org_id, action=VIEW) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=AUDIT_KINDS)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def _object(request, queryset, pk, action=VIEW):
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)


def _audit(request, pk) -> ADAudit:
    return _object(request, ADAudit.objects.select_related("organisation"), pk)


def _list_url(node) -> str:
    return reverse("posture:ad_audits", args=[node.pk])


def _domains(request, node) -> list[dict]:
    """The domains audited under the node, each with its audits (newest first) and trend."""
    rows = (
        ADAudit.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .defer("stats")  # the figures of every audit (password ages…) are not shown here
        .order_by("domain", "organisation__name", "collected_at", "pk")
    )
    domains: dict[tuple[int, str], list[ADAudit]] = {}
    for audit in rows:
        domains.setdefault((audit.organisation_id, audit.domain), []).append(audit)
    result = []
    for index, ((_org, domain), history) in enumerate(domains.items()):
        pairs = []
        for position, audit in enumerate(history):
            before = history[position - 1] if position else None
            pairs.append((audit, audit.score - before.score if before else None))
        picture = None
        if len(history) > 1:
            picture = charts.line(
                f"ad-trend-{index}",
                _("Score de risque du domaine %(domain)s au fil des audits (0 = aucun risque)")
                % {"domain": domain},
                [
                    (timezone.localtime(a.collected_at).strftime("%d/%m/%y"), a.score)
                    for a in history
                ],
            )
        result.append(
            {
                "domain": domain,
                "organisation": history[-1].organisation,
                "latest": history[-1],
                "rows": list(reversed(pairs)),
                "picture": picture,
            }
        )
    return result


def _page(request, node, *, form=None, export_error=None, status=200):
    can_manage = can(request.user, MANAGE, node)
    connections = (
        DirectoryConnection.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
    )
    return render(
        request,
        "posture/ad_audits.html",
        {
            "node": node,
            "domains": _domains(request, node),
            "connections": connections,
            "can_manage": can_manage,
            "form": form if form is not None else (ExportUploadForm() if can_manage else None),
            "export_error": export_error,
        },
        status=status,
    )


@login_required
@require_GET
def audit_list(request, org_id):
    return _page(request, _organisation(request, org_id))


@login_required
@require_POST
def audit_upload(request, org_id):
    node = _organisation(request, org_id, MANAGE)
    form = ExportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, node, form=form, status=400)
    files = form.cleaned_data["files"]
    names = ", ".join(f.name for f in files)
    try:
        from hygie.posture.ad import exports

        snapshot = exports.load_export([(f.name, f.read()) for f in files])
    except ExportError as exc:
        record_event(
            "posture.ad_export_refused",
            request=request,
            organisation=node,
            details={"files": names[:500], "error": str(exc)[:500]},
        )
        return _page(request, node, form=form, export_error=exc, status=400)
    audit = audits.record_audit(node, snapshot, user=request.user, filename=names)
    messages.success(
        request,
        _("Audit du domaine %(domain)s enregistré : score %(score)s/100.")
        % {"domain": audit.domain, "score": audit.score},
    )
    return redirect("posture:ad_audit", audit.pk)


@login_required
@require_GET
def audit_detail(request, pk):
    audit = _audit(request, pk)
    context = report.report_context(audit)
    context["can_change"] = can(request.user, CHANGE, audit.organisation)
    return render(request, "posture/ad_audit.html", context)


@login_required
@require_GET
def audit_report(request, pk):
    audit = _audit(request, pk)
    return render(request, "posture/ad_report.html", report.report_context(audit))


@login_required
@require_GET
def audit_report_pdf(request, pk):
    audit = _audit(request, pk)
    response = HttpResponse(report.render_pdf(audit), content_type="application/pdf")
    day = timezone.localtime(audit.collected_at).strftime("%Y-%m-%d")
    name = slugify(audit.domain) or "domaine"
    response["Content-Disposition"] = f'attachment; filename="audit-ad-{name}-{day}.pdf"'
    return response


@login_required
@require_POST
def finding_action(request, pk):
    finding = _object(
        request, ADFinding.objects.select_related("audit__organisation"), pk, action=CHANGE
    )
    if finding.rule_id in audits.INVENTORY_RULES:
        return redirect(reverse("posture:assets", args=[finding.audit.organisation_id]))
    item = audits.create_action(finding, actor=request.user, request=request)
    messages.success(request, _("Action du plan : « %(title)s ».") % {"title": item.title})
    return redirect(reverse("posture:ad_audit", args=[finding.audit_id]) + f"#finding-{pk}")


# Live connections -------------------------------------------------------------------------------
def _connection(request, pk) -> DirectoryConnection:
    return _object(
        request, DirectoryConnection.objects.select_related("organisation"), pk, action=MANAGE
    )


@login_required
@require_http_methods(["GET", "POST"])
def connection_create(request, org_id):
    node = _organisation(request, org_id, MANAGE)
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        connection = form.save(commit=False)
        connection.organisation = node
        connection.created_by = request.user
        connection.save()
        record_event(
            "posture.ad_connection_created", request=request, target=connection, organisation=node
        )
        messages.success(request, _("Connexion enregistrée."))
        return redirect(_list_url(node))
    return render(
        request,
        "posture/ad_connection_form.html",
        {"node": node, "form": form, "title": _("Nouvelle connexion à l'annuaire")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def connection_edit(request, pk):
    connection = _connection(request, pk)
    node = connection.organisation
    form = ConnectionForm(request.POST or None, instance=connection)
    if request.method == "POST" and form.is_valid():
        password_changed = bool(form.cleaned_data.get("bind_password"))
        form.save()
        record_event(
            "posture.ad_connection_changed",
            request=request,
            target=connection,
            organisation=node,
            details={"fields": form.changed_data, "password_changed": password_changed},
        )
        messages.success(request, _("Connexion modifiée."))
        return redirect(_list_url(node))
    return render(
        request,
        "posture/ad_connection_form.html",
        {
            "node": node,
            "form": form,
            "connection": connection,
            "title": _("Connexion « %(name)s »") % {"name": connection.name},
        },
    )


@login_required
@require_POST
def connection_delete(request, pk):
    connection = _connection(request, pk)
    node = connection.organisation
    record_event(
        "posture.ad_connection_deleted",
        request=request,
        target=connection,
        organisation=node,
        details={"name": connection.name, "host": connection.host},
    )
    connection.delete()
    messages.success(request, _("Connexion supprimée ; les audits déjà faits sont conservés."))
    return redirect(_list_url(node))


@login_required
@require_POST
def connection_collect(request, pk):
    from hygie.posture.ad import tasks

    connection = _connection(request, pk)
    tasks.collect_directory.enqueue(connection.pk, request.user.pk)
    record_event(
        "posture.ad_collect_requested",
        request=request,
        target=connection,
        organisation=connection.organisation,
    )
    messages.success(
        request,
        _("Collecte demandée : l'audit apparaîtra ici dès qu'elle sera terminée."),
    )
    return redirect(_list_url(connection.organisation))
