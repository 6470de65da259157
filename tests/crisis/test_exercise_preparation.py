"""Exercise design and preparation pages: creation from a scenario, the timeline table (bad
offset named by row, nothing saved), participants, readiness, tenant isolation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hygie.crisis import scenarios
from hygie.crisis.models import Exercise, ExerciseStatus, Participant, Scenario, Stimulus
from tests.clients import browser

pytestmark = pytest.mark.django_db


def _exercise(world, slug="deni-service-portail"):
    return scenarios.create_exercise_from(
        Scenario.objects.get(slug=slug), world.est_a1, actor=world.editor
    )


def _rows(exercise, changes=None, extra=()):
    """The timeline formset as the page posts it, with `changes` {row: {field: value}}."""
    stimuli = list(exercise.stimuli.order_by(*Stimulus._meta.ordering))
    data = {
        "stimuli-TOTAL_FORMS": str(len(stimuli) + len(extra)),
        "stimuli-INITIAL_FORMS": str(len(stimuli)),
        "stimuli-MIN_NUM_FORMS": "0",
        "stimuli-MAX_NUM_FORMS": "80",
    }
    for i, s in enumerate(stimuli):
        row = {
            "id": str(s.pk),
            "offset_seconds": scenarios.format_offset(s.offset_seconds),
            "channel": s.channel,
            "sender": s.sender,
            "recipients": s.recipients,
            "subject": s.subject,
            "content": s.content,
            "expected": s.expected,
            "ORDER": str(i + 1),
        }
        row.update((changes or {}).get(i, {}))
        data.update({f"stimuli-{i}-{k}": v for k, v in row.items()})
    for j, row in enumerate(extra, start=len(stimuli)):
        data.update({f"stimuli-{j}-{k}": v for k, v in row.items()})
    return data


def test_creating_from_a_scenario_copies_it(world):
    client = browser(world.editor)
    response = client.post(
        reverse("crisis:exercise_create", args=[world.est_a1.pk]),
        {"scenario": Scenario.objects.get(slug="rancongiciel-dpi-pacs").pk, "title": ""},
    )
    exercise = Exercise.objects.get()
    assert response.headers["Location"] == reverse("crisis:exercise", args=[exercise.pk])
    assert exercise.stimuli.count() == 12
    page = client.get(reverse("crisis:exercise_timeline", args=[exercise.pk]))
    assert "Écrans bloqués aux urgences" in page.content.decode()


def test_a_blank_exercise_needs_a_title(world):
    client = browser(world.editor)
    url = reverse("crisis:exercise_create", args=[world.est_a1.pk])
    response = client.post(url, {"scenario": "", "title": ""})
    assert "besoin d&#x27;un intitulé" in response.content.decode()
    client.post(url, {"scenario": "", "title": "Exercice maison"})
    exercise = Exercise.objects.get()
    assert exercise.title == "Exercice maison" and not exercise.stimuli.exists()


def test_a_bad_offset_is_named_by_row_and_nothing_is_saved(world):
    exercise = _exercise(world)
    before = list(exercise.stimuli.values_list("sender", "offset_seconds"))
    response = browser(world.editor).post(
        reverse("crisis:exercise_timeline", args=[exercise.pk]),
        _rows(exercise, {0: {"sender": "Changé"}, 2: {"offset_seconds": "1h30"}}),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Ligne 3, Décalage (HH:MM)" in body and "1h30" in body
    assert "Rien n'a été enregistré" in body
    assert list(exercise.stimuli.values_list("sender", "offset_seconds")) == before


def test_rows_are_added_edited_removed_and_reordered(world):
    exercise = _exercise(world)
    count = exercise.stimuli.count()
    first = exercise.stimuli.order_by("offset_seconds").first()
    data = _rows(
        exercise,
        {0: {"offset_seconds": "00:45", "sender": "Standard (modifié)"}, 1: {"DELETE": "on"}},
        extra=[
            {
                "offset_seconds": "00:02",
                "channel": "sms",
                "sender": "Cadre de garde",
                "content": "Nouveau stimulus",
                "ORDER": "",
            },
            {"offset_seconds": "", "channel": "", "sender": "", "content": "", "ORDER": ""},
        ],
    )
    response = browser(world.editor).post(
        reverse("crisis:exercise_timeline", args=[exercise.pk]), data
    )
    assert response.status_code == 302
    rows = list(exercise.stimuli.order_by(*Stimulus._meta.ordering))
    assert len(rows) == count  # one removed, one added, the blank row ignored
    assert rows[0].sender == "Cadre de garde" and rows[0].offset_seconds == 120
    moved = Stimulus.objects.get(pk=first.pk)
    assert moved.offset_seconds == 45 * 60 and moved.sender == "Standard (modifié)"


def test_an_email_stimulus_needs_recipients_and_a_subject(world):
    exercise = _exercise(world)
    response = browser(world.editor).post(
        reverse("crisis:exercise_timeline", args=[exercise.pk]),
        _rows(exercise, {1: {"channel": "email", "subject": "", "recipients": ""}}),
    )
    body = response.content.decode()
    assert "Ligne 2, Objet" in body


def test_participants_with_and_without_account_and_readiness(world):
    exercise = _exercise(world)
    client = browser(world.editor)
    url = reverse("crisis:exercise_participants", args=[exercise.pk])
    client.post(url, {"role": "player", "function": "Directeur de crise", "user": world.editor.pk})
    client.post(
        url,
        {
            "role": "observer",
            "function": "",
            "user": "",
            "name": "Paul Martin",
            "email": "paul.martin@chu-a1.example",
        },
    )
    duplicate = client.post(
        url, {"role": "player", "user": "", "name": "Autre", "email": "PAUL.martin@chu-a1.example"}
    )
    assert "déjà celle d&#x27;un participant" in duplicate.content.decode()
    stranger = client.post(url, {"role": "player", "user": world.outsider.pk})
    assert stranger.status_code == 200 and exercise.participants.count() == 2
    editor_row = exercise.participants.get(user=world.editor)
    assert editor_row.name == "Claire Dumont"

    client.post(reverse("crisis:exercise_ready", args=[exercise.pk]))
    exercise.refresh_from_db()
    assert exercise.status == ExerciseStatus.READY

    observer = exercise.participants.get(role="observer")
    client.post(reverse("crisis:exercise_participant_remove", args=[exercise.pk, observer.pk]))
    exercise.refresh_from_db()
    assert exercise.status == ExerciseStatus.DESIGN
    page = client.get(reverse("crisis:exercise", args=[exercise.pk])).content.decode()
    assert "au moins un observateur" in page


def test_marking_ready_without_a_player_is_refused(world):
    exercise = _exercise(world)
    client = browser(world.editor)
    response = client.post(reverse("crisis:exercise_ready", args=[exercise.pk]), follow=True)
    exercise.refresh_from_db()
    assert exercise.status == ExerciseStatus.DESIGN
    assert "au moins un joueur" in response.content.decode()


def test_another_tenants_participant_cannot_be_removed(world):
    mine = _exercise(world)
    theirs = scenarios.create_exercise_from(None, world.est_b1, title="Exercice B")
    theirs_participant = Participant.objects.create(exercise=theirs, role="player", name="B")
    response = browser(world.editor).post(
        reverse("crisis:exercise_participant_remove", args=[mine.pk, theirs_participant.pk])
    )
    assert response.status_code == 404
    assert Participant.objects.filter(pk=theirs_participant.pk).exists()
    listing = browser(world.editor).get(reverse("crisis:exercises", args=[world.ght_a.pk]))
    assert "Exercice B" not in listing.content.decode()


def test_design_keeps_criteria_tied_to_unchanged_objectives(world):
    exercise = _exercise(world)
    kept, dropped = exercise.objectives
    response = browser(world.editor).post(
        reverse("crisis:exercise_design", args=[exercise.pk]),
        {
            "title": "Déni de service — GHT A",
            "level": "intermediate",
            "scope": "Direction, DSI, communication",
            "planned_start": "2026-10-05T09:00",
            "objectives_text": f"{kept['text']}\nTester l'annuaire de crise.",
        },
    )
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert exercise.objectives[0] == kept
    assert exercise.objectives[1]["id"] not in (kept["id"],)
    assert not exercise.criteria.filter(objective=dropped["id"]).exists()
    assert exercise.criteria.filter(objective=kept["id"]).exists()


def test_situation_preview_renders_markdown_without_saving_and_escapes_html(world):
    exercise = _exercise(world)
    response = browser(world.editor).post(
        reverse("crisis:exercise_situation", args=[exercise.pk]),
        {"situation_file": "# Hôpital\n<script>alert(1)</script>", "preview": "1"},
    )
    body = response.content.decode()
    assert "<h1>Hôpital</h1>" in body and "<script>alert(1)" not in body
    exercise.refresh_from_db()
    assert exercise.situation_file.startswith("## Dossier de situation")
