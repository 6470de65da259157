"""The cold report PDF, objectives met, and closing an exercise (evidence for the annual
exercise measure)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hygie.assessments.models import Fact
from hygie.crisis import report
from hygie.crisis.models import Exercise, ExerciseStatus
from tests.clients import browser
from tests.crisis.report_data import lesson, pdf_text, played_exercise
from tests.governance import campaign

pytestmark = pytest.mark.django_db


def test_the_cold_report_tells_the_whole_exercise(world):
    exercise = played_exercise(world.est_a1)
    learned = lesson(exercise)
    report.create_action_from_lesson(learned, actor=world.editor)
    report.set_objectives_met(exercise, {"o1": "met", "o2": "not_met"}, actor=world.editor)

    response = browser(world.reader).get(reverse("crisis:report_pdf", args=[exercise.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "rapport-rancongiciel-aux-urgences.pdf" in response["Content-Disposition"]
    # Table cells wrap their lines: compare with the whitespace flattened.
    text = " ".join(pdf_text(response.content).split())
    for expected in [
        "Rançongiciel aux urgences",
        "CHU A1",
        "12/03/2026",
        "Intermédiaire",
        "Urgences et imagerie du site principal",
        "Joueur (1) : Hélène Directrice (Directrice de crise)",
        "Observateur (1) : Olivier Observateur",
        "Animateur (1) : Fanny Animatrice",
        "Activer la cellule de crise en moins de 30 minutes",
        "Atteint",
        "Non atteint",
        # Key timings in exercise time, HH:MM; the notification never came.
        "00:05",
        "00:45",
        "01:05",
        "Écrans noirs aux urgences",
        "Appel de La Voix du Nord",
        "00:30",
        "La main courante est tenue dès le début",
        "Partiellement : 1",
        "Olivier Observateur : Main courante ouverte après 20 minutes",
        "Qu'est-ce qui a bien fonctionné ?",
        "Hélène Directrice : La chaîne d'alerte",
        "Imprimer l'annuaire de crise chaque trimestre",
        "À lancer",
    ]:
        assert expected in text, f"the report should show {expected!r}"
    assert "Stimulus jamais joué" not in text  # not released: not in the timeline
    rows = dict(report.key_timing_rows(exercise))
    assert rows["Notification"] == "—"


def test_the_hhmm_format_counts_hours_past_a_day():
    assert report.hhmm(0) == "00:00"
    assert report.hhmm(59) == "00:00"
    assert report.hhmm(3 * 3600 + 7 * 60 + 30) == "03:07"
    assert report.hhmm(26 * 3600) == "26:00"


def test_objectives_met_are_rated_on_the_lessons_page(world):
    exercise = played_exercise(world.est_a1)
    url = reverse("crisis:objectives_met", args=[exercise.pk])
    editor = browser(world.editor)
    response = editor.post(url, {"objective_o1": "met", "objective_o2": "partial"})
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert exercise.objectives_met == {"o1": "met", "o2": "partial"}
    page = editor.get(reverse("crisis:lessons", args=[exercise.pk])).content.decode()
    assert 'value="partial" selected' in page or 'value="partial"\n selected' in page
    # A rating that does not exist changes nothing.
    editor.post(url, {"objective_o1": "brilliant"})
    exercise.refresh_from_db()
    assert exercise.objectives_met == {"o1": "met", "o2": "partial"}
    assert browser(world.reader).post(url, {"objective_o1": "not_met"}).status_code == 403


def test_closing_records_the_exercise_as_evidence_for_the_annual_measure(world):
    c = campaign(world.est_a1)
    exercise = played_exercise(world.est_a1)
    editor = browser(world.editor)
    url = reverse("crisis:close", args=[exercise.pk])
    assert "preuve de l'exercice de crise annuel" in editor.get(url).content.decode()
    assert editor.post(url).status_code == 302
    exercise.refresh_from_db()
    assert exercise.status == ExerciseStatus.CLOSED
    fact = Fact.objects.get(organisation=world.est_a1, source="crisis.exercise")
    assert fact.source_key == f"exercise-{exercise.pk}"
    assert fact.occurred_on.isoformat() == "2026-03-12"
    answer = c.answers.get(node__ref_id="GOV.2")
    assert answer.evidence.filter(fact=fact).exists()
    page = (
        browser(world.reader)
        .get(reverse("assessments:answer", args=[c.pk, answer.pk]))
        .content.decode()
    )
    assert "Exercice de crise « Rançongiciel aux urgences » du 12/03/2026" in page
    assert f'href="/crise/exercices/{exercise.pk}/retex/"' in page
    # Closing again is refused and records nothing more.
    response = editor.post(url, follow=True)
    assert "Seul un exercice joué peut être clôturé" in response.content.decode()
    assert Fact.objects.filter(source="crisis.exercise").count() == 1


def test_only_a_played_exercise_can_be_closed(world):
    exercise = played_exercise(world.est_a1, status=ExerciseStatus.RUNNING)
    editor = browser(world.editor)
    response = editor.post(reverse("crisis:close", args=[exercise.pk]), follow=True)
    assert "Seul un exercice joué peut être clôturé" in response.content.decode()
    assert Exercise.objects.get(pk=exercise.pk).status == ExerciseStatus.RUNNING
    assert not Fact.objects.filter(source="crisis.exercise").exists()
    # A reader sees the exercise but cannot close it; another GHT does not even see it.
    played = played_exercise(world.est_a1, title="Fuite de données")
    assert browser(world.reader).post(reverse("crisis:close", args=[played.pk])).status_code == 403
    outsider = browser(world.outsider)
    assert outsider.post(reverse("crisis:close", args=[played.pk])).status_code == 404
    assert outsider.get(reverse("crisis:report_pdf", args=[played.pk])).status_code == 404
    assert Exercise.objects.get(pk=played.pk).status == ExerciseStatus.FINISHED
