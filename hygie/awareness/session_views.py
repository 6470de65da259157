"""Session pages: list, create/edit, planner, detail with seats and flags, attendance,
certificates; and the learner's session page reached from a personal link.

Reading needs "view" on the session's organisation; every change needs "change" (a reader
gets 403 on a session they can see, anyone else 404 — decision 0002).
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hygie.awareness import planner, sessions
from hygie.awareness.models import (
    Assignment,
    Attendance,
    SessionParticipant,
    SessionStatus,
    State,
    TrainingSession,
)
from hygie.awareness.session_forms import (
    PlannerCreateForm,
    PlannerFilterForm,
    SessionForm,
    agenda_formset,
)
from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.orgs.models import Kind, Organisation, StaffMember
from hygie.orgs.roles import CHANGE, VIEW
from hygie.orgs.services import can

OWNER_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)
SEARCH_LIMIT = 50


def _seats():
    return Prefetch(
        "participants",
        queryset=SessionParticipant.objects.select_related("staff", "service"),
    )


def _session(request, pk: int, action: str) -> TrainingSession:
    queryset = TrainingSession.objects.select_related("organisation", "trainer")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)


def _owner_node(request, org_id: int, action: str) -> Organisation:
    if action == VIEW:
        return get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, action, seen_with=VIEW, pk=org_id
    )
    if node.kind not in OWNER_KINDS:
        raise PermissionDenied(_("Une session appartient à un établissement ou à un GHT."))
    return node


def _mail_feedback(request, report: sessions.MailReport, verb: str) -> None:
    if report.sent:
        messages.success(
            request,
            ngettext(
                "%(n)s message envoyé (%(verb)s).",
                "%(n)s messages envoyés (%(verb)s).",
                report.sent,
            )
            % {"n": report.sent, "verb": verb},
        )
    if report.without_email:
        messages.warning(
            request,
            _("Sans adresse e-mail, à prévenir autrement : %(names)s.")
            % {"names": ", ".join(report.without_email)},
        )
    if report.failed:
        messages.error(
            request,
            _("Envoi impossible pour : %(names)s. Réessayez plus tard.")
            % {"names": ", ".join(report.failed)},
        )


# List, create, edit ----------------------------------------------------------------------------
@login_required
def session_list(request, org_id: int):
    node = _owner_node(request, org_id, VIEW)
    rows = (
        TrainingSession.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .prefetch_related(_seats())
        .annotate(
            seated=Count("participants"),
            present=Count("participants", filter=Q(participants__attendance=Attendance.PRESENT)),
        )
        .order_by("-starts_at")
    )
    upcoming, past = [], []
    now = timezone.now()
    for session in rows:
        session.flags = planner.check_group(list(session.participants.all()), session.capacity)
        (
            upcoming if session.ends_at >= now and session.status == SessionStatus.PLANNED else past
        ).append(session)
    upcoming.reverse()
    return render(
        request,
        "awareness/session_list.html",
        {
            "node": node,
            "upcoming": upcoming,
            "past": past,
            "can_change": node.kind in OWNER_KINDS and can(request.user, CHANGE, node),
        },
    )


@login_required
def session_create(request, org_id: int):
    node = _owner_node(request, org_id, CHANGE)
    formset = agenda_formset(request.POST if request.method == "POST" else None)
    form = SessionForm(request.POST or None, node=node, agenda_formset=formset)
    if request.method == "POST" and formset.is_valid() & form.is_valid():
        data = {name: form.cleaned_data[name] for name in SessionForm.Meta.fields}
        session = sessions.create_session(node, agenda=formset.agenda, **data)
        record_event(
            "awareness.session_create",
            request=request,
            target=session,
            organisation=node,
            details={"title": session.title, "starts_at": session.starts_at.isoformat()},
        )
        messages.success(request, _("Session créée : inscrivez les participants."))
        return redirect("awareness:session", session.pk)
    return render(
        request,
        "awareness/session_form.html",
        {"node": node, "form": form, "formset": formset, "title": _("Nouvelle session")},
    )


@login_required
def session_edit(request, pk: int):
    session = _session(request, pk, CHANGE)
    if session.status != SessionStatus.PLANNED:
        messages.error(request, _("Seule une session planifiée se modifie."))
        return redirect("awareness:session", session.pk)
    previous = {name: getattr(session, name) for name in sessions.CALENDAR_FIELDS}
    formset = agenda_formset(
        request.POST if request.method == "POST" else None, agenda=session.agenda
    )
    form = SessionForm(
        request.POST or None, instance=session, node=session.organisation, agenda_formset=formset
    )
    if request.method == "POST" and formset.is_valid() & form.is_valid():
        session = form.save(commit=False)
        session.agenda = formset.agenda
        report = sessions.update_session(session, previous=previous, actor=request.user)
        record_event(
            "awareness.session_change",
            request=request,
            target=session,
            organisation=session.organisation,
            details={"title": session.title, "sequence": session.sequence},
        )
        messages.success(request, _("Session enregistrée."))
        _mail_feedback(request, report, _("mise à jour de l'invitation"))
        return redirect("awareness:session", session.pk)
    return render(
        request,
        "awareness/session_form.html",
        {
            "node": session.organisation,
            "session": session,
            "form": form,
            "formset": formset,
            "title": session.title,
        },
    )


@login_required
@require_POST
def session_cancel(request, pk: int):
    session = _session(request, pk, CHANGE)
    try:
        report = sessions.cancel_session(session, actor=request.user)
    except sessions.SessionError as exc:
        messages.error(request, str(exc))
        return redirect("awareness:session", session.pk)
    record_event(
        "awareness.session_cancel",
        request=request,
        target=session,
        organisation=session.organisation,
        details={"title": session.title},
    )
    messages.success(request, _("Session annulée."))
    _mail_feedback(request, report, _("annulation"))
    return redirect("awareness:session", session.pk)


# Detail and seats ------------------------------------------------------------------------------
def _candidates(request, session: TrainingSession, query: str):
    if not query:
        return []
    words = query.split()
    staff = StaffMember.objects.visible_to(request.user, VIEW).filter(
        establishment__path__startswith=session.organisation.path, active=True
    )
    for word in words[:4]:
        staff = staff.filter(
            Q(last_name__icontains=word)
            | Q(first_name__icontains=word)
            | Q(service__name__icontains=word)
        )
    return list(
        staff.exclude(training_sessions__session=session).select_related("service")[:SEARCH_LIMIT]
    )


@login_required
def session_detail(request, pk: int):
    session = _session(request, pk, VIEW)
    participants = list(session.participants.select_related("staff", "service"))
    can_change = can(request.user, CHANGE, session.organisation)
    query = request.GET.get("q", "").strip()[:100] if can_change else ""
    return render(
        request,
        "awareness/session_detail.html",
        {
            "node": session.organisation,
            "session": session,
            "participants": participants,
            "flags": planner.check_group(participants, session.capacity),
            "free": max(session.capacity - len(participants), 0),
            "not_invited": sum(1 for p in participants if not p.invited_at),
            "can_change": can_change,
            "planned": session.status == SessionStatus.PLANNED,
            "query": query,
            "candidates": _candidates(request, session, query),
            "practice": sessions.practice_modules(session),
        },
    )


@login_required
@require_POST
def session_add_participants(request, pk: int):
    session = _session(request, pk, CHANGE)
    ids = [value for value in request.POST.getlist("staff") if value.isdigit()]
    staff = list(StaffMember.objects.visible_to(request.user, VIEW).filter(pk__in=ids, active=True))
    if not ids or len(staff) != len(set(ids)):
        messages.error(request, _("Choisissez des personnes de la liste."))
        return redirect("awareness:session", session.pk)
    try:
        added = sessions.add_participants(session, staff)
    except sessions.SessionError as exc:
        messages.error(request, str(exc))
        return redirect("awareness:session", session.pk)
    record_event(
        "awareness.session_participants_add",
        request=request,
        target=session,
        organisation=session.organisation,
        details={"added": len(added)},
    )
    messages.success(
        request,
        ngettext("%(n)s personne inscrite.", "%(n)s personnes inscrites.", len(added))
        % {"n": len(added)},
    )
    return redirect("awareness:session", session.pk)


@login_required
@require_POST
def session_remove_participant(request, pk: int, participant_id: int):
    session = _session(request, pk, CHANGE)
    participant = session.participants.select_related("staff").filter(pk=participant_id).first()
    if participant is None:
        raise Http404
    if session.status != SessionStatus.PLANNED:
        messages.error(request, _("On ne retire des participants que d'une session planifiée."))
        return redirect("awareness:session", session.pk)
    name = str(participant.staff)
    report = sessions.remove_participant(participant)
    record_event(
        "awareness.session_participant_remove",
        request=request,
        target=session,
        organisation=session.organisation,
        details={"participant": participant_id},
    )
    messages.success(request, _("%(name)s retiré(e) de la session.") % {"name": name})
    _mail_feedback(request, report, _("annulation"))
    return redirect("awareness:session", session.pk)


@login_required
@require_POST
def session_invite(request, pk: int):
    session = _session(request, pk, CHANGE)
    try:
        report = sessions.send_invitations(session)
    except sessions.SessionError as exc:
        messages.error(request, str(exc))
        return redirect("awareness:session", session.pk)
    record_event(
        "awareness.session_invite",
        request=request,
        target=session,
        organisation=session.organisation,
        details={"sent": report.sent, "failed": len(report.failed)},
    )
    if not (report.sent or report.failed or report.without_email):
        messages.info(request, _("Tout le monde a déjà reçu son invitation."))
    _mail_feedback(request, report, _("invitation"))
    return redirect("awareness:session", session.pk)


# Attendance and certificates -------------------------------------------------------------------
@login_required
def session_attendance(request, pk: int):
    session = _session(request, pk, CHANGE)
    participants = list(session.participants.select_related("staff", "service"))
    choices = [(value, label) for value, label in Attendance.choices if value != Attendance.UNKNOWN]
    if request.method == "POST":
        marks = {}
        for participant in participants:
            value = request.POST.get(f"p{participant.pk}", "")
            if value:
                marks[participant.pk] = value
        try:
            result = sessions.take_attendance(session, marks, actor=request.user)
        except sessions.SessionError as exc:
            messages.error(request, str(exc))
        else:
            record_event(
                "awareness.session_attendance",
                request=request,
                target=session,
                organisation=session.organisation,
                details={"present": result.present, "newly_present": result.newly_present},
            )
            messages.success(
                request,
                _("Appel enregistré : %(present)s présent(s) sur %(total)s.")
                % {"present": result.present, "total": len(participants)},
            )
            return redirect("awareness:session", session.pk)
    return render(
        request,
        "awareness/session_attendance.html",
        {
            "node": session.organisation,
            "session": session,
            "participants": participants,
            "choices": choices,
            "too_early": timezone.localdate() < timezone.localtime(session.starts_at).date(),
        },
    )


def _pdf(content: bytes, number: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="attestation-{number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def session_certificate(request, pk: int, participant_id: int):
    session = _session(request, pk, VIEW)
    participant = (
        session.participants.select_related("staff__establishment", "session__organisation")
        .filter(pk=participant_id)
        .first()
    )
    if participant is None or participant.attendance != Attendance.PRESENT:
        raise Http404
    return _pdf(sessions.certificate_pdf(participant), participant.certificate_number)


# Planner --------------------------------------------------------------------------------------
def _population(request, node: Organisation, filters: dict):
    staff = StaffMember.objects.visible_to(request.user, VIEW).filter(
        establishment__path__startswith=node.path, active=True
    )
    if filters.get("services"):
        staff = staff.filter(service__in=filters["services"])
    if filters.get("job_families"):
        staff = staff.filter(job_family__in=filters["job_families"])
    if filters.get("site"):
        staff = staff.filter(site=filters["site"])
    if not filters.get("include_seated"):
        staff = staff.exclude(
            training_sessions__session__status=SessionStatus.PLANNED,
            training_sessions__session__starts_at__gte=timezone.now(),
        )
    return staff.select_related("service")


def _posted_groups(request, node: Organisation, raw: str, capacity: int):
    """The groups posted back by the proposal table, checked again (decision 0521)."""
    try:
        groups = json.loads(raw)
        ids = [int(pk) for group in groups for pk in group]
    except (ValueError, TypeError):
        return None, _("La proposition n'est plus lisible : relancez le planificateur.")
    if not groups or len(ids) != len(set(ids)) or any(not group for group in groups):
        return None, _("La proposition n'est plus lisible : relancez le planificateur.")
    if any(len(group) > capacity for group in groups):
        return None, _("Un groupe dépasse la capacité : relancez le planificateur.")
    staff = StaffMember.objects.visible_to(request.user, VIEW).filter(
        establishment__path__startswith=node.path, active=True, pk__in=ids
    )
    by_id = {person.pk: person for person in staff}
    if len(by_id) != len(ids):
        return None, _(
            "Certaines personnes ne sont plus dans l'annuaire de %(node)s : relancez le "
            "planificateur."
        ) % {"node": node}
    return [[by_id[int(pk)] for pk in group] for group in groups], None


@login_required
def session_planner(request, org_id: int):
    node = _owner_node(request, org_id, CHANGE)
    groups = None
    create_form = None
    formset = None
    if request.method == "POST":
        filter_form = PlannerFilterForm(node=node)
        formset = agenda_formset(request.POST)
        create_form = PlannerCreateForm(request.POST, agenda_formset=formset)
        if formset.is_valid() & create_form.is_valid():
            data = create_form.cleaned_data
            posted, problem = _posted_groups(request, node, data["groups"], data["capacity"])
            if problem:
                messages.error(request, problem)
                return redirect("awareness:session_planner", node.pk)
            try:
                created = sessions.create_sessions_from_groups(
                    node,
                    posted,
                    first_start=data["first_start"],
                    spacing_days=data["spacing_days"],
                    duration=dt.timedelta(minutes=data["duration"]),
                    title=data["title"],
                    mode=data["mode"],
                    location=data["location"],
                    meeting_url=data["meeting_url"],
                    capacity=data["capacity"],
                    trainer_name=data["trainer_name"],
                    agenda=formset.agenda,
                )
            except sessions.SessionError as exc:
                messages.error(request, str(exc))
                return redirect("awareness:session_planner", node.pk)
            record_event(
                "awareness.session_plan",
                request=request,
                organisation=node,
                details={"sessions": [s.pk for s in created], "people": sum(map(len, posted))},
            )
            messages.success(
                request,
                ngettext(
                    "%(n)s session créée : envoyez les invitations depuis sa page.",
                    "%(n)s sessions créées : envoyez les invitations depuis leur page.",
                    len(created),
                )
                % {"n": len(created)},
            )
            return redirect("awareness:sessions", node.pk)
        # Redisplay the same proposal with the errors.
        posted, _problem = _posted_groups(
            request, node, request.POST.get("groups", ""), planner.DEFAULT_CAPACITY * 10
        )
        capacity = create_form.cleaned_data.get("capacity") or planner.DEFAULT_CAPACITY
        if posted:
            groups = [planner.Group(g, capacity, planner.check_group(g, capacity)) for g in posted]
    else:
        filter_form = PlannerFilterForm(request.GET or None, node=node)
        if filter_form.is_valid():
            filters = filter_form.cleaned_data
            population = list(_population(request, node, filters))
            groups = planner.propose_groups(population, filters["capacity"])
            if groups:
                formset = agenda_formset()
                create_form = PlannerCreateForm(
                    initial={
                        "groups": json.dumps([[m.pk for m in g.members] for g in groups]),
                        "capacity": filters["capacity"],
                    },
                    agenda_formset=formset,
                )
    return render(
        request,
        "awareness/session_planner.html",
        {
            "node": node,
            "filter_form": filter_form,
            "groups": groups,
            "create_form": create_form,
            "formset": formset,
            "flagged": sum(1 for g in groups or [] if g.flags),
        },
    )


# The learner's page (served by the learner area at apprendre/<token>/) ----------------------------
def session_learner_page(request, link):
    """What a participant sees from their personal link: date, place or URL, agenda and,
    once marked present, their certificate (`?attestation=pdf` downloads it)."""
    participant = (
        SessionParticipant.objects.select_related("session__organisation", "staff__establishment")
        .filter(pk=link.participant_id)
        .first()
    )
    if participant is None:
        raise Http404
    session = participant.session
    present = participant.attendance == Attendance.PRESENT and participant.certificate_number
    if request.GET.get("attestation") == "pdf":
        if not present:
            raise Http404
        return _pdf(sessions.certificate_pdf(participant), participant.certificate_number)
    practice = sessions.practice_modules(session)
    states = dict(
        Assignment.objects.filter(staff=participant.staff, module__in=practice)
        .order_by("assigned_at")
        .values_list("module_id", "state")
    )
    response = render(
        request,
        "awareness/session_learner.html",
        {
            "participant": participant,
            "session": session,
            "present": present,
            "practice": [
                (module, State(states[module.pk]).label if module.pk in states else None)
                for module in practice
            ],
            "cancelled": session.status == SessionStatus.CANCELLED,
        },
    )
    return response
