"""Real-incident, notification and GHT-aid pages. Thin: objects come through `visible_to`
(aid requests through `aid.requests_seen_by`), the work is in incidents / notifications / aid."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.crisis import aid, incidents, notifications, report
from hygie.crisis.incident_forms import (
    AidOfferForm,
    AidRequestForm,
    DraftForm,
    IncidentForm,
    LessonForm,
    LogEntryForm,
    StatusForm,
    SubmittedForm,
    TaskForm,
    TaskStatusForm,
)
from hygie.crisis.models import (
    AidOffer,
    AidRequest,
    AidStatus,
    CellTask,
    Incident,
    Lesson,
    Notification,
    NotificationKind,
)
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import AGGREGATE, CHANGE, VIEW
from hygie.orgs.services import can

INCIDENT_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)


def _organisation(request, org_id, action=VIEW, kinds=INCIDENT_KINDS) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=kinds)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def _incident(request, pk, action=VIEW) -> Incident:
    queryset = Incident.objects.select_related("organisation")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)


def _detail_url(incident) -> str:
    return reverse("crisis:incident_detail", args=[incident.pk])


def _notification_rows(queryset, now):
    return [(n, notifications.countdown(n, now)) for n in queryset]


# Incidents ---------------------------------------------------------------------------------------
@login_required
@require_GET
def incident_list(request, org_id):
    node = _organisation(request, org_id)
    rows = (
        Incident.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
    )
    return render(
        request,
        "crisis/incident_list.html",
        {
            "node": node,
            "incidents": rows,
            "can_declare": node.kind == Kind.ESTABLISHMENT and can(request.user, CHANGE, node),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_declare(request, org_id):
    node = _organisation(request, org_id, CHANGE, kinds=(Kind.ESTABLISHMENT,))
    form = IncidentForm(request.POST or None, organisation=node)
    if request.method == "POST" and form.is_valid():
        incident = form.save(commit=False)
        incident.organisation = node
        incidents.declare_incident(
            incident, actor=request.user, services=form.cleaned_data["services_affected"]
        )
        record_event(
            "crisis.incident_declared", request=request, target=incident, organisation=node
        )
        messages.success(request, _("Incident déclaré : la cellule de crise est ouverte."))
        return redirect(_detail_url(incident))
    return render(
        request,
        "crisis/incident_form.html",
        {"node": node, "form": form, "title": _("Déclarer un incident")},
    )


@login_required
@require_GET
def incident_detail(request, pk):
    incident = _incident(request, pk)
    now = timezone.now()
    can_change = can(request.user, CHANGE, incident.organisation)
    return render(
        request,
        "crisis/incident_detail.html",
        {
            "incident": incident,
            "node": incident.organisation,
            "can_change": can_change,
            "log": incident.log.all(),
            "tasks": incident.tasks.all(),
            "lessons": incident.lessons.select_related("action"),
            "notifications": _notification_rows(incident.notifications.order_by("due_at"), now),
            "aid_requests": incident.aid_requests.prefetch_related("offers__organisation"),
            "services": incident.services_affected.all(),
            "status_form": StatusForm(initial={"status": incident.status}) if can_change else None,
            "log_form": LogEntryForm() if can_change else None,
            "task_form": TaskForm() if can_change else None,
            "lesson_form": LessonForm() if can_change else None,
            "aid_form": AidRequestForm()
            if can_change and aid.ght_of(incident.organisation)
            else None,
            "task_statuses": CellTask._meta.get_field("status").choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_edit(request, pk):
    incident = _incident(request, pk, CHANGE)
    form = IncidentForm(request.POST or None, instance=incident, organisation=incident.organisation)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            incident = form.save()
            notifications.ensure_notifications(incident)
        record_event(
            "crisis.incident_changed",
            request=request,
            target=incident,
            organisation=incident.organisation,
        )
        messages.success(request, _("Incident mis à jour."))
        return redirect(_detail_url(incident))
    return render(
        request,
        "crisis/incident_form.html",
        {
            "node": incident.organisation,
            "form": form,
            "incident": incident,
            "title": _("Modifier l'incident"),
        },
    )


@login_required
@require_POST
def incident_status(request, pk):
    incident = _incident(request, pk, CHANGE)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            incidents.change_status(incident, form.cleaned_data["status"], actor=request.user)
        except incidents.IncidentError as exc:
            messages.error(request, str(exc))
        else:
            record_event(
                "crisis.incident_status",
                request=request,
                target=incident,
                organisation=incident.organisation,
                details={"status": incident.status},
            )
            messages.success(request, _("Statut : %(s)s.") % {"s": incident.get_status_display()})
    else:
        messages.error(request, _("Statut inconnu."))
    return redirect(_detail_url(incident))


@login_required
@require_POST
def incident_log(request, pk):
    incident = _incident(request, pk, CHANGE)
    form = LogEntryForm(request.POST)
    if form.is_valid():
        incidents.add_log_entry(
            incident,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
            user=request.user,
        )
    else:
        messages.error(request, _("La main courante attend un type et un texte."))
    return redirect(_detail_url(incident) + "#journal")


@login_required
@require_POST
def incident_task(request, pk):
    incident = _incident(request, pk, CHANGE)
    form = TaskForm(request.POST)
    if form.is_valid():
        incidents.add_task(incident, actor=request.user, **form.cleaned_data)
    else:
        messages.error(request, _("Une tâche doit avoir un intitulé (et une échéance valide)."))
    return redirect(_detail_url(incident) + "#taches")


@login_required
@require_POST
def incident_task_status(request, task_id):
    task = _task(request, task_id)
    form = TaskStatusForm(request.POST)
    if form.is_valid():
        incidents.set_task_status(task, form.cleaned_data["status"], actor=request.user)
    return redirect(_detail_url(task.incident) + "#taches")


def _task(request, task_id) -> CellTask:
    try:
        task = CellTask.objects.select_related("incident__organisation").get(
            pk=task_id, incident__isnull=False
        )
    except CellTask.DoesNotExist:
        raise Http404 from None
    _incident(request, task.incident_id, CHANGE)
    return task


@login_required
@require_POST
def incident_lesson(request, pk):
    incident = _incident(request, pk, CHANGE)
    form = LessonForm(request.POST)
    if form.is_valid():
        incidents.add_lesson(incident, form.cleaned_data["text"])
    else:
        messages.error(request, _("Un enseignement ne peut pas être vide."))
    return redirect(_detail_url(incident) + "#retex")


@login_required
@require_POST
def lesson_to_action(request, lesson_id):
    try:
        lesson = Lesson.objects.select_related("incident").get(pk=lesson_id, incident__isnull=False)
    except Lesson.DoesNotExist:
        raise Http404 from None
    incident = _incident(request, lesson.incident_id, CHANGE)
    item = report.create_action_from_lesson(lesson, actor=request.user, request=request)
    record_event(
        "crisis.lesson_to_action", request=request, target=item, organisation=incident.organisation
    )
    messages.success(request, _("Action « %(title)s » ajoutée au plan d'action.") % {"title": item})
    return redirect(_detail_url(incident) + "#retex")


# Notifications -----------------------------------------------------------------------------------
def _notification(request, pk, kind, action) -> Notification:
    incident = _incident(request, pk, action)
    if kind not in NotificationKind.values:
        raise Http404
    try:
        return incident.notifications.select_related("incident__organisation").get(kind=kind)
    except Notification.DoesNotExist:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def notification_edit(request, pk, kind):
    notification = _notification(request, pk, kind, VIEW)
    incident = notification.incident
    can_change = can(request.user, CHANGE, incident.organisation)
    if request.method == "POST" and not can_change:
        raise PermissionDenied
    form = DraftForm(request.POST or None, initial=notification.draft, kind=notification.kind)
    if request.method == "POST" and form.is_valid():
        notifications.save_draft(notification, form.cleaned_data)
        messages.success(request, _("Brouillon enregistré."))
        return redirect(reverse("crisis:notification_edit", args=[incident.pk, kind]))
    return render(
        request,
        "crisis/incident_notification.html",
        {
            "incident": incident,
            "node": incident.organisation,
            "notification": notification,
            "countdown": notifications.countdown(notification),
            "form": form,
            "submitted_form": SubmittedForm(
                initial={"submitted_at": timezone.localtime().replace(second=0)}
            ),
            "can_change": can_change,
        },
    )


@login_required
@require_POST
def notification_submitted(request, pk, kind):
    notification = _notification(request, pk, kind, CHANGE)
    form = SubmittedForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label} : {' '.join(errors)}")
        return redirect(reverse("crisis:notification_edit", args=[pk, kind]))
    notifications.mark_submitted(notification, actor=request.user, **form.cleaned_data)
    record_event(
        "crisis.notification_submitted",
        request=request,
        target=notification.incident,
        organisation=notification.incident.organisation,
        details={"kind": kind, "reference": form.cleaned_data["reference"]},
    )
    messages.success(request, _("Dépôt enregistré."))
    return redirect(_detail_url(notification.incident))


@login_required
@require_GET
def notification_list(request, org_id):
    node = _organisation(request, org_id)
    queryset = notifications.open_notifications(node).filter(
        incident__in=Incident.objects.visible_to(request.user, VIEW)
    )
    return render(
        request,
        "crisis/incident_notifications.html",
        {"node": node, "rows": _notification_rows(queryset, timezone.now())},
    )


# GHT solidarity ----------------------------------------------------------------------------------
@login_required
@require_POST
def aid_request_create(request, pk):
    incident = _incident(request, pk, CHANGE)
    form = AidRequestForm(request.POST)
    if form.is_valid():
        try:
            aid.request_aid(incident, actor=request.user, **form.cleaned_data)
        except aid.AidError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Demande d'entraide transmise aux établissements du GHT."))
    else:
        messages.error(request, _("Une demande d'entraide précise le besoin."))
    return redirect(_detail_url(incident) + "#entraide")


@login_required
@require_GET
def aid_board(request, org_id):
    """An establishment's view of its GHT's solidarity: its own requests and its siblings'."""
    node = _organisation(request, org_id, kinds=(Kind.ESTABLISHMENT,))
    ght = aid.ght_of(node)
    requests = (
        aid.requests_seen_by(request.user)
        .filter(incident__organisation__parent=ght)
        .prefetch_related("offers__organisation")
        if ght
        else []
    )
    rows = []
    for aid_request in requests:
        own = aid_request.incident.organisation_id == node.pk
        offer_form = None
        if not own and aid_request.status == "open":
            organisations = aid.offering_organisations(request.user, aid_request).filter(pk=node.pk)
            if organisations:
                offer_form = AidOfferForm(
                    organisations=organisations, initial={"organisation": node}
                )
        rows.append({"request": aid_request, "own": own, "offer_form": offer_form})
    return render(
        request,
        "crisis/aid_board.html",
        {"node": node, "ght": ght, "rows": rows, "can_decide": can(request.user, CHANGE, node)},
    )


