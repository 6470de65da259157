"""Hot debrief and lessons: a lesson becomes one action-plan item, whatever the clicks."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from hygie.actions.models import ActionItem
from hygie.crisis import report
from hygie.crisis.binder_views import debrief_page
from hygie.crisis.models import DebriefAnswer, ExerciseStatus, Lesson, Participant
from tests.clients import browser
from tests.crisis.report_data import lesson, played_exercise

pytestmark = pytest.mark.django_db


def test_one_click_turns_a_lesson_into_one_linked_action(world):
    exercise = played_exercise(world.est_a1)
    editor = browser(world.editor)
    editor.post(
        reverse("crisis:lesson_add", args=[exercise.pk]),
        {"text": "Imprimer l'annuaire de crise\nChaque trimestre, dans chaque service."},
    )
    learned = Lesson.objects.get(exercise=exercise)
    url = reverse("crisis:lesson_action", args=[exercise.pk, learned.pk])
    first = editor.post(url, follow=True).content.decode()
    assert "Action « Imprimer l&#x27;annuaire de crise » ajoutée au plan d&#x27;action." in first
    second = editor.post(url, follow=True).content.decode()  # a second click, or a double submit
    assert "Cet enseignement a déjà son action" in second
    item = ActionItem.objects.get(origin="crisis")
    learned.refresh_from_db()
    assert learned.action == item
    assert item.organisation == world.est_a1
    assert item.title == "Imprimer l'annuaire de crise"
    assert "Rançongiciel aux urgences" in item.description
    assert "Chaque trimestre" in item.description
    assert item.due_on is not None
    # The lessons page links the action; the action plan shows it.
    assert reverse("actions:edit", args=[item.pk]) in second
    plan = editor.get(reverse("actions:plan", args=[world.est_a1.pk])).content.decode()
    assert "Imprimer l&#x27;annuaire de crise" in plan


def test_the_service_is_idempotent_and_a_reader_cannot_create(world):
    exercise = played_exercise(world.est_a1)
    learned = lesson(exercise)
    url = reverse("crisis:lesson_action", args=[exercise.pk, learned.pk])
    assert browser(world.reader).post(url).status_code == 403
    assert browser(world.outsider).post(url).status_code == 404
    assert not ActionItem.objects.exists()
    first = report.create_action_from_lesson(learned, actor=world.editor)
    again = report.create_action_from_lesson(learned, actor=world.editor)
    assert first.pk == again.pk and ActionItem.objects.count() == 1
    # Another exercise's lesson cannot be reached through this exercise's address.
    other = lesson(played_exercise(world.est_a1, title="Autre exercice"))
    wrong = reverse("crisis:lesson_action", args=[exercise.pk, other.pk])
    assert browser(world.editor).post(wrong).status_code == 404


def test_participants_with_an_account_answer_the_hot_debrief(world):
    exercise = played_exercise(world.est_a1, users=[world.reader])
    url = reverse("crisis:debrief", args=[exercise.pk])
    reader = browser(world.reader)
    page = reader.get(url).content.decode()
    assert "Qu&#x27;est-ce qui vous a surpris ?" in page
    empty = reader.post(url, {"worked": "  "})
    assert empty.status_code == 400
    assert "Répondez au moins à une question." in empty.content.decode()
    assert reader.post(url, {"surprised": "La presse a appelé très vite"}).status_code == 200
    participant = Participant.objects.get(exercise=exercise, user=world.reader)
    saved = DebriefAnswer.objects.get(participant=participant)
    assert saved.answers == {"surprised": "La presse a appelé très vite"}
    lessons_page = browser(world.editor).get(reverse("crisis:lessons", args=[exercise.pk]))
    assert "La presse a appelé très vite" in lessons_page.content.decode()
    # Someone who did not take part has no questionnaire here.
    assert browser(world.editor).get(url).status_code == 404
    assert browser(world.outsider).get(url).status_code == 404
    # Once the exercise is closed, answers are frozen.
    report.close_exercise(exercise, actor=world.editor)
    closed = reader.post(url, {"surprised": "Changement tardif"})
    assert closed.status_code == 409
    assert "questionnaire n'est pas ouvert" in closed.content.decode()
    saved.refresh_from_db()
    assert saved.answers == {"surprised": "La presse a appelé très vite"}


def test_the_debrief_page_serves_participants_without_an_account(world):
    """The run area's personal-link view calls `debrief_page` once it knows the participant."""
    exercise = played_exercise(world.est_a1)
    participant = Participant.objects.get(exercise=exercise, name="Olivier Observateur")
    factory = RequestFactory()
    get = debrief_page(
        factory.get("/"), participant, template="crisis/lesson_debrief_link.html"
    ).content.decode()
    assert "Olivier Observateur (Observateur)" in get
    assert "Ce lien est personnel" in get
    assert "Se déconnecter" not in get  # no account navigation on the link page
    request = factory.post("/", {"worked": "Les fiches réflexes", "failed": "Le fax"})
    response = debrief_page(request, participant, template="crisis/lesson_debrief_link.html")
    assert response.status_code == 200
    assert "vos réponses sont enregistrées" in response.content.decode()
    answers = DebriefAnswer.objects.get(participant=participant).answers
    assert answers == {"worked": "Les fiches réflexes", "failed": "Le fax"}


def test_the_debrief_is_not_open_before_the_end(world):
    exercise = played_exercise(world.est_a1, status=ExerciseStatus.RUNNING)
    participant = exercise.participants.first()
    with pytest.raises(report.ReportError, match="pas ouvert"):
        report.save_debrief(participant, {"worked": "Trop tôt"})
