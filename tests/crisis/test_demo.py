"""The demo's crisis material: an exercise ready to run, last year's closed with its lessons
turned into actions and recorded as evidence, and a binder to print."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hygie.assessments.models import Fact
from hygie.crisis.demo import load_crisis_demo
from hygie.crisis.models import BinderSection, Exercise, ExerciseStatus, Lesson
from hygie.orgs.demo import load_demo
from hygie.orgs.models import Organisation
from tests.clients import browser

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_exercise_to_run_and_one_closed_with_its_lessons():
    load_demo()
    ght = Organisation.objects.get(code="GHT-DEMO-HDF")
    assert load_crisis_demo(ght) == 2
    assert load_crisis_demo(ght) == 0, "loaded once"
    coming = Exercise.objects.get(status=ExerciseStatus.READY)
    assert coming.stimuli.count() >= 8 and coming.participants.count() == 6
    past = Exercise.objects.get(status=ExerciseStatus.CLOSED)
    lessons = Lesson.objects.filter(exercise=past)
    assert lessons.count() == 2 and all(lesson.action_id for lesson in lessons)
    fact = Fact.objects.get(source="crisis.exercise", source_key=f"exercise-{past.pk}")
    assert fact.organisation == past.organisation
    assert BinderSection.objects.filter(organisation=past.organisation).exists()

    rssi = browser(get_user_model().objects.get(username="rssi"))
    page = rssi.get(reverse("crisis:exercises", args=[past.organisation.pk]))
    assert page.status_code == 200
    assert coming.title in page.content.decode() and past.title in page.content.decode()
    pdf = rssi.get(reverse("crisis:report_pdf", args=[past.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
