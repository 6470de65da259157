"""Pages of the access review: imports and runs, the DPO's queue, a case and its disposition.

Thin: organisations and cases come through `visible_to` (VIEW to read, CHANGE to run the review
and decide, MANAGE to import); the work is in review/ (ingest, engine, cases).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hygie.access.models import (
    CaseStatus,
    Pattern,
    ReviewCase,
    ReviewImport,
    ReviewRun,
)
from hygie.access.review import cases as review_cases
from hygie.access.review_forms import DecisionForm, ImportForm, QueueFilter, RunForm
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can

REVIEW_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)
CASES_PER_PAGE = 50


def _organisation(request, org_id, action=VIEW) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=REVIEW_KINDS)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def _case(request, pk, action=VIEW) -> ReviewCase:
    queryset = ReviewCase.objects.select_related("organisation", "run", "action", "decided_by")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)


def bar_chart(rows: list[dict]) -> str:
    """Horizontal bars of flagged accesses per service (per 1,000 when known), as SVG."""
    if not rows:
        return ""
    use_rate = all(row["per_1000"] is not None for row in rows)
    values = [row["per_1000"] if use_rate else row["flagged"] for row in rows]
    top = max(values) or 1
    bar_height, left, width = 22, 230, 640
    height = 30 + bar_height * len(rows)
    title = (
        _("Accès signalés pour 1 000 accès, par service")
        if use_rate
        else _("Accès signalés, par service")
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="review-chart-title '
        f'review-chart-desc" data-chart="review-services" font-family="system-ui, sans-serif">'
        f'<title id="review-chart-title">{escape(title)}</title><desc id="review-chart-desc">'
        f"{escape(_('Les mêmes chiffres figurent dans le tableau qui suit le graphique.'))}</desc>"
    ]
    for index, (row, value) in enumerate(zip(rows, values, strict=True)):
        y = 10 + index * bar_height
        length = (width - left - 60) * value / top
        label = row["service"] if len(row["service"]) <= 30 else row["service"][:29] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{bar_height - 6}" '
            f'fill="#b03a2e"/><text x="{left + length + 4:.1f}" y="{y + 15}" font-size="12">'
            f"{value:g}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text went through escape()


@login_required
@require_GET
def review(request, org_id):
    node = _organisation(request, org_id)
    imports = list(
        ReviewImport.objects.visible_to(request.user, VIEW).filter(organisation=node)[:20]
    )
    runs = list(ReviewRun.objects.visible_to(request.user, VIEW).filter(organisation=node)[:10])
    last_run = runs[0] if runs else None
    services = review_cases.figures_by_service(last_run)
    # Same scope as the queue the totals link to: the node and what is below it.
    status_totals = dict(
        ReviewCase.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return render(
        request,
        "access/review.html",
        {
            "node": node,
            "imports": imports,
            "runs": runs,
            "last_run": last_run,
            "services": services,
            "chart": bar_chart(services),
            "statuses": CaseStatus.choices,
            "status_totals": [
                (label, status_totals.get(value, 0)) for value, label in CaseStatus.choices
            ],
            "import_form": ImportForm() if can(request.user, MANAGE, node) else None,
            "run_form": RunForm() if can(request.user, CHANGE, node) else None,
        },
    )


@login_required
@require_POST
def review_import(request, org_id):
    node = _organisation(request, org_id, MANAGE)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            from hygie.access.review import ingest
        except ImportError:  # before the review-ingest area is merged
            ingest = None
        if ingest is None:
            messages.error(request, _("L'import des journaux n'est pas disponible."))
            return redirect("access:review", node.pk)
        try:
            imported = ingest.import_file(
                node,
                form.cleaned_data["kind"],
                form.cleaned_data["filename"],
                form.cleaned_data["file"],
                application=form.cleaned_data["application"],
                user=request.user,
            )
        except ValidationError as error:  # the whole file refused, nothing recorded
            for message in error.messages:
                messages.error(request, f"{form.cleaned_data['filename']} : {message}")
            return redirect("access:review", node.pk)
        if imported.rejected:
            messages.warning(
                request,
                _("%(name)s : %(lines)s lignes lues, %(rejected)s rejetées (voir le détail).")
                % {
                    "name": imported.filename,
                    "lines": imported.lines,
                    "rejected": imported.rejected,
                },
            )
        else:
            messages.success(
                request,
                _("%(name)s : %(lines)s lignes importées.")
                % {"name": imported.filename, "lines": imported.lines},
            )
        return redirect("access:review", node.pk)
    for field, errors in form.errors.items():
        for error in errors:
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label} : {error}" if label else error)
    return redirect("access:review", node.pk)


@login_required
@require_POST
def review_run(request, org_id):
    node = _organisation(request, org_id, CHANGE)
    form = RunForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label} : {error}")
        return redirect("access:review", node.pk)
    start, end = form.period()
    try:
        from hygie.access.review import engine
    except ImportError:  # before the review-ingest area is merged
        engine = None
    if engine is None:
        messages.error(request, _("L'analyse des journaux n'est pas disponible."))
        return redirect("access:review", node.pk)
    run = engine.run_review(node, start=start, end=end, user=request.user)  # journals the run
    review_cases.publish_fact(node)
    messages.success(
        request,
        _("Revue terminée : %(events)s accès analysés, %(flagged)s cas à examiner.")
        % {"events": run.events, "flagged": run.flagged},
    )
    return redirect(reverse("access:review_queue", args=[node.pk]) + "?status=open")


@login_required
@require_GET
def review_queue(request, org_id):
    node = _organisation(request, org_id)
    form = QueueFilter(request.GET)
    rows = (
        ReviewCase.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .order_by("-score", "-last_at", "pk")
    )
    if form.is_valid():
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["pattern"]:
            # JSON text match (works on SQLite and PostgreSQL); values never nest in others.
            rows = rows.filter(patterns__icontains=f'"{form.cleaned_data["pattern"]}"')
        if form.cleaned_data["service"]:
            rows = rows.filter(service__iexact=form.cleaned_data["service"].strip())
    page = Paginator(rows, CASES_PER_PAGE).get_page(request.GET.get("page"))
    labels = dict(Pattern.choices)
    return render(
        request,
        "access/review_queue.html",
        {
            "node": node,
            "form": form,
            "page": page,
            "rows": [(case, [labels.get(p, p) for p in case.patterns]) for case in page],
        },
    )


@login_required
@require_GET
def review_case(request, pk):
    case = _case(request, pk)
    return _case_page(request, case, DecisionForm(initial={"status": case.status}))


def _case_page(request, case, form, status=200):
    labels = dict(Pattern.choices)
    accesses = (case.evidence or {}).get("accesses") or []
    return render(
        request,
        "access/review_case.html",
        {
            "case": case,
            "node": case.organisation,
            "patterns": [
                (labels.get(p, p), review_cases.EXPLANATIONS.get(p, "")) for p in case.patterns
            ],
            "accesses": accesses[:200] if isinstance(accesses, list) else [],
            "evidence": review_cases.evidence(case),
            "form": form if can(request.user, CHANGE, case.organisation) else None,
        },
        status=status,
    )


@login_required
@require_POST
def review_case_decide(request, pk):
    case = _case(request, pk, CHANGE)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, form, status=400)
    data = form.cleaned_data
    review_cases.decide(
        case,
        status=data["status"],
        note=data["note"],
        user=request.user,
        request=request,
        follow_up=data["follow_up"],
        hr_reference=data["hr_reference"],
        manager_email=data["manager_email"],
    )
    messages.success(request, _("Décision enregistrée."))
    return redirect("access:review_case", case.pk)
