"""The policy service: numbered versions, activation only when valid, tests run by the engine."""

from __future__ import annotations

import pytest

from hygie.access import policies
from hygie.access.pdp import engine
from tests.access import policy_fixtures as fx

pytestmark = pytest.mark.django_db


def test_versions_are_numbered_and_the_last_valid_one_is_active(world):
    app = fx.application(world)
    second = policies.save_version(app, "permit (principal, action, resource);", user=world.editor)
    assert second.number == 2 and app.active_policy == second


def test_an_invalid_text_is_refused_and_the_previous_version_stays(world, monkeypatch):
    app = fx.application(world)
    monkeypatch.setattr(engine, "validate", lambda text: [engine.PolicyProblem(1, 5, "bad")])
    with pytest.raises(engine.PolicyError):
        policies.save_version(app, "permi", user=world.editor)
    app.refresh_from_db()
    assert app.active_policy.number == 1 and app.policy_versions.count() == 1


def test_request_document_becomes_an_engine_request():
    request = policies.to_request(fx.NURSE_REQUEST)
    assert request.principal.type == "User" and ("Unit", "CARDIO") in request.principal.parents
    assert request.resource.attrs["patient"].id == "P0001"
    patient = next(e for e in request.entities if e.type == "Patient")
    assert patient.parents == (("Unit", "CARDIO"),)
    assert request.context["care_relationship"] is True and request.context["hour"] == 10


def test_starter_policy_lets_the_nurse_in_and_keeps_the_other_unit_out(world):
    app = fx.application(world)
    fx.policy_test_case(world)
    other = {**fx.NURSE_REQUEST, "context": {"mfa": True, "zone": "care", "device_managed": True}}
    app.policy_tests.create(name="Autre unité", request=other, expected="deny")
    results = policies.run_tests(app)
    assert all(policies.passed(test, result) for test, result in results)
