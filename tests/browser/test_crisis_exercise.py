"""Acceptance of the live run of a crisis exercise, end to end with real components.

A short exercise at speed 60 (stimuli at 1, 2 and 3 minutes of scenario → 1, 2, 3 seconds):
the RSSI starts it from the facilitators' console; the release task's code runs every 0.1 s from the
test thread (see `drive_releases`);
the stimuli appear on the players' console at their time without a reload, the e-mail one
arrives at a real SMTP server; a player writes a decision to the logbook, which the
facilitator sees without reloading; an observer fills the grid.
Then the lessons learned: a lesson becomes an action-plan item in one click and the cold
report PDF is produced.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from hygie.actions.models import ActionItem
from hygie.crisis import participant_links, tasks
from hygie.crisis.models import (
    Channel,
    Exercise,
    Lesson,
    LogEntry,
    Observation,
    ReleaseStatus,
    Stimulus,
)
from tests.browser.helpers import log_in_with_totp
from tests.crisis import run_fixtures
from tests.crisis.report_data import pdf_text
from tests.services import smtp as smtp_service

pytestmark = pytest.mark.browser

SPEED = 60


@pytest.fixture
def relay(settings, monkeypatch, tmp_path):
    with smtp_service.smtp_server() as server:
        ca = tmp_path / "ca.pem"
        ca.write_text(server.ca_pem)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "localhost", server.port
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = True, 5
        settings.EMAIL_HOST_USER = smtp_service.USERNAME
        settings.EMAIL_HOST_PASSWORD = smtp_service.PASSWORD
        settings.DEFAULT_FROM_EMAIL = "exercices@chu-a.example"
        yield server


def drive_releases(exercise_id, until, seconds=10.0):
    """What the worker does, from the test thread: run the release task's code every 0.1 s
    until `until()` holds. (The live server shares the in-memory test database, which answers
    "table locked" instead of waiting when a second thread writes: the real worker process is
    exercised by the benchmark, on a database file, through gunicorn.)"""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tasks.run_release(exercise_id)
        if until():
            return
        time.sleep(0.1)
    raise AssertionError("the expected state was not reached in time")


def open_link(new_context, participant):
    token = participant_links.issue(participant)
    context = new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(reverse("crisis:run_join", args=[token]))
    return page


def test_a_short_exercise_at_high_speed(world, relay, page, new_context):
    ex = run_fixtures.exercise(world.est_a1, title="Rançongiciel aux urgences", speed=SPEED)
    # Make the RSSI the facilitator through the normal pages (a member of the organisation).
    log_in_with_totp(page, world.editor)
    page.goto(reverse("crisis:run_console", args=[ex.pk]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rançongiciel aux urgences")

    player = open_link(new_context, ex.player)
    expect(player.get_by_role("heading", level=1)).to_contain_text("Cellule de crise")
    player.evaluate("window.__notReloaded = true")
    page.evaluate("window.__notReloaded = true")
    # Not yet started: nothing received.
    expect(player.get_by_test_id("run-stimuli").locator("li")).to_have_count(0)

    page.get_by_role("button", name="Démarrer l'exercice").click()
    expect(page.get_by_test_id("run-status")).to_have_text("En cours")
    page.evaluate("window.__notReloaded = true")
    started = Exercise.objects.get(pk=ex.pk).started_at

    # The stimuli reach the players' console at their time, without a reload.
    received = player.get_by_test_id("run-stimuli").locator("li")
    drive_releases(ex.pk, lambda: received.count() >= 1)
    expect(received.first).to_contain_text("Écran de rançon sur les postes des urgences")
    drive_releases(ex.pk, lambda: received.count() == 3)
    expect(received.nth(2)).to_contain_text("journaliste")
    assert player.evaluate("window.__notReloaded") is True
    assert "RÉACTION-ATTENDUE" not in player.content()

    # Each one was released on time (the task's code runs every 0.1 s here).
    for stimulus in Stimulus.objects.filter(exercise=ex):
        due = started + timedelta(seconds=stimulus.offset_seconds / SPEED)
        assert stimulus.status in (ReleaseStatus.SENT, ReleaseStatus.RELEASED)
        assert timedelta(0) <= stimulus.released_at - due < timedelta(seconds=1.5), stimulus
    # The e-mail stimulus arrived at the real SMTP server, addressed to the crisis director.
    email = Stimulus.objects.get(exercise=ex, channel=Channel.EMAIL)
    assert email.status == ReleaseStatus.SENT
    [(_sender, rcpts, message)] = relay.messages
    assert rcpts == ["directeur@chu-a.example"] and message["Message-ID"] == email.message_id
    # The facilitator is shown the phone and press stimuli to play, live.
    expect(page.get_by_test_id("to-play").locator("li")).to_have_count(2)

    # A player writes a decision to the logbook, marking the isolation milestone.
    player.get_by_label("Type").select_option(label="Décision")
    player.get_by_label("Décision, action ou information").fill("Isoler le réseau des urgences")
    player.get_by_label("Jalon atteint").select_option(label="Isolement")
    player.get_by_role("button", name="Inscrire dans la main courante").click()
    expect(player.get_by_test_id("run-log")).to_contain_text("Isoler le réseau des urgences")
    # The facilitator sees it without reloading.
    expect(page.get_by_test_id("run-log")).to_contain_text(
        "Paul Joueur : Isoler le réseau des urgences"
    )
    assert page.evaluate("window.__notReloaded") is True
    assert "isolation" in Exercise.objects.get(pk=ex.pk).key_timings

    # An observer fills the grid.
    observer = open_link(new_context, ex.observer)
    first, second = ex.criteria_list
    observer.locator(f'[data-criterion="{first.pk}"]').get_by_label("Atteint", exact=True).check()
    observer.get_by_label("Commentaire").first.fill("Cellule réunie en 4 minutes")
    observer.locator(f'[data-criterion="{second.pk}"]').get_by_label("Partiellement").check()
    observer.get_by_role("button", name="Enregistrer la grille").click()
    expect(observer.get_by_text("Grille enregistrée (2 critères).")).to_be_visible()
    assert Observation.objects.filter(observer=ex.observer).count() == 2

    # The facilitator finishes the exercise; the clock stops on every console.
    page.get_by_role("button", name="Terminer l'exercice").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Joué")
    expect(player.get_by_test_id("run-status")).to_have_text("Joué", timeout=5_000)
    assert LogEntry.objects.filter(exercise=ex, kind="stimulus").count() == 3

    # Lessons learned: the facilitator writes a lesson and turns it into an action in one click.
    page.goto(reverse("crisis:lessons", args=[ex.pk]))
    page.get_by_label("Enseignement").fill(
        "Tenir à jour l'annuaire de crise\nRevu chaque trimestre"
    )
    page.get_by_role("button", name="Ajouter l'enseignement").click()
    page.get_by_role("button", name="Créer l'action").click()
    lesson = Lesson.objects.get(exercise=ex)
    action = ActionItem.objects.get(pk=lesson.action_id)
    assert action.origin == "crisis" and action.organisation == world.est_a1
    assert action.title == "Tenir à jour l'annuaire de crise"
    expect(page.get_by_test_id("lesson")).to_contain_text("Tenir à jour l'annuaire de crise")

    # The cold report: a PDF naming the exercise, the isolation time and the lesson's action.
    response = page.request.get(reverse("crisis:report_pdf", args=[ex.pk]))
    assert response.ok and response.body().startswith(b"%PDF")
    text = pdf_text(response.body())
    assert "Rançongiciel aux urgences" in text
    assert "Tenir à jour l'annuaire de crise" in text
    isolation = Exercise.objects.get(pk=ex.pk).key_timings["isolation"]
    assert f"{int(isolation // 3600):02d}:{int(isolation % 3600 // 60):02d}" in text
