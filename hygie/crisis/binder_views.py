"""Lessons-learned, cold report and crisis-binder pages. Objects come through `visible_to`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.crisis import binder as binder_service
from hygie.crisis import report
from hygie.crisis.binder_forms import BinderSectionForm, DebriefForm, LessonForm, ObjectivesForm
from hygie.crisis.models import (
    BinderSection,
    DebriefAnswer,
    Exercise,
    ExerciseStatus,
    Lesson,
    Participant,
)
from hygie.orgs.models import Organisation
from hygie.orgs.roles import CHANGE, VIEW
from hygie.orgs.services import can


def _exercise(request, pk: int, action: str = VIEW) -> Exercise:
    exercises = Exercise.objects.select_related("organisation")
    if action == VIEW:
        return get_visible_or_404(exercises, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(exercises, request.user, action, seen_with=VIEW, pk=pk)


def _lessons_url(exercise) -> str:
    return reverse("crisis:lessons", args=[exercise.pk])


# Lessons learned --------------------------------------------------------------------------------
@login_required
@require_GET
def lessons(request, pk: int):
    exercise = _exercise(request, pk)
    can_change = can(request.user, CHANGE, exercise.organisation)
    participant = Participant.objects.filter(exercise=exercise, user=request.user).first()
    return render(
        request,
        "crisis/lesson_list.html",
        {
            "exercise": exercise,
            "can_change": can_change,
            "highlights": report.debrief_highlights(exercise),
            "debrief_count": DebriefAnswer.objects.filter(exercise=exercise).count(),
            "participant_count": exercise.participants.count(),
            "lessons": exercise.lessons.select_related("action"),
            "objective_rows": report.objective_rows(exercise),
            "key_timings": report.key_timing_rows(exercise),
            "lesson_form": LessonForm() if can_change else None,
            "objectives_form": ObjectivesForm(exercise) if can_change else None,
            "my_participant": participant,
            "debrief_open": report.debrief_is_open(exercise),
            "can_close": can_change and exercise.status == ExerciseStatus.FINISHED,
        },
    )


@login_required
@require_POST
def lesson_add(request, pk: int):
    exercise = _exercise(request, pk, CHANGE)
    form = LessonForm(request.POST)
    if form.is_valid():
        report.add_lesson(exercise, form.cleaned_data["text"], request=request)
        messages.success(request, _("Enseignement ajouté."))
    else:
        messages.error(request, _("Enseignement : %s") % " ".join(form.errors.get("text", [])))
    return redirect(_lessons_url(exercise))


@login_required
@require_POST
def lesson_action(request, pk: int, lesson_pk: int):
    exercise = _exercise(request, pk, CHANGE)
    try:
        lesson = Lesson.objects.get(pk=lesson_pk, exercise=exercise)
    except Lesson.DoesNotExist:
        raise Http404 from None
    had_action = lesson.action_id is not None
    item = report.create_action_from_lesson(lesson, actor=request.user, request=request)
    if had_action and lesson.action_id == item.pk:
        messages.info(request, _("Cet enseignement a déjà son action : « %s ».") % item.title)
    else:
        messages.success(request, _("Action « %s » ajoutée au plan d'action.") % item.title)
    return redirect(_lessons_url(exercise))


@login_required
@require_POST
def objectives(request, pk: int):
    exercise = _exercise(request, pk, CHANGE)
    form = ObjectivesForm(exercise, request.POST)
    if form.is_valid():
        report.set_objectives_met(exercise, form.ratings(), actor=request.user, request=request)
        messages.success(request, _("Objectifs enregistrés."))
    else:
        messages.error(request, _("Appréciation inconnue : vérifiez les objectifs."))
    return redirect(_lessons_url(exercise))


@login_required
@require_http_methods(["GET", "POST"])
def close(request, pk: int):
    exercise = _exercise(request, pk, CHANGE)
    if request.method == "POST":
        try:
            report.close_exercise(exercise, actor=request.user, request=request)
        except report.ReportError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Exercice clôturé : il compte comme preuve de l'exercice de crise annuel."),
            )
        return redirect(_lessons_url(exercise))
    return render(request, "crisis/report_close.html", {"exercise": exercise})


@login_required
@require_GET
def report_pdf(request, pk: int):
    exercise = _exercise(request, pk)
    content = report.render_report_pdf(exercise)
    response = HttpResponse(content, content_type="application/pdf")
    name = slugify(exercise.title) or "exercice"
    response["Content-Disposition"] = f'attachment; filename="rapport-{name}.pdf"'
    return response


# Hot debrief ------------------------------------------------------------------------------------
def debrief_page(request, participant: Participant, *, template="crisis/lesson_debrief.html"):
    """The questionnaire for one participant (GET shows it, POST saves it).

    The caller has already authenticated the participant: the logged-in page below, or the
    run area's personal-link view, which passes `template="crisis/lesson_debrief_link.html"`.
    """
    exercise = participant.exercise
    existing = DebriefAnswer.objects.filter(exercise=exercise, participant=participant).first()
    is_open = report.debrief_is_open(exercise)
    form = DebriefForm(
        request.POST if request.method == "POST" else None,
        initial=existing.answers if existing else None,
    )
    saved = False
    if request.method == "POST" and is_open and form.is_valid():
        report.save_debrief(participant, form.cleaned_data)
        saved = True
    status = 200 if request.method == "GET" or saved or not is_open else 400
    if request.method == "POST" and not is_open:
        status = 409
    return render(
        request,
        template,
        {
            "exercise": exercise,
            "participant": participant,
            "form": form,
            "is_open": is_open,
            "saved": saved,
            "answered": existing is not None or saved,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def debrief(request, pk: int):
    """For participants who have an account and may see the exercise."""
    exercise = _exercise(request, pk)
    participant = Participant.objects.filter(exercise=exercise, user=request.user).first()
    if participant is None:
        raise Http404
    participant.exercise = exercise
    return debrief_page(request, participant)


# Crisis binder ----------------------------------------------------------------------------------
def _binder_organisation(request, org_id: int, action: str = VIEW) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=binder_service.BINDER_KINDS)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def _binder_url(organisation) -> str:
    return reverse("crisis:binder", args=[organisation.pk])


def _section(request, org_id: int, section_pk: int) -> tuple[Organisation, BinderSection]:
    organisation = _binder_organisation(request, org_id, CHANGE)
    section = get_visible_or_404(
        BinderSection.objects.filter(organisation=organisation), request.user, CHANGE, pk=section_pk
    )
    return organisation, section


@login_required
@require_GET
def binder(request, org_id: int):
    organisation = _binder_organisation(request, org_id)
    return render(
        request,
        "crisis/binder_list.html",
        {
            "node": organisation,
            "sections": BinderSection.objects.filter(organisation=organisation),
            "can_change": can(request.user, CHANGE, organisation),
            "contact_count": len(binder_service.crisis_contacts(organisation)),
            "member_count": len(binder_service.cell_members(organisation)),
            "action_count": len(binder_service.binder_actions(organisation)),
        },
    )


@login_required
@require_POST
def binder_seed(request, org_id: int):
    organisation = _binder_organisation(request, org_id, CHANGE)
    created = binder_service.seed_default_sections(organisation)
    if created:
        record_event(
            "crisis.binder_seeded", request=request, target=organisation, organisation=organisation
        )
        messages.success(request, _("%d sections modèles ajoutées : adaptez-les.") % created)
    else:
        messages.info(request, _("Le classeur a déjà des sections."))
    return redirect(_binder_url(organisation))


@login_required
@require_http_methods(["GET", "POST"])
def section_create(request, org_id: int):
    organisation = _binder_organisation(request, org_id, CHANGE)
    form = BinderSectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        section = form.save(commit=False)
        section.organisation = organisation
        section.save()
        record_event(
            "crisis.binder_section_created",
            request=request,
            target=section,
            organisation=organisation,
        )
        messages.success(request, _("Section « %s » ajoutée.") % section.title)
        return redirect(_binder_url(organisation))
    return render(
        request,
        "crisis/binder_form.html",
        {"node": organisation, "form": form, "title": _("Nouvelle section")},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def section_edit(request, org_id: int, section_pk: int):
    organisation, section = _section(request, org_id, section_pk)
    form = BinderSectionForm(request.POST or None, instance=section)
    if request.method == "POST" and form.is_valid():
        form.save()
        record_event(
            "crisis.binder_section_changed",
            request=request,
            target=section,
            organisation=organisation,
        )
        messages.success(request, _("Section « %s » enregistrée.") % section.title)
        return redirect(_binder_url(organisation))
    return render(
        request,
        "crisis/binder_form.html",
        {"node": organisation, "form": form, "section": section, "title": section.title},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def section_delete(request, org_id: int, section_pk: int):
    organisation, section = _section(request, org_id, section_pk)
    with transaction.atomic():
        record_event(
            "crisis.binder_section_deleted",
            request=request,
            target=section,
            organisation=organisation,
        )
        section.delete()
    messages.success(request, _("Section « %s » supprimée.") % section.title)
    return redirect(_binder_url(organisation))


def _export_name(organisation, extension: str) -> str:
    day = timezone.localdate().isoformat()
    return f"classeur-de-crise-{slugify(organisation.name) or organisation.pk}-{day}.{extension}"


@login_required
@require_GET
def binder_pdf(request, org_id: int):
    organisation = _binder_organisation(request, org_id)
    content = binder_service.render_pdf(binder_service.build_binder(organisation))
    record_event(
        "crisis.binder_exported",
        request=request,
        target=organisation,
        organisation=organisation,
        details={"format": "pdf"},
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(organisation, "pdf")}"'
    return response


@login_required
@require_GET
def binder_html(request, org_id: int):
    organisation = _binder_organisation(request, org_id)
    content = binder_service.render_html(binder_service.build_binder(organisation))
    record_event(
        "crisis.binder_exported",
        request=request,
        target=organisation,
        organisation=organisation,
        details={"format": "html"},
    )
    response = HttpResponse(content, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(organisation, "html")}"'
    # Should a browser render it from Hygie's origin anyway: nothing runs, nothing is fetched.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
