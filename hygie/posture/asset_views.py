"""Pages of the asset inventory and of the end-of-life dataset.

An establishment's page shows its assets; a GHT's page covers its members, naming the
establishment of each asset. Reading needs VIEW; imports need MANAGE on the establishment; the
end-of-life dataset is shared by every organisation, so only platform administrators update it
(docs/decisions/0741-eol-dataset-updates.md).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hygie.core.exports import safe_cell
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.dashboards.charts import _frame, _short, _svg
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import MANAGE, VIEW
from hygie.orgs.services import can
from hygie.posture import eol, inventory
from hygie.posture.asset_forms import AssetImportForm, EolImportForm
from hygie.posture.models import Asset, AssetImport, EolRelease

ASSET_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)
PER_PAGE = 50


def _status_labels() -> dict[str, str]:
    return {
        eol.SUPPORTED: _("Maintenu"),
        eol.ENDING: _("Fin de support sous 12 mois"),
        eol.ENDED: _("Hors support de sécurité"),
        eol.UNKNOWN: _("Système inconnu"),
    }


def _organisation(request, org_id, action=VIEW, kinds=ASSET_KINDS) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=kinds)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def _status_filter(state: str, today: dt.date) -> Q:
    soon = today + dt.timedelta(days=eol.ENDING_WITHIN_DAYS)
    if state == eol.ENDED:
        return Q(eol__eol_on__lte=today)
    if state == eol.ENDING:
        return Q(eol__eol_on__gt=today, eol__eol_on__lte=soon)
    if state == eol.SUPPORTED:
        return Q(eol__isnull=False) & (Q(eol__eol_on__gt=soon) | Q(eol__eol_on__isnull=True))
    return Q(eol__isnull=True)


def _filtered(request, node, today):
    """The enabled assets of the page's organisation (and its members), filtered by the query."""
    assets = (
        Asset.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path, enabled=True)
        .select_related("organisation", "eol")
        .order_by("organisation__name", "name")
    )
    state = request.GET.get("status", "")
    if state in eol.STATUSES:
        assets = assets.filter(_status_filter(state, today))
    else:
        state = ""
    site = request.GET.get("site")
    if site is not None and "site" in request.GET:
        assets = assets.filter(site=site)
    service = request.GET.get("service")
    if service is not None and "service" in request.GET:
        assets = assets.filter(service=service)
    return assets, state


def timeline_svg(rows: list[tuple[str, dt.date, int]], today: dt.date) -> SafeString | None:
    """Upcoming ends of security support: one line per release, a dot at its date, sized by the
    number of assets. `rows` are (label, end date, assets) sorted by date."""
    if not rows:
        return None
    start = today
    end = max(today.replace(year=today.year + 3), max(r[1] for r in rows))
    span = max((end - start).days, 1)
    left, right, top, line_height = 230, 30, 30, 26
    width = 760
    height = top + line_height * len(rows) + 30
    plot = width - left - right

    def x(day: dt.date) -> float:
        return left + plot * (day - start).days / span

    body = []
    for year in range(start.year + 1, end.year + 1):
        tick = x(dt.date(year, 1, 1))
        body.append(
            _svg(
                '<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="#d9dde1"/>'
                '<text x="{0:.1f}" y="{3}" font-size="11" text-anchor="middle">{4}</text>',
                tick,
                top - 8,
                height - 22,
                height - 8,
                str(year),
            )
        )
    soon = x(today + dt.timedelta(days=eol.ENDING_WITHIN_DAYS))
    body.append(
        _svg(
            '<rect x="{0}" y="{1}" width="{2:.1f}" height="{3}" fill="#fdebd0"/>'
            '<text x="{0}" y="{4}" font-size="11">{5}</text>',
            left,
            top - 6,
            soon - left,
            height - top - 22,
            top - 14,
            _("12 prochains mois"),
        )
    )
    biggest = max(r[2] for r in rows)
    for index, (label, day, count) in enumerate(rows):
        y = top + line_height * index + line_height / 2
        radius = 4 + 8 * (count / biggest) ** 0.5
        colour = (
            "#c0392b" if day <= today + dt.timedelta(days=eol.ENDING_WITHIN_DAYS) else "#2e86c1"
        )
        body.append(
            _svg(
                '<text x="{0}" y="{1:.1f}" font-size="12" text-anchor="end">{2}</text>'
                '<line x1="{3}" y1="{1:.1f}" x2="{4:.1f}" y2="{1:.1f}" stroke="#aab2bd"/>'
                '<circle cx="{4:.1f}" cy="{1:.1f}" r="{5:.1f}" fill="{6}"><title>{7}</title></circle>'
                '<text x="{8:.1f}" y="{1:.1f}" font-size="11">{9}</text>',
                left - 8,
                y + 4,
                _short(label, 34),
                left,
                x(day),
                radius,
                colour,
                f"{label} — {day:%d/%m/%Y} — {count}",
                x(day) + radius + 3,
                str(count),
            )
        )
    return _frame("eol-timeline", _("Fins de support à venir"), width, height, "".join(body))