@login_required
@require_POST
def aid_offer_create(request, request_id):
    try:
        aid_request = aid.requests_seen_by(request.user).get(pk=request_id)
    except (ValueError, AidRequest.DoesNotExist):
        raise Http404 from None
    organisations = aid.offering_organisations(request.user, aid_request)
    if not organisations.exists():
        raise PermissionDenied
    form = AidOfferForm(request.POST, organisations=organisations)
    if not form.is_valid():
        messages.error(request, _("Une proposition précise l'établissement et ce qui est offert."))
        return redirect(reverse("crisis:aid_board", args=[organisations[0].pk]))
    organisation = form.cleaned_data["organisation"]
    try:
        aid.make_offer(
            aid_request,
            organisation=organisation,
            description=form.cleaned_data["description"],
            actor=request.user,
        )
    except aid.AidError as exc:
        messages.error(request, str(exc))
    else:
        record_event(
            "crisis.aid_offered", request=request, target=aid_request, organisation=organisation
        )
        messages.success(request, _("Proposition transmise."))
    return redirect(reverse("crisis:aid_board", args=[organisation.pk]))


@login_required
@require_POST
def aid_offer_decide(request, offer_id, decision):
    if decision not in ("accepter", "decliner"):
        raise Http404
    try:
        offer = AidOffer.objects.select_related("request__incident").get(pk=offer_id)
    except AidOffer.DoesNotExist:
        raise Http404 from None
    incident = _incident(request, offer.request.incident_id, CHANGE)
    try:
        aid.decide_offer(offer, accept=decision == "accepter", actor=request.user)
    except aid.AidError as exc:
        messages.error(request, str(exc))
    else:
        record_event(
            "crisis.aid_decided",
            request=request,
            target=offer.request,
            organisation=incident.organisation,
            details={"decision": decision},
        )
    return redirect(_detail_url(incident) + "#entraide")


@login_required
@require_POST
def aid_request_close(request, request_id):
    """The requester closes an aid request it no longer needs (covered or not)."""
    try:
        aid_request = AidRequest.objects.select_related("incident").get(pk=request_id)
    except AidRequest.DoesNotExist:
        raise Http404 from None
    incident = _incident(request, aid_request.incident_id, CHANGE)
    if aid_request.status != AidStatus.CLOSED:
        aid.close_request(aid_request)
        record_event(
            "crisis.aid_closed",
            request=request,
            target=aid_request,
            organisation=incident.organisation,
        )
    return redirect(_detail_url(incident) + "#entraide")


@login_required
@require_GET
def aid_region(request, org_id):
    """The ARS's regional picture: aggregate figures only."""
    node = get_visible_or_404(
        Organisation.objects.filter(kind__in=(Kind.REGION, Kind.NATIONAL)),
        request.user,
        AGGREGATE,
        pk=org_id,
    )
    return render(
        request, "crisis/aid_region.html", {"node": node, "picture": aid.regional_picture(node)}
    )
