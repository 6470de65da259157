"""End to end through a real nginx (`auth_request`) in front of a sample application, Hygie
deciding (pytest-django's live server, or the dedicated `hygie pdp` process)."""

from __future__ import annotations

import re
import time

import pytest
import requests

from hygie.access.models import BreakGlass, Decision, FailureMode, Mode, NetworkZone
from hygie.access.pdp import log
from hygie.access.pdp.server import make_server
from tests.access.enforce_fixtures import SECRET
from tests.access.nginx_service import free_port, nginx_front, sample_app

pytestmark = [pytest.mark.django_db(transaction=True)]
NURSE = {"X-Remote-User": "inf.dupont", "X-Device-Id": "PC-CARDIO-01"}


@pytest.fixture
def front(ehr, live_server):
    """nginx → Hygie (live server) → the sample application; yields (base URL, sample app).
    The loopback is the care network here (nginx tells Hygie its own $remote_addr)."""
    NetworkZone.objects.create(organisation=ehr.est_a1, cidr="127.0.0.0/8", zone="care")
    with sample_app() as app_server:
        ehr.app.upstream = f"http://127.0.0.1:{app_server.server_address[1]}"
        ehr.app.save()
        with nginx_front(
            ehr.app, pdp_url=live_server.url, hygie_url=live_server.url, secret=SECRET
        ) as base:
            yield base, app_server


def get(url, headers=None, **kwargs):
    return requests.get(url, headers=headers or {}, allow_redirects=False, timeout=5, **kwargs)


def test_without_identity_nginx_answers_401_and_the_app_sees_nothing(front):
    base, app_server = front
    response = get(base + "/dossiers/P100/")
    assert response.status_code == 401
    assert not app_server.seen


