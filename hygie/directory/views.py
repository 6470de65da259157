"""Directory pages: list with filters, detail, create/edit, verification, deletion, CSV.

Every entry is fetched through `services.actors_visible_to(user, action)`: an entry out of
sight answers 404; one in sight but not changeable (a reference entry for an RSSI, a GHT entry
for a reader) answers 403 with an explanation.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hygie.core.audit import record_event
from hygie.directory import csv_io, services
from hygie.directory.forms import ActorFilterForm, ActorForm, ActorImportForm
from hygie.directory.models import Actor
from hygie.orgs.roles import CHANGE, MANAGE, VIEW

PAGE_SIZE = 25


def _filtered(request):
    form = ActorFilterForm(request.GET or None)
    actors = services.filter_actors(
        services.actors_visible_to(request.user, VIEW), **form.filters()
    )
    return actors.select_related("owner").prefetch_related("regions"), form


def _refused(request, actor: Actor | None, reason: str):
    return render(request, "directory/refused.html", {"actor": actor, "reason": reason}, status=403)


def _reason(actor: Actor | None) -> str:
    if actor is not None and actor.is_reference:
        return _(
            "Cette entrée appartient au référentiel partagé : seuls les administrateurs de la "
            "plateforme la modifient. Vous pouvez créer une entrée propre à votre organisation."
        )
    return _(
        "Votre rôle vous permet de consulter l'annuaire, mais pas de le modifier. Créer ou "
        "modifier une entrée demande un rôle de gestion (RSSI, DSI, référent sécurité…) sur "
        "l'organisation ; importer ou supprimer demande le rôle RSSI ou DSI."
    )


def _actor_for(request, pk: int, action: str):
    """(actor, None) when the user may perform `action`, else (None, 403 response); 404 unseen."""
    actor = services.actors_visible_to(request.user, action).filter(pk=pk).first()
    if actor is not None:
        return actor, None
    seen = services.actors_visible_to(request.user, VIEW).filter(pk=pk).first()
    if seen is None:
        raise Http404
    return None, _refused(request, seen, _reason(seen))


@login_required
def actor_list(request):
    actors, form = _filtered(request)
    page = Paginator(actors, PAGE_SIZE).get_page(request.GET.get("page"))
    reference_allowed = services.can_write_reference(request.user)
    return render(
        request,
        "directory/actor_list.html",
        {
            "page": page,
            "form": form,
            "can_create": reference_allowed or services.owner_choices(request.user).exists(),
            "can_import": reference_allowed
            or services.owner_choices(request.user, MANAGE).exists(),
        },
    )


@login_required
def actor_export(request):
    actors, _form = _filtered(request)
    filename = f"annuaire-acteurs-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(
        csv_io.export_rows(actors.iterator(chunk_size=500)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def actor_detail(request, pk: int):
    actor = (
        services.actors_visible_to(request.user, VIEW)
        .select_related("owner")
        .prefetch_related("regions")
        .filter(pk=pk)
        .first()
    )
    if actor is None:
        raise Http404
    return render(
        request,
        "directory/actor_detail.html",
        {
            "actor": actor,
            "can_change": services.can_change(request.user, actor),
            "can_delete": services.can_change(request.user, actor, MANAGE),
        },
    )


def _form_kwargs(request, action: str = CHANGE):
    return {
        "owners": services.owner_choices(request.user, action),
        "reference_allowed": services.can_write_reference(request.user),
    }


@login_required
@require_http_methods(["GET", "POST"])
def actor_create(request):
    kwargs = _form_kwargs(request)
    if not kwargs["reference_allowed"] and not kwargs["owners"].exists():
        return _refused(request, None, _reason(None))
    form = ActorForm(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        actor = form.save()
        record_event(
            "directory.actor_created",
            request=request,
            target=actor,
            organisation=actor.owner,
            details={"reference": actor.is_reference, "kind": actor.kind},
        )
        messages.success(request, _("Entrée « %(name)s » créée.") % {"name": actor.name})
        return redirect("directory:detail", pk=actor.pk)
    return render(request, "directory/actor_form.html", {"form": form, "actor": None})


@login_required
@require_http_methods(["GET", "POST"])
def actor_edit(request, pk: int):
    actor, refusal = _actor_for(request, pk, CHANGE)
    if refusal:
        return refusal
    form = ActorForm(request.POST or None, instance=actor, **_form_kwargs(request))
    if request.method == "POST" and form.is_valid():
        actor = form.save()
        record_event(
            "directory.actor_changed",
            request=request,
            target=actor,
            organisation=actor.owner,
            details={"changed": sorted(form.changed_data)},
        )
        messages.success(request, _("Entrée « %(name)s » enregistrée.") % {"name": actor.name})
        return redirect("directory:detail", pk=actor.pk)
    return render(request, "directory/actor_form.html", {"form": form, "actor": actor})


@login_required
@require_POST
def actor_verify(request, pk: int):
    actor, refusal = _actor_for(request, pk, CHANGE)
    if refusal:
        return refusal
    services.mark_verified(actor, request=request)
    messages.success(request, _("Entrée marquée comme vérifiée aujourd'hui."))
    return redirect("directory:detail", pk=actor.pk)


@login_required
@require_http_methods(["GET", "POST"])
def actor_delete(request, pk: int):
    actor, refusal = _actor_for(request, pk, MANAGE)
    if refusal:
        return refusal
    if request.method == "POST":
        record_event(
            "directory.actor_deleted",
            request=request,
            target=actor,
            organisation=actor.owner,
            details={"name": actor.name, "reference": actor.is_reference},
        )
        name = actor.name
        actor.delete()
        messages.success(request, _("Entrée « %(name)s » supprimée.") % {"name": name})
        return redirect("directory:list")
    return render(request, "directory/actor_confirm_delete.html", {"actor": actor})


@login_required
@require_http_methods(["GET", "POST"])
def actor_import(request):
    kwargs = _form_kwargs(request, MANAGE)
    if not kwargs["reference_allowed"] and not kwargs["owners"].exists():
        return _refused(request, None, _reason(None))
    form = ActorImportForm(request.POST or None, request.FILES or None, **kwargs)
    report = None
    if request.method == "POST" and form.is_valid():
        owner = form.target_owner()
        report = csv_io.import_actors(
            form.cleaned_data["file"].read(), owner=owner, user=request.user, request=request
        )
        if report.ok:
            messages.success(
                request,
                _("Import terminé : %(c)s créée(s), %(u)s mise(s) à jour, %(n)s inchangée(s).")
                % {"c": report.created, "u": report.updated, "n": report.unchanged},
            )
    return render(
        request,
        "directory/actor_import.html",
        {"form": form, "report": report, "max_megabytes": csv_io.MAX_UPLOAD_BYTES // 2**20},
    )
