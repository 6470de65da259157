"""Exercise design and preparation: the scenario library, the exercise list, creation (from a
scenario or blank), design, participants, the timeline of stimuli and the observation grid
(editable tables), the situation file, and marking an exercise ready.

Reading needs "view" on the exercise's organisation; every change needs "change" (a reader
gets 403 on an exercise they can see, anyone else 404 — decision 0002). Preparation is edited
while the exercise is in design or ready (decision 0600); after that the run pages own it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.crisis import scenarios
from hygie.crisis.exercise_forms import (
    CreateForm,
    DesignForm,
    ParticipantForm,
    SituationForm,
    criterion_formset,
    stimulus_formset,
)
from hygie.crisis.models import (
    Channel,
    Exercise,
    ExerciseStatus,
    ParticipantRole,
    Scenario,
)
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, VIEW
from hygie.orgs.services import can

OWNER_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)
EDITABLE = (ExerciseStatus.DESIGN, ExerciseStatus.READY)
# Functions usually held in a hospital crisis cell, offered as suggestions.
CELL_FUNCTIONS = (
    "Directeur de crise",
    "Responsable médical",
    "DSI",
    "RSSI",
    "Communication",
    "Logistique",
    "Secrétariat de la cellule (main courante)",
    "Qualité et gestion des risques",
    "Délégué à la protection des données",
    "Biomédical",
)


def _node(request, org_id: int, action: str, *, owner: bool = False) -> Organisation:
    if action == VIEW:
        node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    else:
        node = get_for_action_or_refuse(
            Organisation.objects, request.user, action, seen_with=VIEW, pk=org_id
        )
    if owner and node.kind not in OWNER_KINDS:
        raise PermissionDenied(_("Un exercice appartient à un établissement ou à un GHT."))
    return node


def _exercise(request, pk: int, action: str) -> Exercise:
    queryset = Exercise.objects.select_related("organisation", "scenario")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=pk)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)


def readiness(exercise: Exercise) -> list[str]:
    """What an exercise still lacks to be ready (decision 0600): at least one stimulus, one
    player and one observer. Empty when it is ready."""
    missing = []
    if not exercise.stimuli.exists():
        missing.append(_("au moins un stimulus dans le chronogramme"))
    roles = set(exercise.participants.values_list("role", flat=True))
    if ParticipantRole.PLAYER not in roles:
        missing.append(_("au moins un joueur"))
    if ParticipantRole.OBSERVER not in roles:
        missing.append(_("au moins un observateur"))
    return missing


def warnings_for(exercise: Exercise) -> list[str]:
    """Advice that does not block readiness."""
    out = []
    if not exercise.participants.filter(role=ParticipantRole.FACILITATOR).exists():
        out.append(_("Aucun animateur : qui diffusera les stimuli par téléphone ou SMS ?"))
    if not exercise.criteria.exists():
        out.append(_("La grille d'observation est vide : les observateurs n'auront rien à noter."))
    if not exercise.objectives:
        out.append(_("Aucun objectif : le rapport ne pourra pas dire lesquels sont atteints."))
    if exercise.planned_start is None:
        out.append(_("Pas de date de début prévue."))
    if (
        exercise.stimuli.filter(channel=Channel.EMAIL).exists()
        and not exercise.participants.exclude(email="").exists()
    ):
        out.append(_("Des stimuli sont des courriels mais aucun participant n'a d'adresse."))
    return out


def _after_change(request, exercise: Exercise) -> None:
    """A ready exercise that no longer meets the rule goes back to design (decision 0600)."""
    if exercise.status == ExerciseStatus.READY and readiness(exercise):
        exercise.status = ExerciseStatus.DESIGN
        exercise.save(update_fields=["status"])
        messages.warning(request, _("L'exercice n'est plus prêt : il revient en conception."))


def _editable_or_refuse(request, exercise: Exercise):
    if exercise.status not in EDITABLE:
        messages.error(
            request,
            _("L'exercice a commencé : sa préparation ne se modifie plus ici."),
        )
        return redirect("crisis:exercise", pk=exercise.pk)
    return None


def _context(request, exercise: Exercise, tab: str, **extra) -> dict:
    return {
        "exercise": exercise,
        "node": exercise.organisation,
        "tab": tab,
        "can_change": can(request.user, CHANGE, exercise.organisation),
        "editable": exercise.status in EDITABLE,
        **extra,
    }


# Library ---------------------------------------------------------------------------------------
@login_required
def scenario_library(request, org_id: int):
    node = _node(request, org_id, VIEW)
    return render(
        request,
        "crisis/exercise_scenarios.html",
        {
            "node": node,
            "scenarios": Scenario.objects.filter(active=True).order_by("level", "title"),
            "can_create": node.kind in OWNER_KINDS and can(request.user, CHANGE, node),
        },
    )


@login_required
def scenario_preview(request, org_id: int, slug: str):
    node = _node(request, org_id, VIEW)
    scenario = get_object_or_404(Scenario, slug=slug, active=True)
    content = scenario.content
    objectives = {item["id"]: item["text"] for item in content.get("objectives", [])}
    stimuli = [
        {
            **item,
            "offset": scenarios.format_offset(item["offset_seconds"]),
            "channel_label": Channel(item["channel"]).label,
            "content_html": scenarios.render_markdown(item["content"]),
        }
        for item in content.get("stimuli", [])
    ]
    grid = [
        {**item, "objective_text": objectives.get(item["objective"], "")}
        for item in content.get("grid", [])
    ]
    return render(
        request,
        "crisis/exercise_scenario.html",
        {
            "node": node,
            "scenario": scenario,
            "objectives": content.get("objectives", []),
            "stimuli": stimuli,
            "grid": grid,
            "debrief": content.get("debrief", []),
            "situation_html": scenarios.render_markdown(content.get("situation", "")),
            "can_create": node.kind in OWNER_KINDS and can(request.user, CHANGE, node),
        },
    )


# List and creation -----------------------------------------------------------------------------
@login_required
def exercise_list(request, org_id: int):
    node = _node(request, org_id, VIEW)
    rows = (
        Exercise.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation", "scenario")
        .annotate(stimulus_count=Count("stimuli", distinct=True))
        .annotate(participant_count=Count("participants", distinct=True))
        .order_by("-created_at")
    )
    return render(
        request,
        "crisis/exercise_list.html",
        {
            "node": node,
            "exercises": rows,
            "can_create": node.kind in OWNER_KINDS and can(request.user, CHANGE, node),
        },
    )


@login_required
def exercise_create(request, org_id: int):
    node = _node(request, org_id, CHANGE, owner=True)
    initial = {}
    if request.method == "GET" and request.GET.get("scenario"):
        initial["scenario"] = Scenario.objects.filter(
            slug=request.GET["scenario"], active=True
        ).first()
    form = CreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        exercise = scenarios.create_exercise_from(
            form.cleaned_data["scenario"],
            node,
            title=form.cleaned_data["title"] or None,
            actor=request.user,
        )
        record_event(
            "crisis.exercise.created",
            request=request,
            target=exercise,
            organisation=node,
            details={"scenario": exercise.scenario.slug if exercise.scenario else ""},
        )
        messages.success(request, _("Exercice créé : complétez sa conception."))
        return redirect("crisis:exercise", pk=exercise.pk)
    return render(request, "crisis/exercise_create.html", {"node": node, "form": form})


# One exercise ----------------------------------------------------------------------------------
@login_required
def exercise_detail(request, pk: int):
    exercise = _exercise(request, pk, VIEW)
    objectives = {item["id"]: item["text"] for item in exercise.objectives}
    return render(
        request,
        "crisis/exercise_detail.html",
        _context(
            request,
            exercise,
            "overview",
            missing=readiness(exercise),
            warnings=warnings_for(exercise),
            participants=exercise.participants.select_related("user"),
            stimulus_count=exercise.stimuli.count(),
            criteria=[
                (criterion, objectives.get(criterion.objective, ""))
                for criterion in exercise.criteria.all()
            ],
        ),
    )


@login_required
def exercise_design(request, pk: int):
    exercise = _exercise(request, pk, VIEW if request.method == "GET" else CHANGE)
    form = DesignForm(request.POST or None, instance=exercise)
    if request.method == "POST":
        refused = _editable_or_refuse(request, exercise)
        if refused:
            return refused
        if form.is_valid():
            with transaction.atomic():
                exercise = form.save(commit=False)
                exercise.objectives = form.objectives()
                exercise.save()
                ids = {item["id"] for item in exercise.objectives}
                untied = exercise.criteria.exclude(objective="").exclude(objective__in=ids)
                count = untied.update(objective="")
            if count:
                messages.warning(
                    request,
                    _("%(n)s critère(s) de la grille n'ont plus d'objectif : reliez-les.")
                    % {"n": count},
                )
            messages.success(request, _("Conception enregistrée."))
            return redirect("crisis:exercise_design", pk=exercise.pk)
    return render(
        request, "crisis/exercise_design.html", _context(request, exercise, "design", form=form)
    )


@login_required
def exercise_participants(request, pk: int):
    exercise = _exercise(request, pk, VIEW if request.method == "GET" else CHANGE)
    form = ParticipantForm(request.POST or None, exercise=exercise)
    if request.method == "POST":
        refused = _editable_or_refuse(request, exercise)
        if refused:
            return refused
        if form.is_valid():
            participant = form.save()
            record_event(
                "crisis.participant.added",
                request=request,
                target=exercise,
                organisation=exercise.organisation,
                details={"name": participant.name, "role": participant.role},
            )
            messages.success(
                request,
                _("%(name)s ajouté(e) : %(role)s.")
                % {"name": participant.name, "role": participant.get_role_display()},
            )
            return redirect("crisis:exercise_participants", pk=exercise.pk)
    return render(
        request,
        "crisis/exercise_participants.html",
        _context(
            request,
            exercise,
            "participants",
            form=form,
            participants=exercise.participants.select_related("user"),
            functions=CELL_FUNCTIONS,
        ),
    )


@login_required
@require_POST
def exercise_participant_remove(request, pk: int, participant_id: int):
    exercise = _exercise(request, pk, CHANGE)
    refused = _editable_or_refuse(request, exercise)
    if refused:
        return refused
    participant = get_object_or_404(exercise.participants, pk=participant_id)
    name = participant.name
    participant.delete()
    record_event(
        "crisis.participant.removed",
        request=request,
        target=exercise,
        organisation=exercise.organisation,
        details={"name": name},
    )
    messages.success(request, _("%(name)s ne participe plus à l'exercice.") % {"name": name})
    _after_change(request, exercise)
    return redirect("crisis:exercise_participants", pk=exercise.pk)


@login_required
def exercise_timeline(request, pk: int):
    exercise = _exercise(request, pk, VIEW if request.method == "GET" else CHANGE)
    formset = stimulus_formset(exercise, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        refused = _editable_or_refuse(request, exercise)
        if refused:
            return refused
        if formset.is_valid():
            with transaction.atomic():
                kept = formset.save_rows("exercise", exercise)
            messages.success(request, _("Chronogramme enregistré (%(n)s lignes).") % {"n": kept})
            _after_change(request, exercise)
            return redirect("crisis:exercise_timeline", pk=exercise.pk)
    return render(
        request,
        "crisis/exercise_timeline.html",
        _context(request, exercise, "timeline", formset=formset),
    )


@login_required
def exercise_grid(request, pk: int):
    exercise = _exercise(request, pk, VIEW if request.method == "GET" else CHANGE)
    formset = criterion_formset(exercise, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        refused = _editable_or_refuse(request, exercise)
        if refused:
            return refused
        if formset.is_valid():
            with transaction.atomic():
                kept = formset.save_rows("exercise", exercise)
            messages.success(request, _("Grille enregistrée (%(n)s critères).") % {"n": kept})
            return redirect("crisis:exercise_grid", pk=exercise.pk)
    return render(
        request, "crisis/exercise_grid.html", _context(request, exercise, "grid", formset=formset)
    )


@login_required
def exercise_situation(request, pk: int):
    exercise = _exercise(request, pk, VIEW if request.method == "GET" else CHANGE)
    form = SituationForm(request.POST or None, instance=exercise)
    preview = exercise.situation_file
    if request.method == "POST":
        refused = _editable_or_refuse(request, exercise)
        if refused:
            return refused
        if form.is_valid():
            if "preview" in request.POST:
                preview = form.cleaned_data["situation_file"]
            else:
                form.save()
                messages.success(request, _("Dossier de situation enregistré."))
                return redirect("crisis:exercise_situation", pk=exercise.pk)
    return render(
        request,
        "crisis/exercise_situation.html",
        _context(
            request,
            exercise,
            "situation",
            form=form,
            preview_html=scenarios.render_markdown(preview),
            previewing="preview" in request.POST,
        ),
    )


@login_required
@require_POST
def exercise_ready(request, pk: int):
    exercise = _exercise(request, pk, CHANGE)
    refused = _editable_or_refuse(request, exercise)
    if refused:
        return refused
    missing = readiness(exercise)
    if missing:
        messages.error(
            request,
            _("L'exercice n'est pas prêt : il manque %(missing)s.")
            % {"missing": ", ".join(missing)},
        )
    elif exercise.status != ExerciseStatus.READY:
        exercise.status = ExerciseStatus.READY
        exercise.save(update_fields=["status"])
        record_event(
            "crisis.exercise.ready",
            request=request,
            target=exercise,
            organisation=exercise.organisation,
        )
        messages.success(request, _("L'exercice est prêt à être joué."))
    return redirect("crisis:exercise", pk=exercise.pk)
