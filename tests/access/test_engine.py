"""The decision engine: validation with positions, the starter policy's behaviour, and the
same answers as Cedar itself on the starter policy."""

import cedarpy
import pytest

from hygie.access.pdp import engine
from hygie.access.pdp.engine import (
    DEFAULT_POLICY,
    Engine,
    Entity,
    EntityRef,
    PolicyError,
    Request,
    to_cedarpy,
    validate,
)

POLE = Entity("Unit", "pole-coeur")
CARDIO = Entity("Unit", "cardio", parents=(("Unit", "pole-coeur"),))
PNEUMO = Entity("Unit", "pneumo")


def user(uid="nurse", units=(("Unit", "cardio"),), admin=False, role="infirmier"):
    attrs = {"role": role, "job_family": "soins", "service": "cardio", "admin": admin}
    return Entity("User", uid, attrs, tuple(units))


def record(patient_unit="cardio", vip=False, sensitivity=2):
    patient = Entity("Patient", "p1", {"vip": vip}, (("Unit", patient_unit),))
    return Entity("Record", "r1", {"patient": patient, "sensitivity": sensitivity})


def context(**overrides):
    values = {
        "mfa": False,
        "zone": "care",
        "hour": 10,
        "weekday": 2,
        "device_managed": True,
        "device_compliant": True,
        "break_glass": False,
        "care_relationship": False,
    }
    values.update(overrides)
    return values


def request(principal=None, action="read", resource=None, **ctx):
    return Request(
        principal or user(),
        action,
        resource or record(),
        context(**ctx),
        (POLE, CARDIO, PNEUMO),
    )


@pytest.fixture(scope="module")
def default():
    return Engine(DEFAULT_POLICY)


def cedar(req, text=DEFAULT_POLICY):
    cedar_request, entities = to_cedarpy(req)
    if text not in _POLICY_SETS:
        _POLICY_SETS[text] = cedarpy.PolicySet.from_str(text)
    return cedarpy.is_authorized(
        cedar_request, _POLICY_SETS[text], entities, schema=engine._schema_handle()
    )


_POLICY_SETS = {}


def test_default_policy_is_valid_and_compiled(default):
    assert validate(DEFAULT_POLICY) == []
    assert default.compiled
    assert "relation-de-soins" in default.ids


def test_nurse_reaches_her_units_patient(default):
    result = default.decide(request(care_relationship=True))
    assert result.allowed
    assert result.policies == ("relation-de-soins",)


def test_nurse_is_denied_another_units_patient(default):
    result = default.decide(request(resource=record(patient_unit="pneumo")))
    assert not result.allowed
    assert result.policies == ()  # nothing permits it: default deny


def test_break_the_glass_lets_her_read_but_not_write(default):
    assert default.decide(request(break_glass=True)).policies == ("bris-de-glace",)
    assert not default.decide(request(action="write", break_glass=True)).allowed


def test_admin_without_mfa_from_internet_is_denied_by_both_rules(default):
    admin = user("admin", admin=True, role="administrateur")
    page = Entity("Page", "settings", {"sensitivity": 3})
    result = default.decide(request(admin, "admin", page, zone="internet"))
    assert not result.allowed
    assert result.policies == ("admin-sans-mfa", "admin-depuis-internet")
    assert default.decide(request(admin, "admin", page, mfa=True, zone="admin")).allowed
    assert not default.decide(request(admin, "admin", page, mfa=True, zone="internet")).allowed


def test_unmanaged_device_never_sees_patient_data(default):
    result = default.decide(request(care_relationship=True, device_managed=False))
    assert not result.allowed
    assert result.policies == ("poste-non-gere",)


def test_vip_record_needs_mfa(default):
    vip = record(vip=True)
    assert default.decide(request(resource=vip, care_relationship=True)).policies == (
        "vip-sans-mfa",
    )
    assert default.decide(request(resource=vip, care_relationship=True, mfa=True)).allowed


def test_ordinary_pages_are_readable_sensitive_ones_are_not(default):
    assert default.decide(request(resource=Entity("Page", "home", {"sensitivity": 1}))).allowed
    assert not default.decide(request(resource=Entity("Page", "hr", {"sensitivity": 4}))).allowed


