"""The consoles and the live state endpoint: who sees what, personal links, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hygie.crisis import clock, participant_links, run
from hygie.crisis.models import (
    EntryKind,
    ExerciseStatus,
    LogEntry,
    Observation,
    ReleaseStatus,
    Stimulus,
)
from tests.crisis import run_fixtures


@pytest.fixture
def ex(world):
    return run_fixtures.exercise(world.est_a1)


def link_client(participant) -> Client:
    client = Client(enforce_csrf_checks=False)
    token = participant_links.issue(participant)
    response = client.get(reverse("crisis:run_join", args=[token]))
    assert response.status_code == 302
    return client


def state(client, ex, since=0):
    response = client.get(reverse("crisis:run_state", args=[ex.pk]), {"since": since})
    assert response.status_code == 200, response.content
    return response.json()


def test_clock_commands_from_the_console(world, ex):
    from django_tasks_db.models import DBTaskResult

    from tests.conftest import logged_in_client

    client = logged_in_client(world.editor)
    client.handler.enforce_csrf_checks = False
    url = reverse("crisis:run_clock", args=[ex.pk])
    assert client.post(url, {"command": "start"}).status_code == 302
    ex.refresh_from_db()
    assert ex.status == ExerciseStatus.RUNNING
    assert DBTaskResult.objects.filter(task_path__endswith="release_stimuli").exists()
    client.post(url, {"command": "speed", "speed": "60"})
    ex.refresh_from_db()
    assert ex.speed == 60
    response = client.post(url, {"command": "speed", "speed": "abc"}, follow=True)
    assert "un nombre est attendu" in response.content.decode()
    client.post(url, {"command": "pause"})
    ex.refresh_from_db()
    assert ex.status == ExerciseStatus.PAUSED
    # Each change is a line of the logbook.
    assert LogEntry.objects.filter(exercise=ex, kind=EntryKind.INFORMATION).count() == 3


def test_players_see_released_stimuli_without_expected_reactions_nor_upcoming(ex):
    clock.start(ex, now=timezone.now() - timedelta(seconds=70))
    run.release_due(ex)  # the e-mail one (offset 60) — locmem backend in tests
    player = link_client(ex.player)
    data = state(player, ex)
    assert [s["id"] for s in data["stimuli"]] == [ex.timeline[0].pk]
    body = str(data)
    assert "RÉACTION-ATTENDUE" not in body
    assert "timeline" not in data
    assert "journaliste" not in body  # the upcoming press stimulus
    page = player.get(reverse("crisis:run_players", args=[ex.pk])).content.decode()
    assert "Écran de rançon" in page and "RÉACTION-ATTENDUE" not in page
    assert "journaliste" not in page
    # Facilitators (and observers) see what is expected.
    facilitator = link_client(ex.facilitator)
    data = state(facilitator, ex)
    assert data["stimuli"][0]["expected"] == "RÉACTION-ATTENDUE-0"
    assert len(data["timeline"]) == 3
    assert player.get(reverse("crisis:run_console", args=[ex.pk])).status_code == 403


def test_state_answers_only_what_is_new_since_the_cursor(ex):
    clock.start(ex)
    player = link_client(ex.player)
    first = state(player, ex)
    cursor = first["cursor"]
    run.add_log_entry(ex, kind=EntryKind.DECISION, text="Activer la cellule", author_name="DG")
    second = state(player, ex, cursor)
    assert [e["text"] for e in second["entries"]] == ["Activer la cellule"]
    assert state(player, ex, second["cursor"])["entries"] == []
    bad = player.get(reverse("crisis:run_state", args=[ex.pk]), {"since": "x"})
    assert bad.status_code == 400


def test_state_query_count_does_not_grow_with_the_exercise(ex):
    clock.start(ex, now=timezone.now() - timedelta(seconds=500))
    facilitator = link_client(ex.facilitator)
    url = reverse("crisis:run_state", args=[ex.pk])
    with CaptureQueriesContext(connection) as small:
        facilitator.get(url)
    run.release_due(ex)
    for i in range(30):
        run.add_log_entry(ex, kind=EntryKind.ACTION, text=f"Action {i}", author_name="DG")
    for i in range(10):
        Stimulus.objects.create(
            exercise=ex, offset_seconds=900 + i, channel="sms", sender="x", content="y"
        )
    with CaptureQueriesContext(connection) as big:
        data = facilitator.get(url).json()
    assert len(data["entries"]) == 33 and len(data["stimuli"]) == 3
    assert len(big) == len(small) <= 4


def test_players_write_to_the_logbook_and_mark_a_milestone(ex):
    clock.start(ex, now=timezone.now() - timedelta(seconds=42))
    player = link_client(ex.player)
    response = player.post(
        reverse("crisis:run_log", args=[ex.pk]),
        {"kind": "decision", "text": "Couper le VPN", "milestone": "isolation"},
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get(exercise=ex, text="Couper le VPN")
    assert entry.participant == ex.player and entry.author_name == "Paul Joueur"
    ex.refresh_from_db()
    assert ex.key_timings["isolation"] == pytest.approx(42, abs=2)
    empty = player.post(reverse("crisis:run_log", args=[ex.pk]), {"kind": "decision", "text": ""})
    assert empty.status_code == 400 and "obligatoire" in empty.content.decode()
    observer = link_client(ex.observer)
    assert (
        observer.post(
            reverse("crisis:run_log", args=[ex.pk]), {"kind": "decision", "text": "x"}
        ).status_code
        == 403
    )


def test_observer_fills_the_grid_and_facilitators_read_it(ex):
    observer = link_client(ex.observer)
    first, second = ex.criteria_list
    url = reverse("crisis:run_grid", args=[ex.pk])
    response = observer.post(
        url,
        {
            f"rating-{first.pk}": "partial",
            f"comment-{first.pk}": "Activation à T+20",
            f"rating-{second.pk}": "bogus",
        },
    )
    assert response.status_code == 400 and "inconnue" in response.content.decode()
    observer.post(url, {f"rating-{first.pk}": "met", f"comment-{first.pk}": "Activée à T+5"})
    assert Observation.objects.get(criterion=first).comment == "Activée à T+5"
    page = link_client(ex.facilitator).get(url).content.decode()
    assert "Activée à T+5" in page and "Olivier Observateur" in page
    assert link_client(ex.player).get(url).status_code == 403


def test_personal_links_expire_and_a_new_link_revokes_the_old_browser(ex):
    client = Client()
    token = participant_links.issue(ex.player)
    client.get(reverse("crisis:run_join", args=[token]))
    url = reverse("crisis:run_players", args=[ex.pk])
    assert client.get(url).status_code == 200
    participant_links.issue(ex.player)  # the facilitator re-issues it
    assert client.get(url).status_code == 302  # back to the login page
    assert Client().get(reverse("crisis:run_join", args=[token])).status_code == 404
    fresh = participant_links.issue(ex.player)
    ex.player.invited_at = timezone.now() - participant_links.LINK_VALIDITY
    ex.player.save()
    assert Client().get(reverse("crisis:run_join", args=[fresh])).status_code == 404


def test_a_link_of_one_exercise_opens_nothing_of_another(world, ex):
    other = run_fixtures.exercise(world.est_b1, title="Exercice de B")
    client = link_client(ex.player)
    # The cookie is bound to its exercise: another exercise asks for a login.
    assert client.get(reverse("crisis:run_state", args=[other.pk])).status_code == 302


def test_another_organisation_gets_404_and_readers_cannot_run_the_clock(world, ex, client_for):
    outsider = client_for(world.outsider)
    for name in ("run_console", "run_players", "run_grid", "run_state"):
        assert outsider.get(reverse(f"crisis:{name}", args=[ex.pk])).status_code == 404
    reader = client_for(world.reader)
    assert reader.get(reverse("crisis:run_players", args=[ex.pk])).status_code == 200
    assert reader.get(reverse("crisis:run_console", args=[ex.pk])).status_code == 403


def test_a_facilitator_releases_a_stimulus_now_from_the_console(ex):
    clock.start(ex)
    facilitator = link_client(ex.facilitator)
    press = ex.timeline[2]
    url = reverse("crisis:run_stimulus", args=[ex.pk, press.pk])
    assert facilitator.post(url, {"action": "release"}).status_code == 302
    assert Stimulus.objects.get(pk=press.pk).status == ReleaseStatus.RELEASED
    page = facilitator.get(reverse("crisis:run_console", args=[ex.pk])).content.decode()
    assert "Un journaliste demande confirmation" in page


def test_a_logged_in_facilitator_keeps_the_console_after_trying_a_players_link(world, ex):
    """The login wins over a participant cookie in the same browser; someone from another GHT
    holding a player's link still gets only the player's console."""
    from tests.conftest import logged_in_client

    facilitator = logged_in_client(world.editor)
    token = participant_links.issue(ex.player)
    assert facilitator.get(reverse("crisis:run_join", args=[token])).status_code == 302
    assert facilitator.get(reverse("crisis:run_console", args=[ex.pk])).status_code == 200

    outsider = logged_in_client(world.outsider)
    token = participant_links.issue(ex.player)
    assert outsider.get(reverse("crisis:run_join", args=[token])).status_code == 302
    assert outsider.get(reverse("crisis:run_players", args=[ex.pk])).status_code == 200
    assert outsider.get(reverse("crisis:run_console", args=[ex.pk])).status_code == 403


def test_a_player_without_an_account_answers_the_hot_debrief_through_the_link(ex):
    from hygie.crisis.models import DebriefAnswer, Exercise
    from hygie.crisis.report import DEBRIEF_KEYS

    clock.start(ex)
    clock.finish(Exercise.objects.get(pk=ex.pk))
    player = link_client(ex.player)
    page = player.get(reverse("crisis:run_players", args=[ex.pk])).content.decode()
    assert reverse("crisis:run_debrief", args=[ex.pk]) in page
    form = player.get(reverse("crisis:run_debrief", args=[ex.pk]))
    assert form.status_code == 200
    answers = dict.fromkeys(DEBRIEF_KEYS, "La cellule s'est réunie vite.")
    assert player.post(reverse("crisis:run_debrief", args=[ex.pk]), answers).status_code == 200
    saved = DebriefAnswer.objects.get(exercise=ex, participant=ex.player)
    assert "La cellule s'est réunie vite." in saved.answers.values()


def test_players_read_the_situation_file_rendered_without_its_html(ex):
    from hygie.crisis.models import Exercise

    Exercise.objects.filter(pk=ex.pk).update(
        situation_file="**CHU A1**, 1 200 lits.\n\n<script>alert(1)</script>"
    )
    page = link_client(ex.player).get(reverse("crisis:run_players", args=[ex.pk]))
    body = page.content.decode()
    assert "<strong>CHU A1</strong>, 1 200 lits." in body
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
