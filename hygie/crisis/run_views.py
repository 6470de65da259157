"""Pages of the live run: the facilitators' console, the players' console, the observers' grid,
and the live state polled by static/crisis/run.js.

Who is who: a logged-in member of the organisation goes through `visible_to` (and wins over a
participant cookie held by the same browser): with "change" on the exercise's organisation
they act as facilitators (unless they are listed as a participant with another role); with
"view" only, they follow the players' console read-only. Anyone else who entered through a personal link (signed
cookie, see participant_links) has their participant role. Another organisation's exercise
answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hygie.core.audit import record_event
from hygie.crisis import clock, participant_links, run, tasks
from hygie.crisis.models import (
    Channel,
    EntryKind,
    Exercise,
    ExerciseStatus,
    LogEntry,
    Milestone,
    Observation,
    Participant,
    ParticipantRole,
    Rating,
    ReleaseStatus,
    Stimulus,
)
from hygie.crisis.scenarios import render_markdown

READER = "reader"  # a member with "view" only, not listed as a participant
RELEASED = (ReleaseStatus.RELEASED, ReleaseStatus.SENT, ReleaseStatus.FAILED)
POLL_SECONDS = 1.5
MAX_ENTRIES = 200  # per answer of the live state; the client asks again from the new cursor


@dataclass
class Access:
    exercise: Exercise
    role: str  # a ParticipantRole value, or READER
    participant: Participant | None = None
    user: object = None

    @property
    def facilitates(self) -> bool:
        return self.role == ParticipantRole.FACILITATOR

    @property
    def writes_log(self) -> bool:
        return self.role in (ParticipantRole.FACILITATOR, ParticipantRole.PLAYER)

    @property
    def observes(self) -> bool:
        return self.role == ParticipantRole.OBSERVER and self.participant is not None

    @property
    def author_name(self) -> str:
        if self.participant is not None:
            return self.participant.name
        name = self.user.display_name
        return name() if callable(name) else name


def _access(request, pk: int) -> Access:
    """Who is asking, for exercise `pk`; 404 outside what they may see, login otherwise.

    A logged-in member who may see the exercise is taken as such even when the browser also
    holds a participant's link cookie (a facilitator trying a player's link on their own
    computer keeps their console): the login is the stronger proof."""
    user = request.user
    exercise = None
    if user.is_authenticated:
        exercise = Exercise.objects.visible_to(user, "view").filter(pk=pk).first()
    if exercise is None:
        participant = participant_links.participant_from_cookie(request, pk)
        if participant is not None:
            return Access(participant.exercise, participant.role, participant)
        if not user.is_authenticated:
            raise _LoginNeeded
        raise Http404
    listed = exercise.participants.filter(user=user).first()
    if listed is not None:
        return Access(exercise, listed.role, listed, user)
    manages = Exercise.objects.visible_to(user, "change").filter(pk=pk).exists()
    return Access(exercise, ParticipantRole.FACILITATOR if manages else READER, None, user)


class _LoginNeeded(Exception):
    pass


def _entry(view):
    """Resolve the access (or send to the login page) and pass it to the view."""

    def wrapped(request, pk, *args, **kwargs):
        try:
            access = _access(request, pk)
        except _LoginNeeded:
            return redirect_to_login(request.get_full_path())
        response = view(request, access, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _facilitator(access: Access) -> None:
    if not access.facilitates:
        raise PermissionDenied(_("Réservé aux animateurs de l'exercice."))


# Forms -----------------------------------------------------------------------------------------
class LogForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Type"),
        choices=[(k, label) for k, label in EntryKind.choices if k != EntryKind.STIMULUS],
        initial=EntryKind.DECISION,
    )
    text = forms.CharField(
        label=gettext_lazy("Décision, action ou information"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    milestone = forms.ChoiceField(
        label=gettext_lazy("Jalon atteint"),
        choices=[("", gettext_lazy("— aucun —")), *Milestone.choices],
        required=False,
        help_text=gettext_lazy(
            "Détection, isolement, escalade ou notification : le premier "
            "marquage donne le temps clé du rapport."
        ),
    )


# Pages -----------------------------------------------------------------------------------------
def _context(access: Access, **extra) -> dict:
    exercise = access.exercise
    return {
        "exercise": exercise,
        "access": access,
        "seconds": clock.exercise_seconds(exercise),
        "state_url": reverse("crisis:run_state", args=[exercise.pk]),
        "poll_seconds": POLL_SECONDS,
        "log": exercise.log.select_related("stimulus").order_by("pk"),
        "cursor": exercise.log.order_by("-pk").values_list("pk", flat=True).first() or 0,
        # Markdown rendered with source HTML disabled (scenarios.render_markdown).
        "situation": mark_safe(render_markdown(exercise.situation_file)),  # noqa: S308
        **extra,
    }


@never_cache
@require_GET
@_entry
def console(request, access: Access):
    """The facilitators' console: clock, timeline, stimuli to play, logbook."""
    _facilitator(access)
    exercise = access.exercise
    timeline = list(exercise.stimuli.all())
    to_play = [s for s in timeline if s.status in RELEASED and s.channel != Channel.EMAIL]
    return render(
        request,
        "crisis/run_console.html",
        _context(
            access,
            timeline=timeline,
            to_play=to_play,
            log_form=LogForm(),
            statuses=ExerciseStatus,
            participants=exercise.participants.all(),
        ),
    )


