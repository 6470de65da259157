"""Kit pages: the RSSI's pages (list, kit, items, distribution, status) and the page a service
contact reaches from a personal link (`kit_learner_page`, called by the learner pages for KIT
links). Every kit comes through visible_to / get_for_action_or_refuse."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hygie.awareness import kits
from hygie.awareness.kit_forms import AcknowledgeForm, DistributionForm, KitForm, KitItemForm
from hygie.awareness.models import Kit, KitItem, LearnerLink
from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, VIEW
from hygie.orgs.services import can

KIT_LEVELS = (Kind.ESTABLISHMENT, Kind.GHT)


def _kit(request, pk: int, action: str = VIEW) -> Kit:
    queryset = Kit.objects.select_related("organisation")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)


@login_required
def kit_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    kit_rows = (
        Kit.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .annotate(
            item_count=Count("items", distinct=True),
            distributed=Count("distributions", distinct=True),
            acknowledged=Count(
                "distributions",
                filter=Q(distributions__acknowledged_at__isnull=False),
                distinct=True,
            ),
        )
    )
    return render(
        request,
        "awareness/kit_list.html",
        {
            "node": node,
            "kits": kit_rows,
            "can_create": node.kind in KIT_LEVELS and can(request.user, CHANGE, node),
        },
    )


@login_required
def kit_create(request, org_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, CHANGE, seen_with=VIEW, pk=org_id
    )
    if node.kind not in KIT_LEVELS:
        raise PermissionDenied(
            _("Un kit de campagne se relaie depuis un établissement ou depuis un GHT.")
        )
    form = KitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kit = form.save(commit=False)
        kit.organisation = node
        kit.save()
        record_event(
            "awareness.kit_create",
            request=request,
            target=kit,
            organisation=node,
            details={"name": kit.name, "year": kit.year},
        )
        messages.success(
            request, _("Kit « %(name)s » créé : ajoutez ses supports.") % {"name": kit.name}
        )
        return redirect("awareness:kit_detail", kit.pk)
    return render(request, "awareness/kit_form.html", {"node": node, "form": form, "kit": None})


@login_required
def kit_edit(request, pk: int):
    kit = _kit(request, pk, CHANGE)
    form = KitForm(request.POST or None, instance=kit)
    if request.method == "POST" and form.is_valid():
        form.save()
        record_event(
            "awareness.kit_edit",
            request=request,
            target=kit,
            organisation=kit.organisation,
            details={"changed": form.changed_data},
        )
        messages.success(request, _("Kit enregistré."))
        return redirect("awareness:kit_detail", kit.pk)
    return render(
        request, "awareness/kit_form.html", {"node": kit.organisation, "form": form, "kit": kit}
    )


def _detail(request, kit: Kit, item_form: KitItemForm | None = None, status: int = 200):
    may_change = can(request.user, CHANGE, kit.organisation)
    return render(
        request,
        "awareness/kit_detail.html",
        {
            "kit": kit,
            "node": kit.organisation,
            "items": list(kit.items.all()),
            "summary": kits.summary(kit),
            "may_change": may_change,
            "item_form": item_form or (KitItemForm() if may_change else None),
        },
        status=status,
    )


@login_required
def kit_detail(request, pk: int):
    return _detail(request, _kit(request, pk))


@login_required
@require_POST
def kit_item_add(request, pk: int):
    kit = _kit(request, pk, CHANGE)
    form = KitItemForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            item = kits.add_item(
                kit,
                kind=data["kind"],
                title=data["title"],
                text=data["text"],
                url=data["url"],
                upload=data["file"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            messages.success(request, _("Support « %(title)s » ajouté.") % {"title": item.title})
            return redirect("awareness:kit_detail", kit.pk)
    return _detail(request, kit, form, status=400)


@login_required
def kit_item_download(request, pk: int, item_pk: int):
    kit = _kit(request, pk)
    item = get_object_or_404(kit.items.exclude(stored_name=""), pk=item_pk)
    return kits.download(item)


@login_required
@require_POST
def kit_item_delete(request, pk: int, item_pk: int):
    kit = _kit(request, pk, CHANGE)
    item = get_object_or_404(KitItem.objects.filter(kit=kit), pk=item_pk)
    kits.delete_item(item, actor=request.user)
    messages.success(request, _("Support « %(title)s » retiré.") % {"title": item.title})
    return redirect("awareness:kit_detail", kit.pk)


@login_required
def kit_distribute(request, pk: int):
    kit = _kit(request, pk, CHANGE)
    services = list(kits.services_of(kit.organisation))
    current = dict(kit.distributions.values_list("service_id", "contact_email"))
    initial = {**kits.suggested_contacts(kit, services), **current}
    form = DistributionForm(request.POST or None, services=services, initial_contacts=initial)
    if request.method == "POST" and form.is_valid():
        if not kit.items.exists():
            form.add_error(None, _("Ajoutez au moins un support au kit avant de le diffuser."))
        else:
            report = kits.distribute(kit, form.cleaned_data["contacts"], actor=request.user)
            messages.success(
                request,
                _(
                    "Diffusion enregistrée : le kit part par e-mail à %(count)s service(s). "
                    "Un envoi refusé par le serveur de messagerie est retenté chaque heure."
                )
                % {"count": report.to_send},
            )
            return redirect("awareness:kit_status", kit.pk)
    return render(
        request,
        "awareness/kit_distribute.html",
        {
            "kit": kit,
            "node": kit.organisation,
            "form": form,
            "current": current,
            "acknowledged": set(
                kit.distributions.filter(acknowledged_at__isnull=False).values_list(
                    "service_id", flat=True
                )
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def kit_status(request, pk: int):
    kit = _kit(request, pk)
    return render(
        request,
        "awareness/kit_status.html",
        {
            "kit": kit,
            "node": kit.organisation,
            "rows": kits.status(kit),
            "summary": kits.summary(kit),
            "may_change": can(request.user, CHANGE, kit.organisation),
        },
    )


@login_required
def kit_status_csv(request, pk: int):
    kit = _kit(request, pk)
    response = StreamingHttpResponse(kits.status_csv(kit), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kit-{kit.pk}-relais.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# The service contact's page (no account) ------------------------------------------------------
@never_cache
def kit_learner_page(request, link: LearnerLink):
    """What a KIT link opens (the learner pages have checked the token, its expiry and the
    browser, and set the private headers: no cache, referrer policy, noindex): the kit's
    supports to download and the "displayed / relayed" confirmation.
    `?support=<id>` downloads one of the kit's files (decision 0543)."""
    distribution = link.distribution
    if distribution is None:
        raise Http404
    kit = distribution.kit
    support = request.GET.get("support")
    if request.method == "GET" and support:
        if not support.isdigit():
            raise Http404
        item = get_object_or_404(kit.items.exclude(stored_name=""), pk=int(support))
        return kits.download(item)
    form = None
    if distribution.acknowledged_at is None:
        form = AcknowledgeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            kits.acknowledge(
                distribution, name=form.cleaned_data["name"], comment=form.cleaned_data["comment"]
            )
            return redirect(request.path)
    elif request.method == "POST":
        return redirect(request.path)  # confirmed already (a second tab): nothing to change
    return render(
        request,
        "awareness/kit_learner.html",
        {
            "kit": kit,
            "distribution": distribution,
            "service": distribution.service,
            "items": list(kit.items.all()),
            "form": form,
        },
        status=400 if form is not None and form.is_bound and form.errors else 200,
    )
