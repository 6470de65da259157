"""The consolidated dashboard of a node: establishment and GHT (nominative), region and national
(aggregate only, small cells masked)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify

from hygie.core.audit import record_event
from hygie.core.visibility import get_visible_or_404
from hygie.dashboards import charts, services
from hygie.dashboards.tables import as_csv, as_xlsx, chart_tables
from hygie.frameworks.models import Framework
from hygie.orgs.models import Organisation
from hygie.orgs.roles import AGGREGATE, VIEW
from hygie.orgs.services import can

FORMATS = {
    "csv": ("text/csv; charset=utf-8", as_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_xlsx,
    ),
}


def _node_or_404(request, org_id: int) -> Organisation:
    """Aggregate levels need "aggregate"; establishment and GHT dashboards name establishments
    and so need "view": an analyst gets 404 there, as on every nominative page (decision 0002)."""
    node = get_visible_or_404(Organisation.objects, request.user, AGGREGATE, pk=org_id)
    if node.kind not in services.LEVELS:
        raise Http404
    if node.kind in services.NOMINATIVE_LEVELS and not can(request.user, VIEW, node):
        raise Http404
    return node


def _framework(request, frameworks: list[Framework]) -> Framework | None:
    wanted = request.GET.get("referentiel")
    if wanted:
        for framework in frameworks:
            if str(framework.pk) == wanted:
                return framework
        raise Http404
    # Default: the framework assessed most often (ties: by name).
    return max(frameworks, key=lambda f: f.campaign_count, default=None)


@login_required
def consolidated_dashboard(request, org_id: int):
    node = _node_or_404(request, org_id)
    frameworks = list(
        Framework.objects.annotate(campaign_count=Count("campaigns")).order_by("name", "pk")
    )
    framework = _framework(request, frameworks)
    period = "year" if request.GET.get("periode") == "annee" else "quarter"
    dash = services.build_dashboard(node, framework, period=period) if framework else None
    tables = chart_tables(dash) if dash else {}

    export = request.GET.get("format")
    if export:
        if export not in FORMATS or request.GET.get("chart") not in tables:
            raise Http404
        table = tables[request.GET["chart"]]
        content_type, render_table = FORMATS[export]
        record_event(
            "dashboards.exported",
            request=request,
            target=node,
            organisation=node,
            details={"framework": framework.pk, "chart": table.name, "format": export},
        )
        filename = (
            f"{slugify(table.title)}-{slugify(node.short_name or node.name)}-"
            f"{timezone.localdate():%Y%m%d}.{export}"
        )
        response = HttpResponse(render_table(table), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    return render(
        request,
        "dashboards/dashboard.html",
        {
            "node": node,
            "frameworks": frameworks,
            "framework": framework,
            "period": period,
            "dash": dash,
            "tables": tables,
            "sections": _sections(dash, tables, request, framework, period),
            "small_cell": services.SMALL_CELL,
            "lag_margin": services.LAG_MARGIN,
        },
    )


def _sections(dash, tables, request, framework, period) -> list[dict]:
    if dash is None:
        return []
    pictures = _pictures(dash, tables) if not dash.masked else {}
    query = {"referentiel": framework.pk}
    if period == "year":
        query["periode"] = "annee"
    sections = []
    for name, table in tables.items():
        links = {
            export: "?" + urlencode({**query, "format": export, "chart": name})
            for export in FORMATS
        }
        sections.append(
            {"table": table, "picture": pictures.get(name), "links": links, "name": name}
        )
    return sections


def _pictures(dash: services.Dashboard, tables) -> dict:
    pictures = {}
    labels = [figure.theme.label for figure in dash.theme_figures]
    values = [figure.score.value for figure in dash.theme_figures]
    if any(value is not None for value in values):
        pictures["themes"] = charts.radar("chart-themes", tables["themes"].title, labels, values)
    if dash.heatmap:
        pictures["heatmap"] = charts.heatmap(
            "chart-heatmap",
            tables["heatmap"].title,
            [theme.label for theme in dash.themes],
            [(row.label, [cell.value for cell in row.scores], row.masked) for row in dash.heatmap],
        )
    if dash.adoption:
        pictures["adoption"] = charts.bars(
            "chart-adoption",
            tables["adoption"].title,
            [(a.measure.label, a.rate, a.partial_rate) for a in dash.adoption],
        )
    if dash.trend:
        pictures["trend"] = charts.line(
            "chart-trend",
            tables["trend"].title,
            [(point.label, point.score.value) for point in dash.trend],
        )
    if not dash.nominative:
        for name in ("groups", "categories"):
            rows = getattr(dash, name)
            if rows:
                pictures[name] = charts.bars(
                    f"chart-{name}",
                    tables[name].title,
                    [(row.label, row.score.value, None) for row in rows],
                )
    return pictures