COMMANDS = {
    "start": clock.start,
    "pause": clock.pause,
    "resume": clock.resume,
    "finish": clock.finish,
}


@require_POST
@_entry
def clock_command(request, access: Access):
    """Start, pause, resume, change the speed of, or finish the exercise."""
    _facilitator(access)
    exercise = access.exercise
    command = request.POST.get("command", "")
    try:
        if command == "speed":
            changed = clock.set_speed(exercise, request.POST.get("speed", ""))
        elif command in COMMANDS:
            changed = COMMANDS[command](exercise)
        else:
            return HttpResponseBadRequest(_("Commande inconnue."))
    except clock.ClockError as exc:
        messages.error(request, _("Horloge : %(error)s.") % {"error": exc})
        return redirect("crisis:run_console", exercise.pk)
    if changed:
        run.add_log_entry(
            exercise,
            kind=EntryKind.INFORMATION,
            text=_("Horloge : %(status)s, vitesse ×%(speed)g")
            % {"status": exercise.get_status_display(), "speed": exercise.speed},
            author_name=access.author_name,
            participant=access.participant,
            user=access.user,
        )
        record_event(
            f"crisis.exercise.{command}",
            request=request,
            target=exercise,
            organisation=exercise.organisation,
            details={"speed": exercise.speed, "status": exercise.status},
        )
        if exercise.status == ExerciseStatus.RUNNING:
            tasks.schedule_release(exercise.pk)
    return redirect("crisis:run_console", exercise.pk)


@require_POST
@_entry
def stimulus_command(request, access: Access, stimulus_pk: int):
    """Release one stimulus now, or leave it out of this run."""
    _facilitator(access)
    stimulus = get_object_or_404(Stimulus, pk=stimulus_pk, exercise=access.exercise)
    stimulus.exercise = access.exercise
    action = request.POST.get("action")
    if action == "release":
        done = run.release_now(stimulus)
    elif action == "skip":
        done = run.skip(stimulus)
    else:
        return HttpResponseBadRequest(_("Action inconnue."))
    if not done:
        messages.warning(
            request, _("Ce stimulus n'est plus à venir, ou l'exercice n'a pas commencé.")
        )
    return redirect("crisis:run_console", access.exercise.pk)


