"""Break-the-glass through the proxy: a reason, an alert e-mail at once through a real SMTP
server, the access flagged in the decisions, and the review by the DPO."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from hygie.access.models import BreakGlass
from hygie.access.pdp import context as ctx
from hygie.core.models import AuditEvent
from tests.access.enforce_fixtures import nginx_headers
from tests.clients import browser
from tests.services.smtp import PASSWORD, USERNAME, smtp_server

pytestmark = pytest.mark.django_db
REASON = "Patient en détresse respiratoire admis en salle de déchocage"


@pytest.fixture
def relay(settings, monkeypatch, tmp_path):
    with smtp_server() as server:
        ca = tmp_path / "ca.pem"
        ca.write_text(server.ca_pem)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "localhost", server.port
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = True, 5
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = USERNAME, PASSWORD
        yield server


def page(client, **headers):
    url = reverse("access:break_glass", args=["dpi"]) + "?next=/dossiers/P200/"
    return client.get(url, **nginx_headers(**headers))


def test_break_glass_with_a_reason_alerts_the_dpo_and_rssi_and_opens_the_record(ehr, relay):
    client = Client()
    form = page(client)
    assert form.status_code == 200
    body = form.content.decode()
    assert 'value="P200"' in body and "inf.dupont" in body
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    url = reverse("access:break_glass", args=["dpi"])
    short = client.post(
        url,
        {"patient": "P200", "reason": "urgence", "token": token, "next": "/dossiers/P200/"},
        **nginx_headers(),
    )
    assert short.status_code == 400 and "20 caractères" in short.content.decode()
    assert not BreakGlass.objects.exists() and not relay.messages

    done = client.post(
        url,
        {"patient": "P200", "reason": REASON, "token": token, "next": "/dossiers/P200/"},
        **nginx_headers(),
    )
    assert done.status_code == 303 and done["Location"] == "/dossiers/P200/"
    glass = BreakGlass.objects.get()
    assert (glass.principal, glass.resource) == ("inf.dupont", 'Patient::"P200"')
    assert glass.alerted_at and glass.source_address == "10.10.1.5"
    assert (glass.expires_at - glass.started_at).total_seconds() == 4 * 3600
    ((_sender, recipients, message),) = relay.messages
    assert set(recipients) == {"rssi-a@example.org", "dpo-a@example.org"}
    assert "inf.dupont" in message["Subject"]
    assert REASON in message.get_body(("plain",)).get_content()
    assert AuditEvent.objects.filter(action="access.break_glass").exists()
    request = ctx.build_request(
        ehr.app,
        ctx.HttpInputs.from_headers(
            {"X-Remote-User": "inf.dupont", "X-Original-URI": "/dossiers/P200/"}
        ),
    )
    assert request.context["break_glass"] is True


def test_the_form_needs_the_proxy_an_identity_and_its_own_token(ehr):
    client = Client()
    assert page(client, secret="faux").status_code == 403
    assert page(client, user=None).status_code == 401
    form = page(client).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', form).group(1)
    url = reverse("access:break_glass", args=["dpi"])
    # Another person's form token (a forged cross-site post) is refused.
    forged = client.post(
        url,
        {"patient": "P200", "reason": REASON, "token": token},
        **nginx_headers(user="adm.martin"),
    )
    assert forged.status_code == 400 and not BreakGlass.objects.exists()
    # An off-site "next" is ignored.
    ok = client.post(
        url,
        {"patient": "P200", "reason": REASON, "token": token, "next": "//ailleurs.example/"},
        **nginx_headers(),
    )
    assert ok.status_code == 303 and ok["Location"] == "/"


def test_dpo_reviews_break_glass_and_unreviewed_ones_stand_out(ehr):
    from hygie.access import break_glass

    first = break_glass.grant(ehr.app, principal="inf.dupont", patient_id="P200", reason=REASON)
    break_glass.grant(ehr.app, principal="adm.martin", patient_id="P300", reason=REASON)
    dpo = browser(ehr.dpo)
    url = reverse("access:break_glass_list", args=[ehr.ght_a.pk])
    body = dpo.get(url).content.decode()
    assert "2 accès en urgence à revoir" in body and body.count('class="attention"') == 2
    review = reverse("access:break_glass_review", args=[first.pk])
    response = dpo.post(review, {"review": "justified", "note": "Déchocage confirmé"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.review == "justified" and first.reviewed_by == ehr.dpo
    assert "1 accès en urgence à revoir" in dpo.get(url).content.decode()
    reader = browser(ehr.reader)
    assert reader.post(review, {"review": "unjustified"}).status_code == 403
    assert browser(ehr.outsider).get(url).status_code == 404
