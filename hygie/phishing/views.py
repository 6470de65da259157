"""Sending profiles and campaign pages. Profiles belong to an establishment or a GHT; managing them needs
the "manage" action there, reading them "view" (the password is never shown back)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can
from hygie.phishing import sending, services, smtp
from hygie.phishing.forms import (
    CorrectiveRuleForm,
    SendingProfileForm,
    SimulationForm,
    TestSendForm,
)
from hygie.phishing.lures import resolve_lure
from hygie.phishing.models import (
    CampaignStatus,
    CorrectiveRule,
    SendingProfile,
    SendStatus,
    Simulation,
)

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


# ------------------------------------------------------------------ campaigns


@login_required
def simulation_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    simulations = (
        Simulation.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .annotate(
            targeted=Count("recipients"),
            sent=Count("recipients", filter=Q(recipients__send_status=SendStatus.SENT)),
        )
    )
    return render(
        request,
        "phishing/simulation_list.html",
        {
            "node": node,
            "simulations": simulations,
            "can_manage": node.kind in OWNER_KINDS and can(request.user, MANAGE, node),
        },
    )


@login_required
def simulation_create(request, org_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, MANAGE, seen_with=VIEW, pk=org_id
    )
    if node.kind not in OWNER_KINDS:
        raise PermissionDenied(_("Une campagne appartient à un établissement ou à un GHT."))
    form = SimulationForm(request.POST or None, organisation=node)
    if request.method == "POST" and form.is_valid():
        simulation = form.save(commit=False)
        simulation.created_by = request.user
        simulation.save()
        form.save_m2m()
        record_event(
            "simulation.create",
            request=request,
            target=simulation,
            organisation=node,
            details={"name": simulation.name, "lures": simulation.lures},
        )
        messages.success(request, _("Campagne créée : vérifiez-la avant de la lancer."))
        return redirect("phishing:simulation", simulation.pk)
    return render(
        request,
        "phishing/simulation_form.html",
        {"node": node, "form": form, "title": _("Nouvelle campagne de simulation")},
    )


def _simulation(request, simulation_id: int, action: str) -> Simulation:
    return get_for_action_or_refuse(
        Simulation.objects.select_related("organisation", "sending_profile"),
        request.user,
        action,
        seen_with=VIEW,
        pk=simulation_id,
    )


@login_required
def simulation_edit(request, simulation_id: int):
    simulation = _simulation(request, simulation_id, MANAGE)
    if simulation.status != CampaignStatus.DRAFT:
        messages.error(request, _("Une campagne lancée ne se modifie plus."))
        return redirect("phishing:simulation", simulation.pk)
    form = SimulationForm(
        request.POST or None, instance=simulation, organisation=simulation.organisation
    )
    if request.method == "POST" and form.is_valid():
        simulation = form.save()
        record_event(
            "simulation.change",
            request=request,
            target=simulation,
            organisation=simulation.organisation,
            details={"name": simulation.name, "lures": simulation.lures},
        )
        messages.success(request, _("Campagne enregistrée."))
        return redirect("phishing:simulation", simulation.pk)
    return render(
        request,
        "phishing/simulation_form.html",
        {"node": simulation.organisation, "form": form, "title": simulation.name},
    )


@login_required
def simulation_detail(request, simulation_id: int):
    simulation = get_visible_or_404(
        Simulation.objects.select_related("organisation", "sending_profile"),
        request.user,
        VIEW,
        pk=simulation_id,
    )
    can_manage = can(request.user, MANAGE, simulation.organisation)
    # The results can be turned into a training campaign (the awareness app's create page
    # takes ?simulation=) by whoever may create campaigns there.
    can_train = (
        simulation.status in (CampaignStatus.RUNNING, CampaignStatus.COMPLETED)
        and simulation.organisation.kind in OWNER_KINDS
        and can(request.user, CHANGE, simulation.organisation)
    )
    context = {
        "simulation": simulation,
        "node": simulation.organisation,
        "can_manage": can_manage,
        "can_train": can_train,
        "lures": [resolve_lure(key, simulation.organisation) or key for key in simulation.lures],
    }
    if simulation.status == CampaignStatus.DRAFT:
        context["problems"] = services.launch_problems(simulation)
        try:
            context["preview"] = services.prepare_recipients(simulation, seed=0, dry_run=True)
        except services.SimulationError as exc:
            context["problems"].append(str(exc))
    else:
        context["progress"] = sending.progress(simulation)
        context["errors"] = (
            simulation.recipients.filter(send_status__in=[SendStatus.FAILED, SendStatus.RETRY])
            .values("last_error")
            .order_by()
            .annotate(n=Count("pk"))
            .order_by("-n")[:20]
        )
        window = simulation.recipients.aggregate(
            first=Min("scheduled_at"), last=Max("scheduled_at")
        )
        context["window"] = window
        context["outcomes"] = simulation.corrective_outcomes.select_related(
            "rule", "service", "action_item"
        ).filter(recipient__isnull=True)
        context["emails_sent"] = simulation.corrective_outcomes.filter(
            recipient__isnull=False
        ).count()
    return render(request, "phishing/simulation_detail.html", context)


ACTIONS = {
    "lancer": "launch",
    "pause": "pause",
    "reprendre": "resume",
    "annuler": "cancel",
    "terminer": "complete",
    "mesures": "apply_corrective",
}


@login_required
@require_POST
def simulation_action(request, simulation_id: int, action: str):
    simulation = _simulation(request, simulation_id, MANAGE)
    if action not in ACTIONS:
        raise Http404
    try:
        outcome = getattr(services, ACTIONS[action])(simulation, actor=request.user)
    except services.SimulationError as exc:
        messages.error(request, str(exc))
        return redirect("phishing:simulation", simulation.pk)
    if action == "mesures":
        messages.success(
            request,
            _("Mesures correctives appliquées : %(n)s nouvelle(s).") % {"n": len(outcome)},
        )
    elif action == "lancer":
        messages.success(
            request,
            _(
                "Campagne lancée : %(n)s destinataires, %(excluded)s personnes écartées (voir la liste)."
            )
            % {"n": outcome.recipients, "excluded": len(outcome.excluded)},
        )
    else:
        messages.success(
            request, _("Campagne : %(status)s.") % {"status": outcome.get_status_display()}
        )
    return redirect("phishing:simulation", simulation.pk)


# ------------------------------------------------------------------ corrective rules


@login_required
def corrective_rules(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    can_manage = node.kind in OWNER_KINDS and can(request.user, MANAGE, node)
    form = CorrectiveRuleForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(_("Seul le responsable de la sécurité définit ces règles."))
        if form.is_valid():
            rule = form.save(commit=False)
            rule.organisation = node
            rule.save()
            record_event(
                "simulation.rule_create",
                request=request,
                target=rule,
                organisation=node,
                details={
                    "trigger": rule.trigger,
                    "threshold": rule.threshold,
                    "remedy": rule.remedy,
                },
            )
            messages.success(request, _("Règle « %(name)s » créée.") % {"name": rule.name})
            return redirect("phishing:corrective_rules", node.pk)
    chain = [*node.ancestor_ids(), node.pk]
    rules = (
        CorrectiveRule.objects.visible_to(request.user, VIEW)
        .filter(Q(organisation__in=chain) | Q(organisation__path__startswith=node.path))
        .select_related("organisation")
    )
    return render(
        request,
        "phishing/corrective_rules.html",
        {"node": node, "rules": rules, "form": form, "can_manage": can_manage},
    )


@login_required
@require_POST
def corrective_rule_delete(request, rule_id: int):
    rule = get_for_action_or_refuse(
        CorrectiveRule.objects.select_related("organisation"),
        request.user,
        MANAGE,
        seen_with=VIEW,
        pk=rule_id,
    )
    node = rule.organisation
    record_event(
        "simulation.rule_delete", request=request, target=rule, organisation=node,
        details={"name": rule.name},
    )  # fmt: skip
    rule.delete()
    messages.success(request, _("Règle supprimée."))
    return redirect("phishing:corrective_rules", node.pk)
