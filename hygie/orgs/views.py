from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hygie.accounts import invitations
from hygie.accounts.services import in_sudo_mode
from hygie.accounts.views import sudo_redirect
from hygie.core.audit import record_event
from hygie.core.models import AuditEvent
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs import services, staff_csv
from hygie.orgs.forms import InvitationForm, MembershipForm, OrganisationForm, StaffFilterForm
from hygie.orgs.models import Kind, Membership, Organisation, StaffMember
from hygie.orgs.roles import AGGREGATE, MANAGE, VIEW


@login_required
def home(request):
    node = services.current_organisation(request)
    if node is None:
        return render(request, "orgs/no_membership.html")
    return _dashboard(request, node)


@login_required
def organisation_detail(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, AGGREGATE, pk=org_id)
    if node.kind in services.SWITCHER_KINDS:
        # Opening a GHT or an establishment makes it the current organisation, so the
        # navigation (staff, roles…) follows where the user drilled down.
        services.set_current_organisation(request, node)
    return _dashboard(request, node)


def _dashboard(request, node: Organisation):
    context = {
        "node": node,
        "ancestors": [a for a in node.ancestors() if services.can(request.user, AGGREGATE, a)],
        "figures": services.home_figures(request.user, node),
        "can_manage": services.can(request.user, MANAGE, node),
        "can_add_children": node.kind != Kind.NATIONAL or request.user.is_superuser,
        "can_edit": node.kind not in (Kind.NATIONAL, Kind.REGION) or request.user.is_superuser,
    }
    return render(request, "orgs/dashboard.html", context)


@login_required
@require_POST
def switch_organisation(request):
    org = get_visible_or_404(
        services.switchable_organisations(request.user),
        request.user,
        AGGREGATE,
        pk=request.POST.get("organisation"),
    )
    services.set_current_organisation(request, org)
    return redirect("orgs:home")