def test_a_denied_person_is_sent_to_break_the_glass_and_the_denial_is_logged(front):
    base, app_server = front
    # A client-sent X-Real-IP (the administration network) is overwritten by nginx.
    response = get(base + "/dossiers/P200/", {**NURSE, "X-Real-IP": "10.20.0.9"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/_hygie/bris-de-glace/?next=/dossiers/P200/")
    assert not app_server.seen
    log.flush()
    decision = Decision.objects.get()
    assert decision.principal == "inf.dupont" and not decision.allowed and decision.enforced
    assert decision.inputs["context"]["zone"] == "care"
    assert decision.inputs["address"] == "127.0.0.1"


def test_shadow_mode_logs_the_denial_and_the_request_goes_through(front, ehr):
    base, app_server = front
    ehr.app.mode = Mode.SHADOW
    ehr.app.save()
    response = get(base + "/dossiers/P200/", NURSE)
    assert response.status_code == 200
    assert response.text == "dossier /dossiers/P200/ decision=deny"
    log.flush()
    decision = Decision.objects.get()
    assert not decision.allowed and not decision.enforced


def test_break_the_glass_page_through_nginx_alerts_at_once(front, ehr, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    base, _app = front
    form = get(base + "/_hygie/bris-de-glace/?next=/dossiers/P200/", NURSE)
    assert form.status_code == 200 and 'value="P200"' in form.text
    token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
    done = requests.post(
        base + "/_hygie/bris-de-glace/",
        data={
            "patient": "P200",
            "reason": "Détresse respiratoire aiguë, médecin absent",
            "token": token,
            "next": "/dossiers/P200/",
        },
        headers=NURSE,
        allow_redirects=False,
        timeout=5,
    )
    assert done.status_code == 303 and done.headers["Location"] == "/dossiers/P200/"
    assert BreakGlass.objects.get().principal == "inf.dupont"
    assert len(mail.outbox) == 1 and "inf.dupont" in mail.outbox[0].subject


def test_a_wrong_proxy_secret_in_the_configuration_denies_everything(ehr, live_server):
    with sample_app() as app_server:
        ehr.app.upstream = f"http://127.0.0.1:{app_server.server_address[1]}"
        ehr.app.save()
        with nginx_front(
            ehr.app, pdp_url=live_server.url, hygie_url=live_server.url, secret="pas-le-bon"
        ) as base:
            assert get(base + "/dossiers/P100/", NURSE).status_code == 303  # → denied page
            assert not app_server.seen


@pytest.mark.parametrize(
    "failure_mode, expected", [(FailureMode.CLOSED, 303), (FailureMode.OPEN, 200)]
)
def test_when_hygie_is_down_the_application_fails_as_configured(ehr, failure_mode, expected):
    ehr.app.failure_mode = failure_mode
    with sample_app() as app_server:
        ehr.app.upstream = f"http://127.0.0.1:{app_server.server_address[1]}"
        down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        with nginx_front(ehr.app, pdp_url=down, hygie_url=down, secret=SECRET) as base:
            response = get(base + "/dossiers/P100/", NURSE)
            assert response.status_code == expected
            assert bool(app_server.seen) == (failure_mode == FailureMode.OPEN)


def test_the_dedicated_decision_process_answers_nginx(front, ehr):
    """Same answers from `hygie pdp` (no Django middleware on the path)."""
    import threading

    pdp = make_server("127.0.0.1", free_port())
    threading.Thread(target=pdp.serve_forever, daemon=True).start()
    try:
        with sample_app() as app_server:
            ehr.app.upstream = f"http://127.0.0.1:{app_server.server_address[1]}"
            ehr.app.mode = Mode.SHADOW
            ehr.app.save()
            url = f"http://127.0.0.1:{pdp.server_address[1]}"
            with nginx_front(ehr.app, pdp_url=url, hygie_url=url, secret=SECRET) as base:
                assert get(base + "/dossiers/P100/").status_code == 200  # shadow: no identity
                response = get(base + "/dossiers/P200/", NURSE)
                assert response.text.endswith("decision=deny")
    finally:
        pdp.shutdown()
        pdp.server_close()
    log.flush()
    assert Decision.objects.filter(principal="inf.dupont", enforced=False).count() == 1


# Acceptance of issue 8 with the starter policy (DEFAULT_POLICY) -------------------------------
def test_acceptance_nurse_unit_other_unit_break_glass_admin_and_shadow(front, ehr, settings):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    base, app_server = front
    # A nurse reaches her unit's patient.
    own = get(base + "/dossiers/P100/", NURSE)
    assert own.status_code == 200 and own.text.endswith("decision=allow")
    # She is denied another unit's patient, and offered the break-the-glass page.
    other = get(base + "/dossiers/P200/", NURSE)
    assert other.status_code == 303
    # She gets in by break-the-glass with a reason; the DPO and RSSI are alerted.
    form = get(base + "/_hygie/bris-de-glace/?next=/dossiers/P200/", NURSE)
    token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
    requests.post(
        base + "/_hygie/bris-de-glace/",
        headers=NURSE,
        timeout=5,
        allow_redirects=False,
        data={
            "patient": "P200",
            "reason": "Arrêt cardio-respiratoire en chambre 12",
            "token": token,
        },
    )
    assert len(mail.outbox) == 1
    time.sleep(0.05)
    inside = get(base + "/dossiers/P200/", NURSE)
    assert inside.status_code == 200
    # An administrator without MFA from the internet is denied.
    admin = {"X-Remote-User": "adm.martin", "X-Auth-MFA": "0", "X-Device-Id": "PC-CARDIO-01"}
    NetworkZone.objects.filter(cidr="127.0.0.0/8").delete()  # now the internet zone
    assert get(base + "/admin/", admin).status_code == 303
    log.flush()
    assert Decision.objects.filter(break_glass=True, allowed=True).exists()
    # Shadow mode: the denial is logged, the request goes through.
    ehr.app.mode = Mode.SHADOW
    ehr.app.save()
    shadow = get(base + "/admin/", admin)
    assert shadow.status_code == 200 and shadow.text.endswith("decision=deny")