@never_cache
@require_GET
@_entry
def players(request, access: Access):
    """The players' console: the situation file, released stimuli, logbook, the form to write
    in it. (The situation file is Markdown rendered with source HTML disabled.)"""
    exercise = access.exercise
    released = exercise.stimuli.filter(status__in=RELEASED).order_by("released_at", "pk")
    return render(
        request,
        "crisis/run_players.html",
        _context(
            access,
            released=released,
            log_form=LogForm() if access.writes_log else None,
        ),
    )


@never_cache
@require_http_methods(["GET", "POST"])
@_entry
def debrief(request, access: Access):
    """The hot debrief questionnaire for a participant who came through a personal link (those
    with an account answer it from the lessons pages, `crisis:debrief`)."""
    from hygie.crisis.binder_views import debrief_page

    if access.participant is None:
        return redirect("crisis:debrief", pk=access.exercise.pk)
    return debrief_page(request, access.participant, template="crisis/lesson_debrief_link.html")


@require_POST
@_entry
def write_log(request, access: Access):
    """A decision, action or information written to the logbook (optionally a milestone)."""
    if not access.writes_log:
        raise PermissionDenied(
            _("Seuls les joueurs et les animateurs écrivent dans la main courante.")
        )
    exercise = access.exercise
    form = LogForm(request.POST)
    if not form.is_valid():
        released = exercise.stimuli.filter(status__in=RELEASED)
        return render(
            request,
            "crisis/run_players.html",
            _context(access, released=released, log_form=form),
            status=400,
        )
    run.add_log_entry(
        exercise,
        kind=form.cleaned_data["kind"],
        text=form.cleaned_data["text"],
        author_name=access.author_name,
        participant=access.participant,
        user=access.user,
        milestone=form.cleaned_data["milestone"],
    )
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"ok": True})
    target = "crisis:run_console" if access.facilitates else "crisis:run_players"
    return redirect(target, exercise.pk)


@never_cache
@require_http_methods(["GET", "POST"])
@_entry
def grid(request, access: Access):
    """The observers' grid: each criterion rated (met, partial, not met) with a comment."""
    exercise = access.exercise
    if not (access.observes or access.facilitates):
        raise PermissionDenied(_("Réservé aux observateurs et aux animateurs."))
    criteria = list(exercise.criteria.all())
    errors = {}
    if request.method == "POST":
        if not access.observes:
            raise PermissionDenied(_("Seuls les observateurs remplissent la grille."))
        saved = 0
        for criterion in criteria:
            rating = request.POST.get(f"rating-{criterion.pk}", "")
            comment = request.POST.get(f"comment-{criterion.pk}", "")[:4000]
            if not rating:
                continue
            try:
                run.rate(criterion, access.participant, rating, comment)
                saved += 1
            except ValueError as exc:
                errors[criterion.pk] = str(exc)
        if not errors:
            messages.success(request, _("Grille enregistrée (%(n)d critères).") % {"n": saved})
            return redirect("crisis:run_grid", exercise.pk)
    mine = {}
    if access.observes:
        mine = {o.criterion_id: o for o in Observation.objects.filter(observer=access.participant)}
    rows = [{"criterion": c, "mine": mine.get(c.pk), "error": errors.get(c.pk)} for c in criteria]
    all_observations = None
    if access.facilitates:
        all_observations = (
            exercise.criteria.filter(observations__isnull=False)
            .values(
                "pk",
                "text",
                "observations__rating",
                "observations__comment",
                "observations__observer__name",
            )
            .order_by("position", "pk")
        )
    return render(
        request,
        "crisis/run_grid.html",
        {
            "exercise": exercise,
            "access": access,
            "rows": rows,
            "ratings": Rating.choices,
            "all_observations": all_observations,
            "rating_labels": dict(Rating.choices),
        },
        status=400 if errors else 200,
    )


# Live state ------------------------------------------------------------------------------------
def _clock_payload(exercise: Exercise, now) -> dict:
    return {
        "status": exercise.status,
        "status_label": exercise.get_status_display(),
        "seconds": round(clock.exercise_seconds(exercise, now), 1),
        "speed": exercise.speed,
        "running": exercise.status == ExerciseStatus.RUNNING,
    }