def _filtered_staff(request, node):
    """Staff under `node` visible to the user, narrowed by the list's filter form."""
    staff = (
        StaffMember.objects.visible_to(request.user, VIEW)
        .filter(establishment__path__startswith=node.path)
        .select_related("establishment", "service", "site")
    )
    services_qs = Organisation.objects.subtree_of(node).filter(kind=Kind.SERVICE).order_by("name")
    form = StaffFilterForm(services_qs, request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            staff = staff.filter(
                Q(last_name__icontains=data["q"])
                | Q(first_name__icontains=data["q"])
                | Q(email__icontains=data["q"])
            )
        if data["job_family"]:
            staff = staff.filter(job_family=data["job_family"])
        if data["service"]:
            staff = staff.filter(service_id=data["service"])
    return staff, form


@login_required
def staff_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    staff, form = _filtered_staff(request, node)
    page = Paginator(staff, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orgs/staff_list.html",
        {
            "node": node,
            "page": page,
            "form": form,
            "can_manage": services.can(request.user, MANAGE, node),
        },
    )


@login_required
def staff_export(request, org_id: int):
    """The (filtered) staff list as a CSV file that `import-staff` reads back."""
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    staff, _form = _filtered_staff(request, node)
    count = staff.count()
    record_event(
        "orgs.staff_exported",
        request=request,
        target=node,
        organisation=node,
        details={"rows": count, "filters": {k: v for k, v in request.GET.items() if k != "page"}},
    )
    filename = (
        f"personnels-{slugify(node.short_name or node.name)}-{timezone.localdate():%Y%m%d}.csv"
    )
    response = StreamingHttpResponse(
        staff_csv.rows(staff.order_by("establishment__name", "last_name", "first_name", "pk")),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def members(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    memberships = (
        Membership.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("user", "organisation")
        .order_by("organisation__path", "user__last_name")
    )
    can_manage = services.can(request.user, MANAGE, node)
    pending = invitations.pending_under(request.user, node) if can_manage else []
    return render(
        request,
        "orgs/members.html",
        {
            "node": node,
            "memberships": memberships,
            "invitations": pending,
            "now": timezone.now(),
            "can_manage": can_manage,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def invite(request, org_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, MANAGE, seen_with=VIEW, pk=org_id
    )
    if not in_sudo_mode(request):
        return sudo_redirect(request)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = invitations.invite(
                organisation=node,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                inviter=request.user,
                request=request,
            )
        except invitations.InvitationRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            person = outcome.membership.user
            if outcome.invitation is None:
                messages.success(
                    request,
                    _("%(name)s avait déjà un compte : le rôle lui est attribué.")
                    % {"name": person.display_name()},
                )
            else:
                messages.success(
                    request,
                    _("Invitation envoyée à %(email)s, valable jusqu'au %(date)s.")
                    % {
                        "email": person.email,
                        "date": formats.date_format(
                            timezone.localtime(outcome.invitation.expires_at), "DATETIME_FORMAT"
                        ),
                    },
                )
            return redirect("orgs:members", org_id=node.pk)
    return render(request, "orgs/invitation_form.html", {"node": node, "form": form})


def _invitation_or_refuse(request, org_id: int, invitation_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, MANAGE, seen_with=VIEW, pk=org_id
    )
    invitation = get_visible_or_404(
        invitations.pending_under(request.user, node),
        request.user,
        MANAGE,
        pk=invitation_id,
    )
    return node, invitation


@login_required
@require_POST
def invitation_resend(request, org_id: int, invitation_id: int):
    node, invitation = _invitation_or_refuse(request, org_id, invitation_id)
    if not in_sudo_mode(request):
        return sudo_redirect(request)
    try:
        invitation = invitations.resend(invitation, request=request)
    except invitations.InvitationRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("Nouvelle invitation envoyée à %(email)s ; le lien précédent ne fonctionne plus.")
            % {"email": invitation.user.email},
        )
    return redirect("orgs:members", org_id=node.pk)


@login_required
@require_POST
def invitation_revoke(request, org_id: int, invitation_id: int):
    node, invitation = _invitation_or_refuse(request, org_id, invitation_id)
    if not in_sudo_mode(request):
        return sudo_redirect(request)
    email = invitation.user.email
    try:
        invitations.revoke(invitation, request=request)
    except invitations.InvitationRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _(
                "Invitation de %(email)s révoquée : le lien ne fonctionne plus et le rôle est retiré."
            )
            % {"email": email},
        )
    return redirect("orgs:members", org_id=node.pk)


@login_required
@require_http_methods(["GET", "POST"])
def membership_add(request, org_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, MANAGE, seen_with=VIEW, pk=org_id
    )
    if not in_sudo_mode(request):
        return sudo_redirect(request)
    form = MembershipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, role = form.cleaned_data["user"], form.cleaned_data["role"]
        try:
            membership = Membership.objects.create(user=user, organisation=node, role=role)
        except IntegrityError:
            form.add_error("role", _("Cet utilisateur a déjà ce rôle ici."))
        else:
            record_event(
                "orgs.role_granted",
                request=request,
                target=membership,
                organisation=node,
                details={"user": user.username, "role": role},
            )
            messages.success(request, _("Rôle attribué."))
            return redirect("orgs:members", org_id=node.pk)
    return render(request, "orgs/membership_form.html", {"node": node, "form": form})


@login_required
@require_POST
def membership_remove(request, org_id: int, membership_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, MANAGE, seen_with=VIEW, pk=org_id
    )
    membership = get_visible_or_404(
        Membership.objects.filter(organisation__path__startswith=node.path).select_related(
            "user", "organisation"
        ),
        request.user,
        MANAGE,
        pk=membership_id,
    )
    if not in_sudo_mode(request):
        return sudo_redirect(request)
    details = {
        "user": membership.user.username,
        "role": membership.role,
        "organisation": str(membership.organisation),
    }
    record_event(
        "orgs.role_revoked",
        request=request,
        target=membership,
        organisation=membership.organisation,
        details=details,
    )
    membership.delete()
    messages.success(request, _("Rôle retiré."))
    return redirect("orgs:members", org_id=node.pk)


@login_required
def audit_journal(request):
    user = request.user
    events = AuditEvent.objects.all()
    if not user.is_superuser:
        # Events about a node this user manages, and events tied to no node (logins, tokens)
        # of people holding a role there. An event about another GHT stays hidden even when
        # its author also holds a role here.
        managed = Organisation.objects.visible_to(user, MANAGE).values("pk")
        colleagues = Membership.objects.filter(organisation__in=managed).values("user_id")
        events = events.filter(
            Q(organisation_id_at_event__in=managed)
            | Q(organisation_id_at_event__isnull=True, actor_id__in=colleagues)
        )
    page = Paginator(events.order_by("-sequence"), 50).get_page(request.GET.get("page"))
    return render(request, "orgs/audit_journal.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create(request, org_id: int):
    parent = get_for_action_or_refuse(
        Organisation.objects, request.user, MANAGE, seen_with=VIEW, pk=org_id
    )
    allowed = services.child_kinds(parent)
    if parent.kind in (Kind.NATIONAL,) and not request.user.is_superuser:
        raise Http404  # regions are reference data
    form = OrganisationForm(request.POST or None, parent=parent, allowed_kinds=allowed)
    if request.method == "POST" and form.is_valid():
        node = form.save()
        record_event(
            "orgs.organisation_created",
            request=request,
            target=node,
            organisation=node,
            details={"kind": node.kind, "parent": parent.pk},
        )
        messages.success(request, _("« %(name)s » créé.") % {"name": node.name})
        return redirect("orgs:detail", org_id=node.pk)
    return render(
        request, "orgs/organisation_form.html", {"form": form, "parent": parent, "node": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_edit(request, org_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, MANAGE, seen_with=VIEW, pk=org_id
    )
    if node.kind in (Kind.NATIONAL, Kind.REGION) and not request.user.is_superuser:
        raise Http404
    before = {f: getattr(node, f) for f in OrganisationForm.Meta.fields}
    form = OrganisationForm(request.POST or None, instance=node)
    if request.method == "POST" and form.is_valid():
        node = form.save()
        changes = {
            f: [before[f], getattr(node, f)] for f in before if before[f] != getattr(node, f)
        }
        record_event(
            "orgs.organisation_changed",
            request=request,
            target=node,
            organisation=node,
            details=changes,
        )
        messages.success(request, _("Modifications enregistrées."))
        return redirect("orgs:detail", org_id=node.pk)
    return render(
        request, "orgs/organisation_form.html", {"form": form, "parent": node.parent, "node": node}
    )
