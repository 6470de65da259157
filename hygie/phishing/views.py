"""Sending profiles pages. Profiles belong to an establishment or a GHT; managing them needs
the "manage" action there, reading them "view" (the password is never shown back)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import MANAGE, VIEW
from hygie.orgs.services import can
from hygie.phishing import smtp
from hygie.phishing.forms import SendingProfileForm, TestSendForm
from hygie.phishing.models import SendingProfile

OWNER_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)


@login_required
def profile_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    profiles = (
        SendingProfile.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
    )
    return render(
        request,
        "phishing/profile_list.html",
        {
            "node": node,
            "profiles": profiles,
            "can_manage": node.kind in OWNER_KINDS and can(request.user, MANAGE, node),
            "test_form": TestSendForm(initial={"recipient": request.user.email}),
        },
    )


@login_required
def profile_create(request, org_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, MANAGE, seen_with=VIEW, pk=org_id
    )
    if node.kind not in OWNER_KINDS:
        raise PermissionDenied(
            _("Les profils d'envoi appartiennent à un établissement ou à un GHT.")
        )
    form = SendingProfileForm(request.POST or None, organisation=node)
    if request.method == "POST" and form.is_valid():
        profile = form.save()
        record_event(
            "phishing.profile_create",
            request=request,
            target=profile,
            organisation=node,
            details={"name": profile.name, "host": profile.host, "port": profile.port},
        )
        messages.success(request, _("Profil d'envoi « %(name)s » créé.") % {"name": profile.name})
        return redirect("phishing:profiles", node.pk)
    return render(
        request,
        "phishing/profile_form.html",
        {"node": node, "form": form, "title": _("Nouveau profil d'envoi")},
    )


@login_required
def profile_edit(request, profile_id: int):
    profile = get_for_action_or_refuse(
        SendingProfile.objects.select_related("organisation"),
        request.user,
        MANAGE,
        seen_with=VIEW,
        pk=profile_id,
    )
    form = SendingProfileForm(
        request.POST or None, instance=profile, organisation=profile.organisation
    )
    if request.method == "POST" and form.is_valid():
        password_changed = bool(form.cleaned_data.get("password"))
        profile = form.save()
        record_event(
            "phishing.profile_change",
            request=request,
            target=profile,
            organisation=profile.organisation,
            details={
                "name": profile.name,
                "host": profile.host,
                "password_changed": password_changed,
            },
        )
        messages.success(request, _("Profil d'envoi enregistré."))
        return redirect("phishing:profiles", profile.organisation_id)
    return render(
        request,
        "phishing/profile_form.html",
        {"node": profile.organisation, "form": form, "profile": profile, "title": profile.name},
    )


@login_required
@require_POST
def profile_test(request, profile_id: int):
    profile = get_for_action_or_refuse(
        SendingProfile.objects.select_related("organisation"),
        request.user,
        MANAGE,
        seen_with=VIEW,
        pk=profile_id,
    )
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Adresse de destination invalide."))
        return redirect("phishing:profiles", profile.organisation_id)
    outcome = smtp.send_test(profile, form.cleaned_data["recipient"])
    record_event(
        "phishing.profile_test",
        request=request,
        target=profile,
        organisation=profile.organisation,
        details={"ok": outcome.ok},
    )
    (messages.success if outcome.ok else messages.error)(request, outcome.message)
    return redirect("phishing:profiles", profile.organisation_id)
