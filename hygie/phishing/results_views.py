"""Simulation results pages (decisions 0430–0435).

- a campaign's results per service, job family, site (and establishment): "view" on the
  campaign's organisation, small groups masked; a CSV of the same tables;
- its individual results: "change" (the people running the programme), pseudonyms; names
  after a reveal by an RSSI/DSI (manage) or the DPO, journalled;
- an organisation's trend and repeat clickers: "view" (the pseudonymised list: "change");
- the aggregate overview of a region or of France for analysts: "aggregate", no establishment
  named, fewer than five establishments or people masked;
- the transparency page for staff: public.
Analysts hold "aggregate" only: every nominative page answers them 404 (decision 0002).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hygie.core.audit import record_event
from hygie.core.exports import safe_cell
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.dashboards import charts
from hygie.orgs.models import JobFamily, Kind, Membership, Organisation
from hygie.orgs.roles import AGGREGATE, CHANGE, VIEW, Role
from hygie.orgs.services import can
from hygie.phishing import privacy, results
from hygie.phishing.models import Recipient, Simulation

PEOPLE_PER_PAGE = 100
OWNER_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)


def _simulation(request, simulation_id: int, action: str = VIEW) -> Simulation:
    queryset = Simulation.objects.select_related("organisation")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=simulation_id)
    return get_for_action_or_refuse(
        queryset, request.user, action, seen_with=VIEW, pk=simulation_id
    )


def rate_bars(chart_id: str, title: str, rows, colour: str, attribute: str) -> SafeString:
    """Horizontal bars, one per group, 0–100 %; masked groups say so."""
    label_width, bar_width, row_h = 260, 360, 26
    width, height = label_width + bar_width + 80, row_h * max(len(rows), 1) + 10
    parts = []
    for index, row in enumerate(rows):
        y = row_h * index + 5
        value = getattr(row, attribute)
        parts.append(
            charts._svg(
                '<text x="{}" y="{}" font-size="12" text-anchor="end" fill="#1d2b36">'
                "<title>{}</title>{}</text>"
                '<rect x="{}" y="{}" width="{}" height="18" fill="#eef2f5"/>',
                label_width - 8,
                y + 15,
                row.label,
                charts._short(row.label, 34),
                label_width,
                y + 2,
                bar_width,
            )
        )
        if value is None:
            text = _("moins de 5 personnes : masqué") if row.masked else _("aucun envoi")
            parts.append(
                charts._svg(
                    '<text x="{}" y="{}" font-size="11" fill="#5b6670">{}</text>',
                    label_width + 6,
                    y + 15,
                    text,
                )
            )
            continue
        parts.append(
            charts._svg(
                '<rect x="{}" y="{}" width="{:.1f}" height="18" fill="{}"/>'
                '<text x="{}" y="{}" font-size="12" fill="#1d2b36">{} %</text>',
                label_width,
                y + 2,
                bar_width * value / 100,
                colour,
                label_width + bar_width + 6,
                y + 15,
                f"{value:.1f}".replace(".", ","),
            )
        )
    return charts._frame(chart_id, title, width, height, "".join(str(p) for p in parts))


CLICK_COLOUR = "#c0392b"
REPORT_COLOUR = "#27ae60"


@login_required
def simulation_results(request, simulation_id: int):
    simulation = _simulation(request, simulation_id)
    figures = results.simulation_results(simulation)
    services = figures.breakdown("service")
    pictures = {}
    if services and any(not row.masked for row in services.rows):
        pictures["clicks"] = rate_bars(
            "chart-clicks",
            _("Taux de clic par service"),
            services.rows,
            CLICK_COLOUR,
            "click_rate",
        )
        pictures["reports"] = rate_bars(
            "chart-reports",
            _("Taux de signalement par service"),
            services.rows,
            REPORT_COLOUR,
            "report_rate",
        )
    organisation = simulation.organisation
    return render(
        request,
        "phishing/results_simulation.html",
        {
            "simulation": simulation,
            "node": organisation,
            "results": figures,
            "pictures": pictures,
            "small_cell": results.SMALL_CELL,
            "can_see_people": can(request.user, CHANGE, organisation),
            "erased_on": privacy.erased_on(simulation),
            "now": timezone.now(),
        },
    )


@login_required
def results_csv(request, simulation_id: int):
    simulation = _simulation(request, simulation_id)
    figures = results.simulation_results(simulation)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Répartition"),
            _("Groupe"),
            _("Ciblés"),
            _("Envoyés"),
            _("Ouverts"),
            _("Cliqués"),
            _("Saisies"),
            _("Signalés"),
            _("Taux de clic (%)"),
            _("Taux de signalement (%)"),
            _("Délai médian du premier clic (min)"),
            _("Délai médian du signalement (min)"),
        ]
    )
    masked = _("moins de 5 personnes : masqué")
    sections = [(_("Ensemble"), [figures.total])] + [(b.title, b.rows) for b in figures.breakdowns]
    for title, rows in sections:
        for row in rows:
            if row.masked:
                writer.writerow([safe_cell(title), safe_cell(row.label), masked] + [""] * 9)
                continue
            writer.writerow(
                [safe_cell(title), safe_cell(row.label)]
                + [row.targeted, row.sent, row.opened, row.clicked, row.submitted, row.reported]
                + [_number(row.click_rate), _number(row.report_rate)]
                + [_minutes(row.click_median), _minutes(row.report_median)]
            )
    record_event(
        "phishing.results_exported",
        request=request,
        target=simulation,
        organisation=simulation.organisation,
        details={"format": "csv"},
    )
    filename = f"resultats-{slugify(simulation.name)}-{timezone.localdate():%Y%m%d}.csv"
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _number(value) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def _minutes(delay) -> str:
    return "" if delay is None else f"{delay.total_seconds() / 60:.1f}".replace(".", ",")


# Individual results ----------------------------------------------------------------------------
@login_required
def results_people(request, simulation_id: int):
    simulation = _simulation(request, simulation_id, CHANGE)
    organisation = simulation.organisation
    revealed = privacy.revealed_until(request, simulation)
    fields = [
        "pk",
        "staff_id",
        "email",
        "service__name",
        "service__short_name",
        "job_family",
        "sent_at",
        "first_open_at",
        "first_click_at",
        "submitted_at",
        "reported_at",
    ]
    related = ["service"]
    if revealed:
        related.append("staff")
        fields += ["staff__first_name", "staff__last_name"]
    recipients = (
        Recipient.objects.filter(simulation=simulation)
        .select_related(*related)
        .only(*fields)
        .order_by("pk")
    )
    page = Paginator(recipients, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    families = dict(JobFamily.choices)
    rows = []
    for recipient in page:
        erased = privacy.is_erased(recipient)
        if revealed and not erased:
            name = str(recipient.staff) if recipient.staff_id else recipient.email
        else:
            name = privacy.pseudonym(organisation.pk, recipient.staff_id, recipient.email)
        rows.append(
            {
                "name": name,
                "erased": erased,
                "service": (
                    (recipient.service.short_name or recipient.service.name)
                    if recipient.service_id
                    else ""
                ),
                "job_family": families.get(recipient.job_family, recipient.job_family),
                "recipient": recipient,
                "click_delay": _delay(recipient.sent_at, recipient.first_click_at),
                "report_delay": _delay(recipient.sent_at, recipient.reported_at),
            }
        )
    return render(
        request,
        "phishing/results_people.html",
        {
            "simulation": simulation,
            "node": organisation,
            "page_obj": page,
            "rows": rows,
            "revealed_until": (datetime.fromtimestamp(revealed, tz=UTC) if revealed else None),
            "may_reveal": privacy.may_reveal(request.user, organisation),
            "erased_on": privacy.erased_on(simulation),
            "now": timezone.now(),
            "reveal_minutes": privacy.REVEAL_SECONDS // 60,
        },
    )


def _delay(start, end) -> str:
    if start is None or end is None:
        return ""
    return results.delay_text(max(end - start, timedelta(0)))


@login_required
@require_POST
def results_reveal(request, simulation_id: int):
    simulation = _simulation(request, simulation_id, CHANGE)
    if not privacy.may_reveal(request.user, simulation.organisation):
        raise PermissionDenied(
            _("Seuls le RSSI, le DSI et le DPO de l'organisation peuvent afficher les noms.")
        )
    if request.POST.get("action") == "hide":
        privacy.hide(request, simulation)
        return redirect("phishing:results_people", simulation.pk)
    reason = request.POST.get("reason", "").strip()
    if len(reason) < 10:
        messages.error(
            request,
            _(
                "Indiquez pourquoi vous avez besoin des noms (au moins 10 caractères) : ce motif est inscrit au journal."
            ),
        )
        return redirect("phishing:results_people", simulation.pk)
    privacy.reveal(request, simulation, reason[:500])
    messages.success(
        request,
        _("Noms affichés pendant %(n)s minutes ; cet affichage est inscrit au journal.")
        % {"n": privacy.REVEAL_SECONDS // 60},
    )
    return redirect("phishing:results_people", simulation.pk)


# Trend and repeat clickers -------------------------------------------------------------------------
@login_required
def results_trends(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    if node.kind not in OWNER_KINDS:
        raise Http404
    trend = results.trend(node)
    repeat = results.repeat_clickers(node)
    pictures = {}
    shown = [point for point in trend.points if not point.figures.masked]
    if shown:
        pictures["clicks"] = charts.line(
            "chart-trend-clicks",
            _("Taux de clic par campagne"),
            [(_short_name(p.simulation), p.figures.click_rate) for p in trend.points],
        )
        pictures["reports"] = charts.line(
            "chart-trend-reports",
            _("Taux de signalement par campagne"),
            [(_short_name(p.simulation), p.figures.report_rate) for p in trend.points],
        )
    service_rows = [
        {
            "label": label,
            "cells": [point.services.get(key) for point in trend.points],
        }
        for key, label in trend.services
    ]
    return render(
        request,
        "phishing/results_trends.html",
        {
            "node": node,
            "trend": trend,
            "service_rows": service_rows,
            "repeat": repeat,
            "pictures": pictures,
            "can_see_people": can(request.user, CHANGE, node),
            "small_cell": results.SMALL_CELL,
        },
    )


def _short_name(simulation: Simulation) -> str:
    when = simulation.launched_at
    return f"{when:%m/%Y}" if when else simulation.name[:10]


# Aggregate overview for analysts ---------------------------------------------------------------
@login_required
def results_overview(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, AGGREGATE, pk=org_id)
    if node.kind not in (Kind.REGION, Kind.NATIONAL):
        raise Http404
    figures = results.regional_overview(node)
    return render(
        request,
        "phishing/results_overview.html",
        {"node": node, "overview": figures, "small_cell": results.SMALL_CELL},
    )


# Transparency page for staff -------------------------------------------------------------------
def transparency(request, org_id: int):
    """Public: what simulations are, what is kept, who sees what, how long, whom to ask."""
    try:
        node = Organisation.objects.get(pk=org_id, kind__in=OWNER_KINDS)
    except Organisation.DoesNotExist:
        raise Http404 from None
    dpos = list(
        Membership.objects.filter(
            role=Role.DPO, organisation_id__in=[*node.ancestor_ids(), node.pk], user__is_active=True
        )
        .select_related("user", "organisation")
        .order_by("-organisation__depth", "user__last_name")
    )
    response = render(
        request,
        "phishing/transparency.html",
        {
            "node": node,
            "dpos": dpos,
            "retention_days": settings.SIMULATION_RETENTION_DAYS,
            "small_cell": results.SMALL_CELL,
            "reveal_minutes": privacy.REVEAL_SECONDS // 60,
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response
