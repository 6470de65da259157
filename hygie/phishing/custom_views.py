"""Pages of custom lures, target lists and the GoPhish import.

Lures and lists belong to an establishment or a GHT. Writing them needs "change" there,
deleting them or importing a file "manage"; reading them "view". A GHT's lures are offered
read-only to its members (decision 0441), so a member establishment's pages list them too.
"""

from __future__ import annotations

import re
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hygie.core.audit import record_event
from hygie.core.visibility import (
    ALL,
    get_for_action_or_refuse,
    get_visible_or_404,
    scopes_for,
)
from hygie.orgs.models import Organisation, StaffMember
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can
from hygie.phishing import gophish
from hygie.phishing.custom_forms import (
    CustomLureForm,
    GophishImportForm,
    TargetListForm,
    landing_field_formset,
    sign_formset,
)
from hygie.phishing.lures import PLACEHOLDERS, lure_problems
from hygie.phishing.models import CustomLure, Simulation, TargetList
from hygie.phishing.views import OWNER_KINDS

# ------------------------------------------------------------------------------------ lures


def reachable_lures(user):
    """Custom lures the user may read: those of the subtrees they see, and those of the GHTs
    (and other ancestors) of the nodes they see, which are shared down the tree."""
    scopes = scopes_for(user, VIEW)
    if scopes is ALL:
        return CustomLure.objects.all()
    if not scopes:
        return CustomLure.objects.none()
    condition = Q()
    ancestors: set[int] = set()
    for path in scopes:
        condition |= Q(organisation__path__startswith=path)
        ancestors.update(int(part) for part in path.strip("/").split("/") if part)
    return CustomLure.objects.filter(condition | Q(organisation_id__in=ancestors))


def _owner_node(request, org_id: int, action: str) -> Organisation:
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, action, seen_with=VIEW, pk=org_id
    )
    if node.kind not in OWNER_KINDS:
        raise PermissionDenied(_("Ceci appartient à un établissement ou à un GHT."))
    return node


def _problems(lure: CustomLure) -> list[str]:
    return [str(problem) for problem in lure_problems(lure.to_lure())]


@login_required
def lure_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    own = (
        CustomLure.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
    )
    shared = CustomLure.objects.filter(organisation_id__in=node.ancestor_ids()).select_related(
        "organisation"
    )
    rows = [
        {"lure": lure, "problems": _problems(lure), "editable": can(request.user, CHANGE, node)}
        for lure in own
    ] + [{"lure": lure, "problems": _problems(lure), "editable": False} for lure in shared]
    return render(
        request,
        "phishing/custom_list.html",
        {
            "node": node,
            "rows": rows,
            "can_change": node.kind in OWNER_KINDS and can(request.user, CHANGE, node),
            "can_manage": node.kind in OWNER_KINDS and can(request.user, MANAGE, node),
        },
    )


def _lure_initial(lure: CustomLure | None):
    if lure is None:
        return [], []
    return list(lure.landing_fields or []), list(lure.signs or [])


def _save_lure(request, node, lure: CustomLure | None):
    fields_initial, signs_initial = _lure_initial(lure)
    data = request.POST if request.method == "POST" else None
    form = CustomLureForm(data, instance=lure, organisation=node)
    fields = landing_field_formset(data, initial=fields_initial)
    signs = sign_formset(data, initial=signs_initial)
    if request.method == "POST" and all(f.is_valid() for f in (form, fields, signs)):
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.organisation = node
            if lure is None:
                saved.created_by = request.user
            saved.audiences = form.cleaned_data["audiences"]
            saved.landing_fields = [
                {"name": row["name"], "label": row["label"], "type": row["type"] or "text"}
                for row in fields.rows()
            ]
            saved.signs = [{"where": row["where"], "text": row["text"]} for row in signs.rows()]
            if request.POST.get("remove_landing_html"):
                saved.landing_html = ""
            saved.save()
        problems = _problems(saved)
        record_event(
            "phishing.lure_create" if lure is None else "phishing.lure_change",
            request=request,
            target=saved,
            organisation=node,
            details={"name": saved.name, "problems": len(problems)},
        )
        if problems:
            messages.warning(
                request,
                _("Leurre « %(name)s » enregistré, mais il ne pourra pas être lancé : %(p)s")
                % {"name": saved.name, "p": " ".join(problems)},
            )
        else:
            messages.success(request, _("Leurre « %(name)s » enregistré.") % {"name": saved.name})
        return redirect("phishing:custom_edit", saved.pk)
    return render(
        request,
        "phishing/custom_form.html",
        {
            "node": node,
            "form": form,
            "fields": fields,
            "signs": signs,
            "lure": lure,
            "problems": _problems(lure) if lure is not None else [],
            "placeholders": ["{{" + name + "}}" for name in PLACEHOLDERS],
            "title": lure.name if lure else _("Nouveau leurre"),
        },
    )


