"""The module catalogue: the training modules as the staff preparing a campaign see them.

Modules are shared content, not tenant data: anyone signed in with a membership (or a platform
administrator) reads the whole catalogue, correct answers included (decision 0505).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.awareness.models import Audience, Module
from hygie.phishing.lures import library


def _require_member(request) -> None:
    user = request.user
    if not (user.is_superuser or user.memberships.exists()):
        raise PermissionDenied(
            _("Le catalogue des modules est réservé aux personnes rattachées à un établissement.")
        )


def _lure_names() -> dict[str, str]:
    return {lure.slug: lure.name for lure in library()}


class CatalogueFilter(forms.Form):
    public = forms.ChoiceField(
        label=gettext_lazy("Public"), required=False, choices=[("", "—"), *Audience.choices]
    )
    leurre = forms.ChoiceField(label=gettext_lazy("Leurre de simulation"), required=False)
    retires = forms.BooleanField(label=gettext_lazy("Afficher les modules retirés"), required=False)

    def __init__(self, *args, lures: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leurre"].choices = [("", "—"), *sorted(lures.items(), key=lambda i: i[1])]


@login_required
def catalogue_list(request):
    _require_member(request)
    lures = _lure_names()
    form = CatalogueFilter(request.GET or None, lures=lures)
    audience = lure = ""
    show_inactive = False
    if form.is_bound and form.is_valid():
        audience = form.cleaned_data["public"]
        lure = form.cleaned_data["leurre"]
        show_inactive = form.cleaned_data["retires"]
    modules = Module.objects.defer("content").order_by("title")
    if not show_inactive:
        modules = modules.filter(active=True)
    audience_names = dict(Audience.choices)
    rows = []
    for module in modules:
        # A handful of modules: filtering the JSON lists here works the same on every database.
        if audience and audience not in module.audiences:
            continue
        if lure and lure not in module.lures:
            continue
        module.audience_labels = [audience_names.get(a, a) for a in module.audiences]
        module.lure_labels = [lures.get(slug, slug) for slug in module.lures]
        rows.append(module)
    return render(
        request,
        "awareness/catalogue_list.html",
        {"form": form, "modules": rows, "filtered": bool(audience or lure)},
    )


@login_required
def catalogue_module(request, slug: str):
    _require_member(request)
    module = get_object_or_404(Module, slug=slug)
    lures = _lure_names()
    audience_names = dict(Audience.choices)
    return render(
        request,
        "awareness/catalogue_module.html",
        {
            "module": module,
            "steps": [
                {**step, "options": step.get("choices") or step.get("candidates") or []}
                for step in module.content.get("steps", [])
            ],
            "quiz": module.content.get("quiz"),
            "audience_labels": [audience_names.get(a, a) for a in module.audiences],
            "lure_labels": [lures.get(slug, slug) for slug in module.lures],
        },
    )