@login_required
@require_GET
def asset_overview(request, org_id):
    node = _organisation(request, org_id)
    today = timezone.localdate()
    base = Asset.objects.visible_to(request.user, VIEW).filter(
        organisation__path__startswith=node.path
    )
    summary = inventory.summarise(base, today)
    assets, state = _filtered(request, node, today)
    page = Paginator(assets, PER_PAGE).get_page(request.GET.get("page"))
    per_release: dict = defaultdict(int)
    for release, _site, _kind, count, _state in summary.groups:
        per_release[release] += count
    releases = sorted(
        per_release.items(), key=lambda item: (item[0].eol_on or dt.date.max, item[0].label)
    )
    upcoming = [(r.label, r.eol_on, n) for r, n in releases if r.eol_on and r.eol_on > today]
    labels = _status_labels()
    status_rows = [(s, labels[s], summary.counts[s]) for s in eol.STATUSES]
    return render(
        request,
        "posture/asset_overview.html",
        {
            "node": node,
            "today": today,
            "summary": summary,
            "status_rows": status_rows,
            "statuses": eol.STATUSES,
            "labels": labels,
            "by_site": [
                (site, [c[s] for s in eol.STATUSES], sum(c.values()))
                for site, c in summary.by_site.items()
            ],
            "by_service": [
                (site, service, [c[s] for s in eol.STATUSES], sum(c.values()))
                for (site, service), c in summary.by_service.items()
            ],
            "releases": [
                (r, n, eol.status(r, today), labels[eol.status(r, today)]) for r, n in releases
            ],
            "timeline": timeline_svg(upcoming, today),
            "upcoming": upcoming,
            "page": page,
            "rows": [(a, labels[eol.status(a.eol, today)]) for a in page],
            "state": state,
            "show_organisation": node.kind == Kind.GHT,
            "can_import": node.kind == Kind.ESTABLISHMENT and can(request.user, MANAGE, node),
            "imports": AssetImport.objects.visible_to(request.user, VIEW)
            .filter(organisation__path__startswith=node.path)
            .select_related("organisation")[:5],
            "query": request.GET.urlencode(),
        },
    )


EXPORT_HEADER = [
    "Établissement",
    "Nom",
    "Type",
    "Système",
    "Version",
    "Site",
    "Service",
    "Numéro de série",
    "Dernière connexion",
    "Version reconnue",
    "Fin des correctifs de sécurité",
    "Statut",
    "Source",
]


@login_required
@require_GET
def asset_export(request, org_id):
    node = _organisation(request, org_id)
    today = timezone.localdate()
    assets, _state = _filtered(request, node, today)
    labels = _status_labels()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="parc-{node.pk}-{today:%Y%m%d}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(EXPORT_HEADER)
    for asset in assets.iterator(chunk_size=2000):
        release = asset.eol
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    asset.organisation.name,
                    asset.name,
                    asset.get_kind_display(),
                    asset.os_name,
                    asset.os_version,
                    asset.site,
                    asset.service,
                    asset.serial,
                    timezone.localtime(asset.last_seen).strftime("%d/%m/%Y")
                    if asset.last_seen
                    else "",
                    release.label if release else "",
                    release.eol_on.strftime("%d/%m/%Y") if release and release.eol_on else "",
                    labels[eol.status(release, today)],
                    asset.get_source_display(),
                )
            ]
        )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def asset_import(request, org_id):
    node = _organisation(request, org_id, MANAGE, kinds=(Kind.ESTABLISHMENT,))
    form = AssetImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            record = inventory.import_inventory_file(
                node,
                form.cleaned_data["file"].read(),
                filename=form.filename,
                user=request.user,
                request=request,
            )
        except inventory.InventoryFileError as exc:
            problems = exc.format_lines()
        else:
            messages.success(
                request,
                _(
                    "Import terminé : %(rows)s lignes, %(created)s équipements ajoutés, %(updated)s mis à jour."
                )
                % {"rows": record.rows, "created": record.created, "updated": record.updated},
            )
            return redirect("posture:assets", node.pk)
    return render(
        request,
        "posture/asset_import.html",
        {
            "node": node,
            "form": form,
            "problems": problems,
            "columns": inventory.COLUMN_LABELS.values(),
        },
        status=400 if problems else 200,
    )


def _require_member(request) -> None:
    user = request.user
    if not (user.is_superuser or user.memberships.exists()):
        raise PermissionDenied(_("Réservé aux personnes rattachées à une organisation."))


def _eol_context(request, form=None, problems=None) -> dict:
    today = timezone.localdate()
    labels = _status_labels()
    products: dict = defaultdict(list)
    for release in EolRelease.objects.order_by("product", "-released_on", "cycle"):
        state = eol.status(release, today)
        products[release.product].append((release, labels[state], state))
    return {
        "products": [(eol.PRODUCT_LABELS.get(p, p), rows) for p, rows in products.items()],
        "can_update": request.user.is_superuser,
        "form": form or EolImportForm(),
        "problems": problems or [],
        "today": today,
    }


@login_required
@require_GET
def eol_list(request):
    _require_member(request)
    return render(request, "posture/eol_list.html", _eol_context(request))


@login_required
@require_POST
def eol_import(request):
    if not request.user.is_superuser:
        raise PermissionDenied(
            _("Seuls les administrateurs de la plateforme mettent à jour ces dates.")
        )
    form = EolImportForm(request.POST, request.FILES)
    problems: list[str] = []
    if form.is_valid():
        try:
            specs = eol.read_release_file(
                form.cleaned_data["file"].read(), form.filename, form.cleaned_data["product"]
            )
            outcome = eol.import_releases(
                specs, user=request.user, request=request, filename=form.filename
            )
        except eol.EolFileError as exc:
            problems = exc.format_lines()
        else:
            text = (
                _("Dates mises à jour : %(created)s versions ajoutées, %(updated)s modifiées.")
                % outcome
            )
            if outcome["ignored"]:
                text += " " + _("Ignorées faute de motif de reconnaissance : %(names)s.") % {
                    "names": ", ".join(outcome["ignored"])
                }
            messages.success(request, text)
            return redirect("posture:eol")
    return render(
        request,
        "posture/eol_list.html",
        _eol_context(request, form, problems),
        status=400,
    )