def _stimulus_payload(stimulus: Stimulus, *, expected: bool) -> dict:
    data = {
        "id": stimulus.pk,
        "channel": stimulus.channel,
        "channel_label": stimulus.get_channel_display(),
        "sender": stimulus.sender,
        "subject": stimulus.subject,
        "content": stimulus.content,
        "at_seconds": stimulus.released_exercise_seconds,
    }
    if expected:
        data["expected"] = stimulus.expected
    return data


@never_cache
@require_GET
@_entry
def state(request, access: Access):
    """The clock, the stimuli released and the logbook lines written since `since` (the last
    logbook id the client has). Players and readers never see upcoming stimuli or expected
    reactions; a constant number of queries whatever the size of the exercise."""
    try:
        since = max(0, int(request.GET.get("since", "0") or 0))
    except ValueError:
        return JsonResponse({"error": _("since : un entier est attendu")}, status=400)
    exercise = access.exercise
    now = timezone.now()
    entries = list(
        LogEntry.objects.filter(exercise=exercise, pk__gt=since)
        .select_related("stimulus")
        .order_by("pk")[:MAX_ENTRIES]
    )
    sees_expected = access.role in (ParticipantRole.FACILITATOR, ParticipantRole.OBSERVER)
    payload = {
        "clock": _clock_payload(exercise, now),
        "cursor": entries[-1].pk if entries else since,
        "more": len(entries) == MAX_ENTRIES,
        "entries": [
            {
                "id": e.pk,
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "milestone_label": e.get_milestone_display() if e.milestone else "",
                "seconds": round(e.exercise_seconds, 1) if e.exercise_seconds is not None else None,
                "author": e.author_name,
                "text": e.text,
            }
            for e in entries
        ],
        "stimuli": [
            _stimulus_payload(e.stimulus, expected=sees_expected)
            for e in entries
            if e.stimulus is not None and e.stimulus.status in RELEASED
        ],
    }
    if access.facilitates:
        payload["timeline"] = [
            {"id": s.pk, "status": s.status, "status_label": s.get_status_display()}
            for s in exercise.stimuli.all()
        ]
    return JsonResponse(payload)


# Personal links --------------------------------------------------------------------------------
@require_POST
@_entry
def issue_link(request, access: Access, participant_pk: int):
    """A facilitator issues (or re-issues) a participant's personal link, shown once."""
    _facilitator(access)
    participant = get_object_or_404(Participant, pk=participant_pk, exercise=access.exercise)
    token = participant_links.issue(participant)
    # HYGIE_BASE_URL, never the Host header of the request (as for learners' links).
    url = settings.BASE_URL.rstrip("/") + reverse("crisis:run_join", args=[token])
    record_event(
        "crisis.participant.link",
        request=request,
        target=access.exercise,
        organisation=access.exercise.organisation,
        details={"participant": participant.pk},
    )
    messages.success(
        request,
        _("Lien personnel de %(name)s (affiché une seule fois) : %(url)s")
        % {"name": participant.name, "url": url},
    )
    return redirect("crisis:run_console", access.exercise.pk)


@never_cache
@require_GET
def join(request, token: str):
    """Opening a personal link: the browser gets the participant's cookie, the token leaves
    the address bar."""
    participant = participant_links.participant_for_token(token)
    if participant is None:
        raise Http404(_("Ce lien n'est pas (ou plus) valable."))
    target = {
        ParticipantRole.FACILITATOR: "crisis:run_console",
        ParticipantRole.OBSERVER: "crisis:run_grid",
    }.get(participant.role, "crisis:run_players")
    response = redirect(target, participant.exercise_id)
    response.set_cookie(
        participant_links.cookie_name(participant.exercise_id),
        participant_links.cookie_value(participant),
        max_age=participant_links.COOKIE_MAX_AGE,
        path=participant_links.cookie_path(participant.exercise_id),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    response["Referrer-Policy"] = "no-referrer"
    return response
