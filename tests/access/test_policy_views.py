"""What the RSSI sees and does to protect an application: create it (secret shown once), edit
routes and zones as tables, switch the mode, version policies, run tests, read the log."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from hygie.access import policies
from hygie.access.models import Mode, NetworkZone, PolicyVersion, ProtectedApplication, Route
from hygie.access.pdp import engine
from hygie.assessments.models import Fact
from hygie.core.models import AuditEvent
from tests.access import policy_fixtures as fx
from tests.clients import browser

pytestmark = pytest.mark.django_db


def _create(w, client, **extra):
    data = {
        "name": "PACS",
        "slug": "pacs-a1",
        "upstream": "http://10.1.2.9",
        "failure_mode": "closed",
        "identity_source": "headers",
        "user_header": "X-Remote-User",
        "mfa_header": "X-Auth-MFA",
        "token_audience": "",
        "default_sensitivity": 2,
        "log_retention_days": 365,
        "token_key": "",
        **extra,
    }
    return client.post(reverse("access:application_create", args=[w.est_a1.pk]), data)


def test_creation_shows_the_generated_secret_once_and_starts_in_shadow(world):
    rssi = browser(world.editor)
    response = _create(world, rssi)
    app = ProtectedApplication.objects.get(slug="pacs-a1")
    assert response.status_code == 200
    assert app.proxy_secret and len(app.proxy_secret) >= 40
    assert app.proxy_secret in response.content.decode()
    assert app.mode == Mode.SHADOW
    assert app.active_policy.number == 1
    assert app.active_policy.text == policies.starter_policy()
    detail = rssi.get(reverse("access:application_detail", args=[app.pk])).content.decode()
    assert app.proxy_secret not in detail
    fact = Fact.objects.get(organisation=world.est_a1, source="access.zero_trust")
    assert fact.value == 0.0 and "1 applications" in fact.summary

    regenerated = rssi.post(reverse("access:application_secret", args=[app.pk]))
    app.refresh_from_db()
    assert app.proxy_secret in regenerated.content.decode()
    assert AuditEvent.objects.filter(action="access.application.secret_regenerated").exists()


def test_token_key_is_write_only(world):
    rssi = browser(world.editor)
    _create(world, rssi, identity_source="token", token_key="clé-hs256-très-secrète")
    app = ProtectedApplication.objects.get(slug="pacs-a1")
    assert app.token_key == "clé-hs256-très-secrète"
    edit = rssi.get(reverse("access:application_edit", args=[app.pk])).content.decode()
    assert "clé-hs256-très-secrète" not in edit
    # An empty key field keeps the stored key.
    data = {
        "name": "PACS bis",
        "slug": "pacs-a1",
        "upstream": "http://10.1.2.9",
        "failure_mode": "open",
        "identity_source": "token",
        "user_header": "X-Remote-User",
        "mfa_header": "X-Auth-MFA",
        "default_sensitivity": 2,
        "log_retention_days": 30,
        "token_key": "",
    }
    assert rssi.post(reverse("access:application_edit", args=[app.pk]), data).status_code == 302
    app.refresh_from_db()
    assert app.name == "PACS bis" and app.failure_mode == "open"
    assert app.token_key == "clé-hs256-très-secrète"


def test_mode_switch_is_journalled_and_updates_the_evidence(world):
    app = fx.application(world)
    rssi = browser(world.editor)
    rssi.post(reverse("access:application_mode", args=[app.pk]), {"mode": "enforce"})
    app.refresh_from_db()
    assert app.mode == Mode.ENFORCE
    event = AuditEvent.objects.get(action="access.application.mode")
    assert event.details == {"from": "shadow", "to": "enforce"}
    assert Fact.objects.get(organisation=world.est_a1, source="access.zero_trust").value == 100.0
    # A reader sees the application but cannot switch it.
    assert (
        browser(world.reader)
        .post(reverse("access:application_mode", args=[app.pk]), {"mode": "shadow"})
        .status_code
        == 403
    )


def test_routes_table_names_the_bad_row_and_saves_nothing(world):
    app = fx.application(world)
    url = reverse("access:application_routes", args=[app.pk])
    route = app.routes.get()
    data = {
        "routes-TOTAL_FORMS": "3",
        "routes-INITIAL_FORMS": "1",
        "routes-MIN_NUM_FORMS": "0",
        "routes-MAX_NUM_FORMS": "200",
        "routes-0-id": str(route.pk),
        "routes-0-methods": "GET,HEAD",
        "routes-0-pattern": "/patients/<patient>/",
        "routes-0-action": "read",
        "routes-0-resource_type": "Record",
        "routes-0-sensitivity": "3",
        "routes-1-methods": "POST",
        "routes-1-pattern": "/admin/<user>/",
        "routes-1-action": "admin",
        "routes-1-resource_type": "Page",
        "routes-1-sensitivity": "",
    }
    rssi = browser(world.editor)
    response = rssi.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rien n'a été enregistré" in body
    assert "Ligne 2, Chemin" in body and "&lt;user&gt;" in body
    assert list(Route.objects.filter(application=app).values_list("pattern", flat=True)) == [
        "/dossiers/<patient>/"
    ]
    data["routes-1-pattern"] = "/admin/<id>/"
    assert rssi.post(url, data).status_code == 302
    assert [(r.pattern, r.action, r.position) for r in app.routes.all()] == [
        ("/patients/<patient>/", "read", 0),
        ("/admin/<id>/", "admin", 1),
    ]


def test_zones_are_validated_cidrs_on_their_own_page(world):
    url = reverse("access:zones", args=[world.est_a1.pk])
    data = {
        "zones-TOTAL_FORMS": "2",
        "zones-INITIAL_FORMS": "0",
        "zones-MIN_NUM_FORMS": "0",
        "zones-MAX_NUM_FORMS": "200",
        "zones-0-cidr": "10.20.0.0/16",
        "zones-0-zone": "care",
        "zones-0-label": "Réseau de soins",
        "zones-1-cidr": "10.300.0.0/16",
        "zones-1-zone": "admin",
        "zones-1-label": "",
    }
    rssi = browser(world.editor)
    body = rssi.post(url, data).content.decode()
    assert "Ligne 2, Plage (CIDR)" in body and "10.300.0.0/16" in body
    assert not NetworkZone.objects.exists()
    data["zones-1-cidr"] = "10.30.1.7/24"  # host bits: normalised to the network
    assert rssi.post(url, data).status_code == 302
    assert sorted(NetworkZone.objects.values_list("cidr", "zone")) == [
        ("10.20.0.0/16", "care"),
        ("10.30.1.0/24", "admin"),
    ]
    assert browser(world.reader).post(url, data).status_code == 403


def test_policy_versions_diff_and_rollback(world):
    app = fx.application(world)
    rssi = browser(world.editor)
    new_text = (
        app.active_policy.text
        + '\n@id("ajout")\nforbid (principal, action, resource)\nwhen { context.zone == "internet" };\n'
    )
    response = rssi.post(
        reverse("access:policy", args=[app.pk]), {"text": new_text, "comment": "internet"}
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.active_policy.number == 2
    diff = rssi.get(reverse("access:policy_version", args=[app.pk, 2])).content.decode()
    assert "<ins>+@id(&quot;ajout&quot;)</ins>" in diff
    rssi.post(reverse("access:policy_activate", args=[app.pk, 1]))
    app.refresh_from_db()
    assert app.active_policy.number == 1
    assert AuditEvent.objects.filter(action="access.policy.rollback").exists()
    assert PolicyVersion.objects.filter(application=app).count() == 2


def test_invalid_policy_shows_line_and_column_and_keeps_the_active_version(world, monkeypatch):
    """The refusal path of the interface. The stand-in engine accepts everything, so this test
    gives it one problem; test_invalid_cedar_is_refused below uses the real validator."""
    app = fx.application(world)
    monkeypatch.setattr(
        engine,
        "validate",
        lambda text: [engine.PolicyProblem(2, 9, "unexpected token `permitt`")],
    )
    response = browser(world.editor).post(
        reverse("access:policy", args=[app.pk]), {"text": "// v2\npermit (permitt", "comment": ""}
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "Ligne 2, colonne 9" in body and "unexpected token" in body
    assert "   2  permit (permitt" in body
    app.refresh_from_db()
    assert app.active_policy.number == 1 and app.policy_versions.count() == 1


def test_invalid_cedar_is_refused(world):
    app = fx.application(world)
    response = browser(world.editor).post(
        reverse("access:policy", args=[app.pk]),
        {"text": 'permit (principal, action == Action::"lire", resource)\nwhen { context.nope };'},
    )
    assert response.status_code == 422
    assert "Ligne " in response.content.decode()
    app.refresh_from_db()
    assert app.active_policy.number == 1


def test_test_cases_are_edited_as_fields_and_run_from_the_interface(world):
    app = fx.application(world)
    rssi = browser(world.editor)
    fields = {
        "name": "Infirmière hors unité",
        "expected": "deny",
        "principal_id": "inf-durand",
        "role": "infirmier",
        "job_family": "soignant",
        "service": "Cardiologie",
        "units": "CARDIO, USIC",
        "action": "read",
        "resource_type": "Record",
        "resource_id": "P0002",
        "patient_unit": "PNEUMO",
        "sensitivity": "3",
        "mfa": "on",
        "zone": "care",
        "hour": "14",
        "weekday": "2",
        "device_managed": "on",
    }
    assert rssi.post(reverse("access:policy_test_create", args=[app.pk]), fields).status_code == 302
    test = app.policy_tests.get()
    assert test.request["principal"]["units"] == ["CARDIO", "USIC"]
    assert (
        test.request["context"]["hour"] == 14
        and test.request["context"]["care_relationship"] is False
    )
    page = rssi.get(reverse("access:policy_tests", args=[app.pk])).content.decode()
    assert "Infirmière hors unité" in page and "Contre la version active" in page
    # The stand-in engine denies everything: a "deny" case passes.
    assert "réussi" in page
    # Bad input names the field.
    fields["hour"] = "25"
    body = rssi.post(reverse("access:policy_test_create", args=[app.pk]), fields).content.decode()
    assert "inférieure ou égale à 23" in body
    # Editing shows the stored values in the fields.
    edit = rssi.get(reverse("access:policy_test_edit", args=[app.pk, test.pk])).content.decode()
    assert 'value="CARDIO, USIC"' in edit


def test_what_if_against_a_draft(world):
    app = fx.application(world)
    data = {
        **{k: v for k, v in fx.NURSE_REQUEST["context"].items() if v is not True},
        "principal_id": "inf-durand",
        "action": "read",
        "resource_type": "Record",
        "resource_id": "P0001",
        "sensitivity": "2",
        "zone": "care",
        "hour": "10",
        "weekday": "1",
        "mfa": "on",
        "care_relationship": "on",
        "draft": "permit (principal, action, resource);",
    }
    body = (
        browser(world.reader).post(reverse("access:what_if", args=[app.pk]), data).content.decode()
    )
    assert 'data-testid="what-if-result"' in body and "brouillon" in body


def test_decision_log_filters_detail_and_exports(world):
    app = fx.application(world)
    fx.decision(world, allowed=True, enforced=True, principal="med-martin")
    shadow = fx.decision(world, allowed=False, enforced=False, principal="inf-durand")
    fx.decision(world, allowed=False, enforced=True, principal="adm-x", break_glass=True)
    reader = browser(world.reader)
    url = reverse("access:decisions", args=[world.ght_a.pk])
    body = reader.get(url, {"outcome": "shadow"}).content.decode()
    assert "inf-durand" in body and "med-martin" not in body and "adm-x" not in body
    body = reader.get(url, {"break_glass": "on"}).content.decode()
    assert "adm-x" in body and "inf-durand" not in body
    detail = reader.get(reverse("access:decision", args=[shadow.pk])).content.decode()
    assert (
        "refusé par la politique, laissé passer" in detail
        and "&quot;zone&quot;: &quot;care&quot;" in detail
    )

    export = reader.get(
        reverse("access:app_decisions_export", args=[app.pk, "jsonl"]), {"outcome": "all_denied"}
    )
    assert export.streaming
    rows = [json.loads(line) for line in b"".join(export.streaming_content).decode().splitlines()]
    assert {r["principal"] for r in rows} == {"inf-durand", "adm-x"}
    assert AuditEvent.objects.filter(action="access.decisions.exported").exists()

    syslog = reader.get(reverse("access:decisions_export", args=[world.ght_a.pk, "syslog"]))
    lines = b"".join(syslog.streaming_content).decode().splitlines()
    assert len(lines) == 3 and all(line.startswith(("<84>1 ", "<86>1 ")) for line in lines)


def test_shadow_report_counts_what_enforcement_would_deny(world):
    app = fx.application(world)
    for _ in range(3):
        fx.decision(world, allowed=False, enforced=False)
    fx.decision(world, allowed=True, enforced=True)
    body = (
        browser(world.editor).get(reverse("access:shadow_report", args=[app.pk])).content.decode()
    )
    assert "4 décisions, dont 3 refus non appliqués (75,0 %)" in body
    assert "GET,HEAD /dossiers/&lt;patient&gt;/" in body


def test_application_list_counts_last_day_and_hides_other_tenants(world):
    fx.application(world)
    fx.decision(world, allowed=True, enforced=True)
    fx.decision(world, allowed=False, enforced=True)
    body = (
        browser(world.reader)
        .get(reverse("access:applications", args=[world.ght_a.pk]))
        .content.decode()
    )
    assert "Dossier patient A1" in body
    assert (
        browser(world.outsider)
        .get(reverse("access:applications", args=[world.ght_a.pk]))
        .status_code
        == 404
    )


def test_deleting_an_application_takes_its_log_and_updates_the_evidence(world):
    app = fx.application(world, mode="enforce")
    fx.decision(world)
    rssi = browser(world.editor)
    url = reverse("access:application_delete", args=[app.pk])
    rssi.post(url, {"confirm": "mauvais"})
    assert ProtectedApplication.objects.filter(pk=app.pk).exists()
    assert rssi.post(url, {"confirm": app.slug}).status_code == 302
    assert not ProtectedApplication.objects.filter(pk=app.pk).exists()
    assert Fact.objects.get(organisation=world.est_a1, source="access.zero_trust").value == 0.0


def test_another_tenants_test_case_is_not_reached_through_ones_own_application(world):
    """An RSSI of A1 names her own application with a test case of another GHT's application:
    404, and the case is neither shown nor changed nor deleted."""
    from hygie.access.models import PolicyTest

    own = fx.application(world)
    other = fx.application(world, slug="dpi-b1", org=world.est_b1)
    foreign = PolicyTest.objects.create(
        application=other, name="Cas de B1", request=fx.NURSE_REQUEST, expected="allow"
    )
    rssi = browser(world.editor)
    edit = reverse("access:policy_test_edit", args=[own.pk, foreign.pk])
    assert rssi.get(edit).status_code == 404
    assert rssi.post(edit, {"name": "Volé"}).status_code == 404
    delete = reverse("access:policy_test_delete", args=[own.pk, foreign.pk])
    assert rssi.post(delete).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Cas de B1"


def test_odd_query_parameters_and_dates_get_an_answer_not_an_error(world):
    """Digits that are not ASCII numbers, a year the database cannot hold: the page still
    answers (the default, or the field named), never a server error."""
    app = fx.application(world)
    rssi = browser(world.editor)
    version = rssi.get(reverse("access:policy_version", args=[app.pk, 1]) + "?against=²")
    assert version.status_code == 200
    report = rssi.get(reverse("access:shadow_report", args=[app.pk]) + "?days=²")
    assert report.status_code == 200
    for name in ("access:decisions", "access:decisions_export"):
        args = [world.est_a1.pk] + (["jsonl"] if name.endswith("export") else [])
        response = rssi.get(reverse(name, args=args) + "?start=0001-01-01T00:00")
        # The list shows the form with the field's error; the export refuses (400).
        assert response.status_code == (400 if name.endswith("export") else 200)
        assert "Date attendue entre 1900 et 2199." in response.content.decode()


def test_an_unreadable_public_key_is_refused_when_saved(world):
    rssi = browser(world.editor)
    response = _create(
        world,
        rssi,
        identity_source="token",
        token_key="-----BEGIN PUBLIC KEY-----\nce n'est pas une clé\n-----END PUBLIC KEY-----",
    )
    assert response.status_code == 200
    assert "Clé publique PEM illisible" in response.content.decode()
    assert not ProtectedApplication.objects.filter(slug="pacs-a1").exists()
