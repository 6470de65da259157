"""End to end through a real Envoy (`ext_authz`, HTTP service) in front of a sample application,
Hygie deciding — the Envoy half of the acceptance that test_nginx.py runs with nginx."""

from __future__ import annotations

import threading

import pytest
import requests

from hygie.access.models import Decision, FailureMode, Mode, NetworkZone
from hygie.access.pdp import log
from hygie.access.pdp.server import make_server
from tests.access.enforce_fixtures import SECRET
from tests.access.envoy_service import envoy_front
from tests.access.nginx_service import free_port, sample_app

pytestmark = [pytest.mark.django_db(transaction=True)]
NURSE = {"X-Remote-User": "inf.dupont", "X-Device-Id": "PC-CARDIO-01"}


def get(url, headers=None):
    return requests.get(url, headers=headers or {}, allow_redirects=False, timeout=10)


def everywhere_is_care(ehr):
    """For a client on the loopback, Envoy puts its host's own address in X-Forwarded-For
    (whatever this machine's address is): here every address is the care network."""
    NetworkZone.objects.create(organisation=ehr.est_a1, cidr="0.0.0.0/0", zone="care")


@pytest.fixture
def front(ehr, live_server):
    """Envoy → Hygie (live server) → the sample application; yields (base URL, sample app)."""
    everywhere_is_care(ehr)
    with sample_app() as app_server:
        with envoy_front(
            ehr.app,
            pdp_url=live_server.url.replace("localhost", "127.0.0.1"),
            secret=SECRET,
            upstream_port=app_server.server_address[1],
        ) as base:
            yield base, app_server


def test_acceptance_through_envoy_unit_other_unit_no_identity_admin_and_shadow(front, ehr):
    base, app_server = front
    # A nurse reaches her unit's patient; the application sees Hygie's decision.
    own = get(base + "/dossiers/P100/", NURSE)
    assert own.status_code == 200 and own.text == "dossier /dossiers/P100/ decision=allow"
    # She is denied another unit's patient: Envoy answers Hygie's 403, the application sees
    # nothing.
    seen = len(app_server.seen)
    other = get(base + "/dossiers/P200/", NURSE)
    assert other.status_code == 403 and len(app_server.seen) == seen
    # No identity: 401.
    assert get(base + "/dossiers/P100/").status_code == 401
    log.flush()
    denied = Decision.objects.get(principal="inf.dupont", allowed=False)
    assert denied.enforced and denied.inputs["context"]["zone"] == "care"
    assert denied.inputs["path"] == "/dossiers/P200/" and denied.inputs["method"] == "GET"
    # An administrator without MFA from the internet is denied.
    NetworkZone.objects.filter(cidr="0.0.0.0/0").delete()
    admin = {"X-Remote-User": "adm.martin", "X-Auth-MFA": "0", "X-Device-Id": "PC-CARDIO-01"}
    assert get(base + "/admin/", admin).status_code == 403
    # Shadow mode: the denial is logged and the request goes through.
    ehr.app.mode = Mode.SHADOW
    ehr.app.save()
    shadow = get(base + "/admin/", admin)
    assert shadow.status_code == 200 and shadow.text == "dossier /admin/ decision=deny"
    log.flush()
    last = Decision.objects.filter(principal="adm.martin").order_by("-id").first()
    assert not last.allowed and not last.enforced
    assert set(last.policies) >= {"admin-sans-mfa"}


def test_the_dedicated_process_answers_envoy_and_a_wrong_secret_denies(ehr):
    everywhere_is_care(ehr)
    pdp = make_server("127.0.0.1", free_port())
    threading.Thread(target=pdp.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{pdp.server_address[1]}"
    try:
        with sample_app() as app_server:
            port = app_server.server_address[1]
            with envoy_front(ehr.app, pdp_url=url, secret=SECRET, upstream_port=port) as base:
                assert get(base + "/dossiers/P100/", NURSE).status_code == 200
                assert get(base + "/dossiers/P200/", NURSE).status_code == 403
            with envoy_front(ehr.app, pdp_url=url, secret="pas-le-bon", upstream_port=port) as base:
                seen = len(app_server.seen)
                assert get(base + "/dossiers/P100/", NURSE).status_code == 403
                assert len(app_server.seen) == seen
    finally:
        pdp.shutdown()
        pdp.server_close()


@pytest.mark.parametrize(
    "failure_mode, expected", [(FailureMode.CLOSED, 403), (FailureMode.OPEN, 200)]
)
def test_when_hygie_is_down_envoy_fails_as_configured(ehr, failure_mode, expected):
    everywhere_is_care(ehr)
    ehr.app.failure_mode = failure_mode
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with sample_app() as app_server:
        port = app_server.server_address[1]
        with envoy_front(ehr.app, pdp_url=down, secret=SECRET, upstream_port=port) as base:
            assert get(base + "/dossiers/P100/", NURSE).status_code == expected
            assert bool(app_server.seen) == (failure_mode == FailureMode.OPEN)