@login_required
def lure_create(request, org_id: int):
    return _save_lure(request, _owner_node(request, org_id, CHANGE), None)


def _lure_for(request, lure_id: int, action: str) -> CustomLure:
    """The lure if the user may `action` it; 403 for a lure they only read (a GHT's lure seen
    from a member establishment), 404 for one they cannot see at all."""
    try:
        return get_for_action_or_refuse(
            CustomLure.objects.select_related("organisation"),
            request.user,
            action,
            seen_with=VIEW,
            pk=lure_id,
        )
    except Http404:
        if reachable_lures(request.user).filter(pk=lure_id).exists():
            raise PermissionDenied from None
        raise


@login_required
def lure_edit(request, lure_id: int):
    lure = _lure_for(request, lure_id, CHANGE)
    return _save_lure(request, lure.organisation, lure)


def simulations_using(lure: CustomLure) -> list[str]:
    """Names of the campaigns that use this lure (they could no longer show its pages)."""
    candidates = Simulation.objects.filter(
        organisation__path__startswith=lure.organisation.path
    ).values_list("name", "lures")
    return [name for name, keys in candidates if lure.key in (keys or [])]


@login_required
@require_POST
def lure_delete(request, lure_id: int):
    lure = _lure_for(request, lure_id, MANAGE)
    node = lure.organisation
    used = simulations_using(lure)
    if used:
        messages.error(
            request,
            _("« %(name)s » sert aux campagnes %(used)s : il ne peut pas être supprimé.")
            % {"name": lure.name, "used": ", ".join(f"« {n} »" for n in used)},
        )
        return redirect("phishing:custom_lures", node.pk)
    record_event(
        "phishing.lure_delete",
        request=request,
        target=lure,
        organisation=node,
        details={"name": lure.name},
    )
    lure.delete()
    messages.success(request, _("Leurre supprimé."))
    return redirect("phishing:custom_lures", node.pk)


_SAMPLE_PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA="


def sample_context(lure: CustomLure, node: Organisation) -> dict:
    return {
        "prenom": "Camille",
        "nom": "Martin",
        "service": _("Laboratoire de biologie"),
        "etablissement": str(node),
        "lien": "https://simulation.exemple/s/c/exemple/",
        "pixel": _SAMPLE_PIXEL,
        "date": date_format(date.today(), "j F Y"),
        "expediteur": lure.sender_name,
    }


_KNOWN = re.compile(r"\{\{(" + "|".join(PLACEHOLDERS) + r")\}\}")


def _fill(text: str, context: dict, *, html: bool = False) -> str:
    """Known placeholders filled, anything else left as written: a lure with a problem is
    previewed too, its unknown variable visible where it stands."""

    def value(match):
        name = match.group(1)
        if name == "pixel":
            return f'<img src="{_SAMPLE_PIXEL}" width="1" height="1" alt="">' if html else ""
        return str(conditional_escape(context[name])) if html else str(context[name])

    return _KNOWN.sub(value, text or "")


@login_required
def lure_preview(request, lure_id: int):
    lure = reachable_lures(request.user).select_related("organisation").filter(pk=lure_id).first()
    if lure is None:
        raise Http404
    node = lure.organisation
    context = sample_context(lure, node)
    return render(
        request,
        "phishing/custom_preview.html",
        {
            "node": node,
            "lure": lure,
            "context": context,
            "subject": " ".join(_fill(lure.subject, context).split()),
            "text": _fill(lure.text, context),
            "html": _fill(lure.html, context, html=True),
            "landing_html": _fill(lure.landing_html, context, html=True),
            "landing_title": _fill(lure.landing_title, context),
            "landing_intro": _fill(lure.landing_intro, context),
            "teachable_title": _fill(lure.teachable_title, context),
            "teachable_body": _fill(lure.teachable_body, context),
            "problems": _problems(lure),
        },
    )


# ------------------------------------------------------------------------------ target lists


