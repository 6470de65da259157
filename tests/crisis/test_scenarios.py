"""The scenario loader: every problem named by line and path, nothing written; version rules;
the five shipped scenarios load and make exercises."""

from __future__ import annotations

import pytest

from hygie.crisis import scenarios
from hygie.crisis.models import Exercise, ExerciseStatus, Level, Scenario

GOOD = """\
slug: essai
version: 1
title: Essai
summary: Un scénario d'essai.
level: beginner
duration_minutes: 60
objectives:
  - id: o1
    text: Réagir.
situation: "Un **hôpital**."
stimuli:
  - offset: "00:30"
    channel: phone
    sender: Standard
    content: Un appel.
  - offset: 5
    channel: email
    sender: SOC
    recipients: [RSSI, DSI]
    subject: Alerte
    content: Un courriel.
    expected: Qualifier.
grid:
  - text: Le RSSI est prévenu.
    objective: o1
"""


def test_a_valid_file_gives_sorted_stimuli_in_seconds():
    spec = scenarios.parse_scenario(GOOD, "essai.yaml")
    stimuli = spec.content["stimuli"]
    assert [s["offset_seconds"] for s in stimuli] == [300, 1800]
    assert stimuli[0]["recipients"] == "RSSI, DSI"
    assert spec.level == Level.BEGINNER


def test_every_problem_is_named_with_its_line_and_path():
    bad = (
        GOOD.replace('offset: "00:30"', 'offset: "0:75"')
        .replace("channel: phone", "channel: pigeon")
        .replace("    subject: Alerte\n", "")
        .replace("objective: o1", "objective: o9")
    )
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.parse_scenario(bad, "essai.yaml")
    lines = caught.value.format_lines()
    assert any(line.startswith("ligne 12 : stimuli[0].offset") for line in lines), lines
    assert any(line.startswith("ligne 13 : stimuli[0].channel") for line in lines), lines
    assert any("stimuli[1].subject" in line and "objet" in line for line in lines), lines
    assert any(line.startswith("ligne 24 : grid[0].objective") for line in lines), lines


@pytest.mark.django_db
def test_a_refused_file_writes_nothing_and_versions_only_go_up():
    outcome = scenarios.save_scenario(scenarios.parse_scenario(GOOD, "essai.yaml"))
    assert outcome.action == "created"
    changed = GOOD.replace("title: Essai", "title: Essai modifié")
    with pytest.raises(scenarios.ScenarioError, match="version"):
        scenarios.save_scenario(scenarios.parse_scenario(changed, "essai.yaml"))
    assert Scenario.objects.get(slug="essai").title == "Essai"
    upgraded = changed.replace("version: 1", "version: 2")
    assert scenarios.save_scenario(scenarios.parse_scenario(upgraded, "essai.yaml")).action == (
        "upgraded"
    )
    with pytest.raises(scenarios.ScenarioError, match="inférieure"):
        scenarios.save_scenario(scenarios.parse_scenario(GOOD, "essai.yaml"))
    assert Scenario.objects.get(slug="essai").version == 2


def test_invalid_yaml_names_its_line():
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.parse_scenario("slug: x\ntitle: [unclosed\n", "x.yaml")
    assert caught.value.problems[0][0] is not None


def test_images_are_refused_in_closed_networks():
    bad = GOOD.replace('situation: "Un **hôpital**."', 'situation: "![plan](http://x/p.png)"')
    with pytest.raises(scenarios.ScenarioError, match="image"):
        scenarios.parse_scenario(bad, "essai.yaml")


@pytest.mark.parametrize(("value", "seconds"), [("01:30", 5400), ("0:05", 300), (45, 2700)])
def test_offsets(value, seconds):
    assert scenarios.parse_offset(value) == seconds
    assert scenarios.format_offset(seconds) == f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


@pytest.mark.parametrize("path", scenarios.builtin_files(), ids=lambda p: p.stem)
def test_shipped_scenarios_meet_the_brief(path):
    spec = scenarios.parse_scenario(path.read_bytes(), path.name)
    content = spec.content
    assert spec.slug == path.stem
    assert 2 <= len(content["objectives"]) <= 3
    assert 8 <= len(content["stimuli"]) <= 15
    assert 60 <= spec.duration_minutes <= 180
    assert any(s["channel"] == "email" for s in content["stimuli"])
    assert all(s["expected"] for s in content["stimuli"])
    assert 6 <= len(content["grid"]) <= 10
    assert all(c["objective"] for c in content["grid"])
    assert content["situation"]


def test_five_scenarios_spread_over_the_levels():
    levels = [
        scenarios.parse_scenario(p.read_bytes(), p.name).level for p in scenarios.builtin_files()
    ]
    assert len(levels) == 5
    assert set(levels) == set(Level.values)


@pytest.mark.django_db
def test_migrate_loaded_the_shipped_scenarios_and_each_makes_an_exercise(world):
    assert set(Scenario.objects.filter(active=True).values_list("slug", flat=True)) >= {
        p.stem for p in scenarios.builtin_files()
    }
    for scenario in Scenario.objects.filter(active=True):
        exercise = scenarios.create_exercise_from(scenario, world.est_a1, actor=world.editor)
        assert exercise.organisation == world.est_a1
        assert exercise.status == ExerciseStatus.DESIGN
        assert exercise.title == scenario.title
        assert exercise.stimuli.count() == len(scenario.content["stimuli"])
        assert exercise.criteria.count() == len(scenario.content["grid"])
        assert exercise.objectives == scenario.content["objectives"]
        assert exercise.situation_file == scenario.content["situation"]
    assert Exercise.objects.count() == Scenario.objects.filter(active=True).count()


@pytest.mark.django_db
def test_a_scenario_whose_file_is_gone_is_deactivated():
    Scenario.objects.create(slug="retire", title="Retiré", level="beginner", digest="x")
    outcomes = scenarios.load_builtin_scenarios()
    assert {o.slug: o.action for o in outcomes}["retire"] == "deactivated"
    assert not Scenario.objects.get(slug="retire").active
