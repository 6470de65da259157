"""Framework library pages: the list, one framework's tree, importing a library file."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.core.audit import record_event
from hygie.frameworks.library_format import MAX_FILE_BYTES, LibraryError
from hygie.frameworks.models import Framework
from hygie.frameworks.services import EVIDENCE_SOURCES, import_library


class LibraryUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fichier de bibliothèque (YAML)"),
        help_text=gettext_lazy(
            "Format des bibliothèques CISO Assistant. Une version supérieure d'un référentiel "
            "déjà chargé le met à jour en conservant les réponses des mesures maintenues."
        ),
    )


@login_required
def framework_list(request):
    frameworks = Framework.objects.annotate(
        measures=Count("nodes", filter=Q(nodes__assessable=True))
    ).order_by("name")
    return render(
        request,
        "frameworks/framework_list.html",
        {"frameworks": frameworks, "can_import": request.user.is_superuser},
    )


@login_required
def framework_detail(request, framework_id: int):
    framework = get_object_or_404(Framework, pk=framework_id)
    nodes = list(framework.nodes.order_by("order"))
    group_names = framework.group_names
    for node in nodes:
        node.group_labels = [group_names.get(g, g) for g in node.implementation_groups]
        node.source_labels = [EVIDENCE_SOURCES.get(s, s) for s in node.evidence_sources]
    return render(
        request,
        "frameworks/framework_detail.html",
        {
            "framework": framework,
            "nodes": nodes,
            "measures": sum(node.assessable for node in nodes),
        },
    )


@login_required
def framework_import(request):
    # Frameworks are shared by every organisation: only platform administrators load them.
    if not request.user.is_superuser:
        raise PermissionDenied(
            _("Seuls les administrateurs de la plateforme chargent des référentiels.")
        )
    form = LibraryUploadForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            problems = [_("Le fichier dépasse 20 Mo.")]
        else:
            try:
                outcome = import_library(upload.read(), user=request.user, filename=upload.name)
            except LibraryError as exc:
                problems = exc.format_lines()
            else:
                record_event(
                    "frameworks.import",
                    request=request,
                    target=outcome.framework,
                    details={
                        "urn": outcome.framework.urn,
                        "version": outcome.framework.version,
                        "previous_version": outcome.previous_version,
                        "file": upload.name[:200],
                    },
                )
                messages.success(request, outcome.summary())
                for warning in outcome.warnings:
                    messages.warning(request, warning)
                return redirect("frameworks:detail", outcome.framework.pk)
    return render(request, "frameworks/framework_import.html", {"form": form, "problems": problems})