@login_required
def targetlist_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    lists = (
        TargetList.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .annotate(size=Count("members"))
    )
    return render(
        request,
        "phishing/targetlist_list.html",
        {
            "node": node,
            "lists": lists,
            "can_change": node.kind in OWNER_KINDS and can(request.user, CHANGE, node),
            "can_manage": node.kind in OWNER_KINDS and can(request.user, MANAGE, node),
        },
    )


def filtered_staff(node: Organisation, *, services=(), sites=(), job_families=()):
    staff = StaffMember.objects.filter(establishment__path__startswith=node.path, active=True)
    if services:
        staff = staff.filter(service__in=services)
    if sites:
        staff = staff.filter(site__in=sites)
    if job_families:
        staff = staff.filter(job_family__in=job_families)
    return staff


@login_required
def targetlist_create(request, org_id: int):
    node = _owner_node(request, org_id, CHANGE)
    form = TargetListForm(request.POST or None, organisation=node)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        staff = filtered_staff(
            node,
            services=data["services"],
            sites=data["sites"],
            job_families=data["job_families"],
        )
        ids = list(staff.values_list("pk", flat=True))
        if not ids:
            form.add_error(None, _("Aucune personne en poste ne correspond à ces critères."))
        else:
            with transaction.atomic():
                target_list = TargetList.objects.create(organisation=node, name=data["name"])
                target_list.members.set(ids)
            record_event(
                "phishing.targetlist_create",
                request=request,
                target=target_list,
                organisation=node,
                details={"name": target_list.name, "members": len(ids)},
            )
            messages.success(
                request,
                _("Liste « %(name)s » créée : %(n)s personne(s).")
                % {"name": target_list.name, "n": len(ids)},
            )
            return redirect("phishing:targetlist_detail", target_list.pk)
    return render(
        request,
        "phishing/targetlist_form.html",
        {"node": node, "form": form, "title": _("Nouvelle liste de destinataires")},
    )


@login_required
def targetlist_detail(request, list_id: int):
    target_list = get_visible_or_404(
        TargetList.objects.select_related("organisation"), request.user, VIEW, pk=list_id
    )
    members = target_list.members.select_related("establishment", "service").order_by(
        "last_name", "first_name", "pk"
    )
    page = Paginator(members, 100).get_page(request.GET.get("page"))
    node = target_list.organisation
    return render(
        request,
        "phishing/targetlist_detail.html",
        {
            "node": node,
            "target_list": target_list,
            "page": page,
            "can_manage": can(request.user, MANAGE, node),
        },
    )


@login_required
@require_POST
def targetlist_delete(request, list_id: int):
    target_list = get_for_action_or_refuse(
        TargetList.objects.select_related("organisation"),
        request.user,
        MANAGE,
        seen_with=VIEW,
        pk=list_id,
    )
    node = target_list.organisation
    used = list(target_list.simulations.values_list("name", flat=True))
    if used:
        messages.error(
            request,
            _("La liste sert aux campagnes %(used)s : elle ne peut pas être supprimée.")
            % {"used": ", ".join(f"« {n} »" for n in used)},
        )
        return redirect("phishing:targetlist_detail", target_list.pk)
    record_event(
        "phishing.targetlist_delete",
        request=request,
        target=target_list,
        organisation=node,
        details={"name": target_list.name},
    )
    target_list.delete()
    messages.success(request, _("Liste supprimée."))
    return redirect("phishing:target_lists", node.pk)


# ---------------------------------------------------------------------------- GoPhish import


@login_required
def gophish_import(request, org_id: int):
    node = _owner_node(request, org_id, MANAGE)
    form = GophishImportForm(request.POST or None, request.FILES or None, organisation=node)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        kind = form.cleaned_data["kind"]
        options = {}
        if kind == "groups":
            options = {
                "establishment": form.cleaned_data.get("establishment"),
                "create_services": form.cleaned_data.get("create_services", False),
                "name": form.cleaned_data.get("group_name", ""),
            }
        if upload.size > gophish.MAX_FILE_BYTES:
            form.add_error("file", _("Le fichier dépasse 10 Mo."))
        else:
            report = gophish.import_file(
                node,
                kind,
                upload.read(),
                filename=upload.name,
                actor=request.user,
                **options,
            )
            if report.ok:
                gophish.record_import_event(report, node, request=request, filename=upload.name)
    return render(
        request,
        "phishing/import_gophish.html",
        {"node": node, "form": form, "report": report},
    )
