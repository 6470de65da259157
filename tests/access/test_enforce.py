"""The decision endpoints over HTTP (Django test client): proxy authentication, identity,
mode, decision headers, decision log, and the inputs Hygie builds for the policy."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hygie.access.models import BreakGlass, Decision, IdentitySource, Mode
from hygie.access.pdp import context as ctx
from hygie.access.pdp import log, service
from hygie.access.pdp.engine import EntityRef, Result
from hygie.core.models import AuditEvent
from tests.access.enforce_fixtures import nginx_headers

pytestmark = pytest.mark.django_db


def nginx(client, slug="dpi", **headers):
    return client.get(reverse("access:authz_nginx", args=[slug]), **nginx_headers(**headers))


class CareEngine:
    """The starter policy's patient-data rule, for the plumbing of an allowed request
    (the real engine arrives with pdp-core)."""

    def __init__(self, text):
        pass

    def decide(self, request):
        c = request.context
        if c["care_relationship"] or c["break_glass"]:
            return Result(True, ("care-relationship",) if c["care_relationship"] else ("bg",))
        return Result(False)


def test_unknown_application_is_404_and_bad_secret_403_journalled(ehr):
    client = Client()
    assert nginx(client, slug="inconnue").status_code == 404
    refused = nginx(client, secret="mauvais")
    assert refused.status_code == 403 and refused.content == b""
    assert nginx(client, secret=None).status_code == 403
    events = AuditEvent.objects.filter(action="access.proxy_refused")
    assert events.count() == 1  # once a minute per application, not once per request
    assert events.get().details["why"] == "bad secret"
    assert not log.waiting()  # a refused proxy is not a decision


def test_no_identity_is_401_and_logged(ehr):
    response = nginx(Client(), user=None)
    assert response.status_code == 401 and response.content == b""
    log.flush()
    decision = Decision.objects.get()
    assert decision.principal == "" and not decision.allowed and decision.enforced
    assert "X-Remote-User" in decision.errors[0]


def test_enforce_mode_denies_with_decision_headers_and_a_log_row(ehr):
    response = nginx(Client(), uri="/dossiers/P200/")
    assert response.status_code == 403
    assert response["X-Hygie-Decision"] == "deny"
    assert response["X-Hygie-Enforced"] == "true"
    assert response.content == b""  # nginx reads no body
    assert log.flush() == 1
    decision = Decision.objects.get()
    assert (decision.principal, decision.action) == ("inf.dupont", "read")
    assert decision.resource.startswith('Record::"P200')
    assert decision.inputs["context"]["care_relationship"] is False
    assert decision.inputs["context"]["zone"] == "care"
    assert decision.policy_version == 1


def test_shadow_mode_lets_the_denial_through_and_logs_it(ehr):
    ehr.app.mode = Mode.SHADOW
    ehr.app.save()
    response = nginx(Client(), uri="/dossiers/P200/")
    assert response.status_code == 200
    assert response["X-Hygie-Decision"] == "deny"
    assert response["X-Hygie-Enforced"] == "false"
    log.flush()
    decision = Decision.objects.get()
    assert not decision.allowed and not decision.enforced
    # Shadow mode does not break the application when the identity is missing either.
    assert nginx(Client(), user=None).status_code == 200


def test_allowed_request_answers_200_with_the_deciding_policy(ehr, monkeypatch):
    monkeypatch.setattr(service, "Engine", CareEngine)
    response = nginx(Client(), uri="/dossiers/P100/")
    assert response.status_code == 200
    assert response["X-Hygie-Decision"] == "allow"
    assert response["X-Hygie-Policies"] == "care-relationship"
    assert response["X-Hygie-User"] == "inf.dupont"
    assert nginx(Client(), uri="/dossiers/P200/").status_code == 403


def test_envoy_endpoint_appends_the_original_path_and_method(ehr, monkeypatch):
    monkeypatch.setattr(service, "Engine", CareEngine)
    client = Client()
    base = "/acces/authz/envoy/dpi"
    headers = nginx_headers()
    allowed = client.get(base + "/dossiers/P100/?onglet=notes", **headers)
    assert allowed.status_code == 200 and allowed["X-Hygie-Decision"] == "allow"
    # A POST is not the route's GET: an unmapped write, denied.
    assert client.post(base + "/dossiers/P100/", **headers).status_code == 403
    denied = client.get(base + "/dossiers/P200/", **headers)
    assert denied.status_code == 403 and denied.content == b"denied\n"
    assert client.get(base + "/dossiers/P200/", **nginx_headers(user=None)).status_code == 401
    assert client.get(base + "/", **nginx_headers(secret="x")).status_code == 403
    log.flush()
    first, second = Decision.objects.order_by("id")[:2]
    assert first.inputs["path"] == "/dossiers/P100/?onglet=notes" and first.allowed
    assert (second.inputs["method"], second.action, second.allowed) == ("POST", "write", False)


def _request(app, **kwargs):
    return ctx.build_request(
        app,
        ctx.HttpInputs.from_headers(
            {k[5:].replace("_", "-"): v for k, v in nginx_headers(**kwargs).items()}
        ),
    )


def test_the_request_carries_what_the_policy_needs(ehr):
    request = _request(ehr.app, uri="/dossiers/P100/")
    assert request.principal.attrs == {
        "role": "",
        "job_family": "soignant",
        "service": "Cardiologie",
        "admin": False,
    }
    assert request.principal.parents == (("Unit", "Cardiologie"),)
    assert request.resource.type == "Record"
    assert request.resource.attrs == {"patient": EntityRef("Patient", "P100"), "sensitivity": 3}
    patient = next(e for e in request.entities if e.type == "Patient")
    assert patient.parents == (("Unit", "Cardiologie"),)
    c = request.context
    assert c["care_relationship"] and not c["break_glass"] and not c["mfa"]
    assert (c["zone"], c["device_managed"], c["device_compliant"]) == ("care", True, True)
    local = timezone.localtime()
    assert (c["hour"], c["weekday"]) == (local.hour, local.isoweekday())
    other = _request(ehr.app, uri="/dossiers/P200/", ip="10.99.0.1", device="PC-OLD-02", mfa="1")
    assert not other.context["care_relationship"]
    assert other.context["zone"] == "office"  # the GHT's range, less specific
    assert other.context["mfa"] is True
    assert (other.context["device_managed"], other.context["device_compliant"]) == (False, False)
    assert _request(ehr.app, ip="203.0.113.9").context["zone"] == "internet"
    # The patient who left yesterday is no longer in the unit.
    assert not _request(ehr.app, uri="/dossiers/P300/").context["care_relationship"]


def test_care_team_membership_and_todays_appointment_give_a_care_relationship(ehr):
    now = timezone.now()
    from hygie.access.models import CareRelation

    assert not _request(ehr.app, uri="/dossiers/P200/").context["care_relationship"]
    CareRelation.objects.create(
        organisation=ehr.est_a1,
        kind="team",
        user_id="inf.dupont",
        unit="Pneumologie",
        starts_at=now - dt.timedelta(hours=1),
    )
    team = _request(ehr.app, uri="/dossiers/P200/")  # the save dropped the cache
    assert team.context["care_relationship"]
    assert ("Unit", "Pneumologie") in team.principal.parents
    CareRelation.objects.create(
        organisation=ehr.est_a1,
        kind="appointment",
        user_id="adm.martin",
        patient_id="P300",
        starts_at=now,
    )
    assert _request(ehr.app, user="adm.martin", uri="/dossiers/P300/").context["care_relationship"]


def test_administrator_page_and_unmapped_paths(ehr):
    admin = _request(ehr.app, user="adm.martin", uri="/admin/", ip="203.0.113.9")
    assert admin.action == "admin" and admin.resource.type == "Page"
    assert admin.principal.attrs["admin"] is True
    assert admin.context["zone"] == "internet" and admin.context["mfa"] is False
    page = _request(ehr.app, uri="/aide/contact", method="POST")
    assert (page.action, page.resource.type, page.resource.id) == ("write", "Page", "/aide/contact")
    assert page.resource.attrs == {"sensitivity": ehr.app.default_sensitivity}


def test_active_break_glass_reaches_the_context_for_that_patient_only(ehr):
    now = timezone.now()
    BreakGlass.objects.create(
        application=ehr.app,
        principal="inf.dupont",
        resource='Patient::"P200"',
        reason="Arrêt cardiaque en salle",
        started_at=now,
        expires_at=now + dt.timedelta(hours=4),
    )
    assert _request(ehr.app, uri="/dossiers/P200/").context["break_glass"]
    assert not _request(ehr.app, uri="/dossiers/P300/").context["break_glass"]
    assert not _request(ehr.app, user="autre", uri="/dossiers/P200/").context["break_glass"]


def _token(key, alg="HS256", **claims):
    claims.setdefault("sub", "inf.dupont")
    claims.setdefault("exp", int(timezone.now().timestamp()) + 300)
    return jwt.encode(claims, key, algorithm=alg)


def test_signed_tokens_hs256_and_es256_with_audience_expiry_and_mfa(ehr):
    app = ehr.app
    app.identity_source = IdentitySource.TOKEN
    app.token_key = "clé-partagée-du-fournisseur-d-identité-32o"
    app.token_audience = "dpi"
    app.save()
    client = Client()

    def ask(token):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        return nginx(client, user=None, **auth)

    good = _token(app.token_key, aud="dpi", amr=["pwd", "otp"])
    identified = ask(good)  # identified, then decided by the starter policy
    assert identified.status_code in (200, 403) and identified["X-Hygie-User"] == "inf.dupont"
    assert ask(None).status_code == 401
    assert ask(_token(app.token_key, aud="autre")).status_code == 401
    assert ask(_token(app.token_key, aud="dpi", exp=1)).status_code == 401
    assert ask(_token("une-autre-clé-de-signature-32-octets", aud="dpi")).status_code == 401
    log.flush()
    first = Decision.objects.order_by("id").first()
    assert first.principal == "inf.dupont" and first.inputs["context"]["mfa"] is True

    key = ec.generate_private_key(ec.SECP256R1())
    app.token_key = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    app.save()
    es = _token(key, alg="ES256", aud="dpi", mfa=False)
    assert ask(es).status_code in (200, 403) and ask(es)["X-Hygie-User"] == "inf.dupont"
    # An HS256 token signed with the public key text must not pass (algorithm confusion).
    assert ask(_token(good, aud="dpi")).status_code == 401


def test_policy_cache_follows_a_new_active_version(ehr, monkeypatch):
    seen = []

    class Recording(CareEngine):
        def __init__(self, text):
            seen.append(text)

    monkeypatch.setattr(service, "Engine", Recording)
    client = Client()
    nginx(client)
    nginx(client)
    from hygie.access.models import PolicyVersion

    v2 = PolicyVersion.objects.create(application=ehr.app, number=2, text="// v2")
    ehr.app.active_policy = v2
    ehr.app.save()
    nginx(client)
    assert seen[-1] == "// v2" and len(seen) == 2


def test_a_vip_record_needs_mfa_with_the_starter_policy_and_no_policy_fails(ehr):
    """The patient reaches the policies as an entity: `resource.patient.vip` is read, not an
    error that would silently skip the VIP rule."""
    from hygie.access.models import PersonRecord

    PersonRecord.objects.create(
        organisation=ehr.est_a1, kind=PersonRecord.Kind.PATIENT, person_id="P100", vip=True
    )
    client = Client()
    refused = nginx(client, mfa="0")
    assert refused.status_code == 403
    log.flush()
    decision = Decision.objects.get()
    assert decision.policies == ["vip-sans-mfa"] and decision.errors == []
    assert decision.inputs["resource"]["patient"] == 'Patient::"P100"'
    assert nginx(client, mfa="1").status_code == 200
    log.flush()
    allowed = Decision.objects.filter(allowed=True).get()
    assert allowed.errors == [] and "vip-sans-mfa" not in allowed.policies
    # A patient who is not a VIP: no error either, on any policy.
    ctx.invalidate()
    assert nginx(client, uri="/dossiers/P200/").status_code == 403
    log.flush()
    assert not Decision.objects.exclude(errors=[]).exists()


def test_generated_proxy_configurations_follow_the_deployment_settings(ehr, settings):
    from hygie.access.pdp.proxy_config import envoy_config, nginx_config

    settings.PDP_URL = "http://10.0.0.5:8300/"
    settings.PDP_PAGES_URL = "https://hygie.chu-exemple.fr"
    text = nginx_config(ehr.app)
    assert "upstream hygie_pdp { server 10.0.0.5:8300; keepalive 32; }" in text
    assert "proxy_pass https://hygie.chu-exemple.fr/acces/bris-de-glace/dpi/;" in text
    assert "http://10.0.0.5:8300" in envoy_config(ehr.app)


def test_another_applications_valid_secret_opens_nothing(ehr, world):
    """The secret of another tenant's application, valid there, is refused on this one's
    decision endpoint and break-the-glass page."""
    from hygie.access.models import ProtectedApplication

    ProtectedApplication.objects.create(
        organisation=world.est_b1,
        name="DPI B1",
        slug="dpi-b1",
        upstream="http://127.0.0.1:9",
        proxy_secret="secret-de-B1-0123456789",
    )
    client = Client()
    assert nginx(client, slug="dpi-b1", secret="secret-de-B1-0123456789").status_code != 403
    assert nginx(client, secret="secret-de-B1-0123456789").status_code == 403
    page = client.get(
        reverse("access:break_glass", args=["dpi"]),
        **nginx_headers(secret="secret-de-B1-0123456789"),
    )
    assert page.status_code == 403
    log.flush()
    assert not Decision.objects.filter(application=ehr.app).exists()