def test_a_request_outside_the_schema_is_refused_like_cedar(default):
    bad = Request(user(), "read", record(), {"mfa": True}, ())
    result = default.decide(bad)
    assert not result.allowed and result.errors
    assert not cedar(bad).allowed


def test_same_answers_as_cedar_on_the_starter_policy(default):
    cases = 0
    for action in engine.ACTIONS:
        for resource in (record(), record("pneumo", vip=True, sensitivity=4), None):
            resource = resource or Entity("Page", "pg", {"sensitivity": 2})
            for admin in (False, True):
                for zone in engine.ZONES:
                    for flags in range(16):
                        req = request(
                            user(admin=admin),
                            action,
                            resource,
                            zone=zone,
                            mfa=bool(flags & 1),
                            device_managed=bool(flags & 2),
                            break_glass=bool(flags & 4),
                            care_relationship=bool(flags & 8),
                        )
                        mine, theirs = default.decide(req), cedar(req)
                        assert mine.allowed == theirs.allowed, req
                        assert set(mine.policies) == {
                            theirs.diagnostics.id_annotations_by_reason[r]
                            for r in theirs.diagnostics.reasons
                        }, req
                        cases += 1
    assert cases == 2400


def test_the_fallback_to_cedarpy_gives_the_same_result():
    text = DEFAULT_POLICY + '\n@id("ip")\nforbid (principal, action, resource)\n'
    text += 'when { ip("10.0.0.1").isLoopback() };\n'
    fallback = Engine(text)
    assert not fallback.compiled
    result = fallback.decide(request(care_relationship=True))
    assert result.allowed and result.policies == ("relation-de-soins",)


def test_an_error_makes_the_policy_not_apply_and_is_reported():
    text = (
        '@id("overflow")\npermit (principal, action, resource is Page)\n'
        "when { resource.sensitivity * 9223372036854775807 > 0 };\n"
        '@id("fine")\npermit (principal, action, resource is Page);\n'
        '@id("missing-patient")\nforbid (principal, action, resource is Record)\n'
        "when { resource.patient.vip };\n"
    )
    compiled = Engine(text)
    page = request(resource=Entity("Page", "pg", {"sensitivity": 2}))
    result = compiled.decide(page)
    assert result.allowed and result.policies == ("fine",)
    assert len(result.errors) == 1 and result.errors[0].startswith("overflow:")
    # The patient is referenced but not known to the decision: the forbid errors, nothing
    # permits a record, denied — as Cedar says.
    orphan = Entity("Record", "r9", {"patient": EntityRef("Patient", "p9"), "sensitivity": 1})
    result = compiled.decide(request(resource=orphan))
    assert not result.allowed
    assert [e.split(":")[0] for e in result.errors] == ["missing-patient"]
    assert cedar(request(resource=orphan), text).diagnostics.errors


def test_syntax_error_has_its_line_and_column():
    text = '@id("a")\npermit (principal, action, resource)\nwhen { context.mfa && };\n'
    (problem,) = validate(text)
    assert (problem.line, problem.column) == (3, 23)
    assert "syntaxe" in problem.message
    with pytest.raises(PolicyError) as raised:
        Engine(text)
    assert "ligne 3, colonne 23" in str(raised.value)


def test_schema_error_points_at_the_unknown_attribute():
    text = DEFAULT_POLICY + '\n@id("oops")\npermit (principal, action, resource)\n'
    text += "when { principal.grade == 3 };\n"
    (problem,) = validate(text)
    lines = text.splitlines()
    assert lines[problem.line - 1][problem.column - 1 :].startswith("grade")
    assert "oops" in problem.message and "grade" in problem.message


def test_unknown_action_and_duplicate_id_are_refused():
    problems = validate('permit (principal, action == Action::"fly", resource);')
    assert any("fly" in p.message for p in problems)
    duplicate = '@id("a")\npermit (principal, action, resource);\n@id("a")\nforbid (principal, action, resource);\n'
    (problem,) = validate(duplicate)
    assert problem.line == 3 and "déjà" in problem.message


def test_empty_policy_is_refused():
    assert validate("// nothing\n")[0].message.startswith("La politique est vide")
