"""Pages of the exposure area: remote-access inventory, KEV catalogue, exposure scans.

Thin: objects come through `visible_to`; the work is in remote.py, kev.py and exposure.py.
Establishment and GHT pages (a GHT page covers its members); reading needs VIEW, the inventory
and action items CHANGE, scan imports and deletions MANAGE. The KEV catalogue is platform-wide:
every member reads it, only a platform administrator imports it.
"""

from __future__ import annotations

from collections import OrderedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hygie.core.audit import record_event
from hygie.core.uploads import TEXT, check_upload
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can
from hygie.posture import exposure as scans_module
from hygie.posture import kev as kev_module
from hygie.posture import remote
from hygie.posture.exposure_forms import KevImportForm, RemoteAccessForm, ScanUploadForm
from hygie.posture.models import (
    ExposedService,
    ExposureScan,
    KevCatalogue,
    KevEntry,
    RemoteAccessPoint,
)

KINDS = (Kind.ESTABLISHMENT, Kind.GHT)
XML_FILES = {"xml": ("application/xml", TEXT)}
JSON_FILES = {"json": ("application/json", TEXT)}


def _organisation(request, org_id, action=VIEW, kinds=KINDS) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=kinds)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def _get(request, queryset, pk, action=VIEW):
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)


# Remote access -----------------------------------------------------------------------------------
@login_required
@require_GET
def remote_access(request, org_id):
    node = _organisation(request, org_id)
    points = (
        RemoteAccessPoint.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation", "action")
    )
    statuses = remote.assess_all(points)
    can_change = can(request.user, CHANGE, node)
    return render(
        request,
        "posture/remote_list.html",
        {
            "node": node,
            "statuses": statuses,
            "is_ght": node.kind == Kind.GHT,
            "can_add": node.kind == Kind.ESTABLISHMENT and can_change,
            "can_change": can_change,
            "catalogue": kev_module.current(),
            "patch_days": remote.PATCH_MAX_DAYS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def remote_access_create(request, org_id):
    node = _organisation(request, org_id, CHANGE, kinds=(Kind.ESTABLISHMENT,))
    form = RemoteAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            point = form.save(commit=False)
            point.organisation = node
            point.save()
            remote.refresh_fact(node)
            record_event(
                "posture.remote_access_created", request=request, target=point, organisation=node
            )
        messages.success(request, _("Accès à distance ajouté à l'inventaire."))
        return redirect("posture:remote_access", node.pk)
    return render(
        request,
        "posture/remote_form.html",
        {"node": node, "form": form, "title": _("Ajouter un accès à distance")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def remote_access_edit(request, pk):
    point = _get(request, RemoteAccessPoint.objects.select_related("organisation"), pk, CHANGE)
    node = point.organisation
    form = RemoteAccessForm(request.POST or None, instance=point)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            remote.refresh_fact(node)
            record_event(
                "posture.remote_access_changed",
                request=request,
                target=point,
                organisation=node,
                details={"fields": form.changed_data},
            )
        messages.success(request, _("Accès à distance modifié."))
        return redirect("posture:remote_access", node.pk)
    return render(
        request,
        "posture/remote_form.html",
        {"node": node, "form": form, "point": point, "title": _("Modifier un accès à distance")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def remote_access_delete(request, pk):
    point = _get(request, RemoteAccessPoint.objects.select_related("organisation"), pk, CHANGE)
    node = point.organisation
    if request.method == "POST":
        with transaction.atomic():
            record_event(
                "posture.remote_access_deleted",
                request=request,
                target=point,
                organisation=node,
                details={"name": point.name, "product": f"{point.vendor} {point.product}"},
            )
            point.delete()
            remote.refresh_fact(node)
        messages.success(request, _("Accès à distance retiré de l'inventaire."))
        return redirect("posture:remote_access", node.pk)
    return render(
        request,
        "posture/remote_confirm_delete.html",
        {"node": node, "point": point},
    )


@login_required
@require_POST
def remote_access_action(request, pk):
    point = _get(request, RemoteAccessPoint.objects.select_related("organisation"), pk, CHANGE)
    try:
        item = remote.create_action(point, actor=request.user, request=request)
    except remote.NotFlagged as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Action « %(title)s » au plan d'action.") % {"title": item.title}
        )
    return redirect("posture:remote_access", point.organisation_id)


# KEV catalogue -----------------------------------------------------------------------------------
def _require_member(request) -> None:
    user = request.user
    if not (user.is_superuser or user.memberships.exists()):
        raise PermissionDenied(
            _("Le catalogue KEV est réservé aux personnes rattachées à un établissement.")
        )


@login_required
@require_GET
def kev(request):
    _require_member(request)
    return render(
        request,
        "posture/kev_catalogue.html",
        {
            "catalogue": kev_module.current(),
            "history": KevCatalogue.objects.select_related("imported_by")[:10],
            "ransomware": KevEntry.objects.filter(ransomware=True).count(),
            "recent": KevEntry.objects.all()[:20],
            "products": remote.PRODUCTS,
            "source_url": kev_module.SOURCE_URL,
            "feed_url": kev_module.FEED_URL,
            "can_import": request.user.is_superuser,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def kev_import(request):
    # The catalogue is shared by every organisation: only platform administrators load it.
    if not request.user.is_superuser:
        raise PermissionDenied(
            _("Seuls les administrateurs de la plateforme importent le catalogue KEV.")
        )
    form = KevImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            name, _type, digest = check_upload(upload, JSON_FILES, kev_module.MAX_FILE_BYTES)
            outcome = kev_module.import_catalogue(
                upload.read(),
                user=request.user,
                filename=name,
                allow_older=form.cleaned_data["allow_older"],
            )
        except ValidationError as exc:
            problems = exc.messages
        except kev_module.KevError as exc:
            problems = exc.problems
        else:
            record_event(
                "posture.kev_imported",
                request=request,
                target=outcome.catalogue,
                details={
                    "version": outcome.catalogue.catalog_version,
                    "count": outcome.catalogue.count,
                    "previous": outcome.previous.catalog_version if outcome.previous else "",
                    "added": len(outcome.added),
                    "file": name,
                    "sha256": digest,
                },
            )
            messages.success(request, outcome.summary())
            for warning in outcome.warnings:
                messages.warning(request, warning)
            return redirect("posture:kev")
    return render(
        request,
        "posture/kev_import.html",
        {"form": form, "problems": problems, "feed_url": kev_module.FEED_URL},
    )


# Exposure scans ----------------------------------------------------------------------------------
def _latest_scans(user, node) -> list[ExposureScan]:
    """The latest scan of each establishment under this node."""
    scans = (
        ExposureScan.objects.visible_to(user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .order_by("organisation__name", "-started_at", "-pk")
    )
    latest: dict[int, ExposureScan] = {}
    for scan in scans:
        latest.setdefault(scan.organisation_id, scan)
    return list(latest.values())


def _by_address(services) -> list[dict]:
    """Services grouped by (establishment, address); addresses with risky services first."""
    groups: OrderedDict = OrderedDict()
    for service in services:
        key = (service.scan.organisation_id, service.address)
        group = groups.setdefault(
            key,
            {
                "organisation": service.scan.organisation,
                "address": service.address,
                "hostname": service.hostname,
                "services": [],
            },
        )
        group["hostname"] = group["hostname"] or service.hostname
        group["services"].append(service)
    rows = list(groups.values())
    for row in rows:
        row["services"].sort(key=lambda s: (not s.risky, s.port))
        row["risky"] = sum(s.risky for s in row["services"])
    rows.sort(key=lambda r: (-r["risky"], r["organisation"].name, r["address"]))
    return rows


@login_required
@require_GET
def exposure(request, org_id):
    node = _organisation(request, org_id)
    latest = _latest_scans(request.user, node)
    services = list(
        ExposedService.objects.filter(scan__in=latest).select_related(
            "scan__organisation", "action"
        )
    )
    scans = (
        ExposureScan.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
    )
    return render(
        request,
        "posture/exposure_list.html",
        {
            "node": node,
            "is_ght": node.kind == Kind.GHT,
            "latest": latest,
            "groups": _by_address(services),
            "risky_count": sum(s.risky for s in services),
            "service_count": len(services),
            "risk_labels": scans_module.risk_labels(services),
            "scans": scans,
            "can_upload": node.kind == Kind.ESTABLISHMENT and can(request.user, MANAGE, node),
            "can_change": can(request.user, CHANGE, node),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def exposure_upload(request, org_id):
    node = _organisation(request, org_id, MANAGE, kinds=(Kind.ESTABLISHMENT,))
    form = ScanUploadForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            name, _type, digest = check_upload(upload, XML_FILES, scans_module.MAX_FILE_BYTES)
            scan = scans_module.import_scan(node, upload.read(), filename=name, user=request.user)
        except ValidationError as exc:
            problems = exc.messages
        except scans_module.ScanError as exc:
            problems = [str(exc)]
        else:
            record_event(
                "posture.exposure_imported",
                request=request,
                target=scan,
                organisation=node,
                details={"file": name, "sha256": digest, "services": scan.services.count()},
            )
            messages.success(
                request,
                _("Scan importé : %(count)s services exposés, dont %(risky)s à risque.")
                % {
                    "count": scan.services.count(),
                    "risky": scan.services.filter(risky=True).count(),
                },
            )
            return redirect("posture:exposure_scan", scan.pk)
    return render(
        request,
        "posture/exposure_upload.html",
        {"node": node, "form": form, "problems": problems},
    )


@login_required
@require_GET
def exposure_scan(request, pk):
    scan = _get(request, ExposureScan.objects.select_related("organisation", "imported_by"), pk)
    services = list(scan.services.select_related("scan__organisation", "action"))
    return render(
        request,
        "posture/exposure_scan.html",
        {
            "scan": scan,
            "node": scan.organisation,
            "groups": _by_address(services),
            "risky_count": sum(s.risky for s in services),
            "service_count": len(services),
            "can_manage": can(request.user, MANAGE, scan.organisation),
            "can_change": can(request.user, CHANGE, scan.organisation),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def exposure_scan_delete(request, pk):
    scan = _get(request, ExposureScan.objects.select_related("organisation"), pk, MANAGE)
    node = scan.organisation
    if request.method == "POST":
        record_event(
            "posture.exposure_deleted",
            request=request,
            target=scan,
            organisation=node,
            details={"file": scan.filename},
        )
        scans_module.delete_scan(scan)
        messages.success(request, _("Scan supprimé."))
        return redirect("posture:exposure", node.pk)
    return render(request, "posture/exposure_confirm_delete.html", {"node": node, "scan": scan})


@login_required
@require_POST
def exposure_service_action(request, pk):
    service = _get(request, ExposedService.objects.select_related("scan__organisation"), pk, CHANGE)
    try:
        item = scans_module.create_action(service, actor=request.user, request=request)
    except scans_module.NotRisky as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Action « %(title)s » au plan d'action.") % {"title": item.title}
        )
    return redirect(reverse("posture:exposure_scan", args=[service.scan_id]))
