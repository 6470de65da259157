# ruff: noqa: F811 (pytest fixtures imported from tests.services.oidc)
"""Single sign-on against a real OpenID Connect provider (oidc-provider under Node).

Every login goes through the real authorization code flow: the provider's login form, a real
code, a real token request with the PKCE verifier, real signed ID tokens checked against the
provider's published keys.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pyotp
import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hygie.accounts import oidc, services
from hygie.accounts.middleware import SESSION_AUTH_AT, SESSION_MFA
from hygie.core.models import AuditEvent
from tests import factories
from tests.services.oidc import CLIENTS, oidc_provider, oidc_settings  # noqa: F401

pytestmark = [pytest.mark.oidc, pytest.mark.django_db]

HOME = reverse("orgs:home")


def start(client: Client, next_url: str = "") -> str:
    """Click the single sign-on button; returns the provider URL Hygie redirects to."""
    url = reverse("oidc_authentication_init") + (f"?next={next_url}" if next_url else "")
    response = client.get(url)
    assert response.status_code == 302
    return response["Location"]


def callback(client: Client, provider_redirect: str):
    """The browser arriving back on Hygie with the provider's answer."""
    parts = urllib.parse.urlsplit(provider_redirect)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://testserver/oidc/callback/"
    return client.get(parts.path, dict(urllib.parse.parse_qsl(parts.query)))


def sso_login(client, provider, email, **login):
    return callback(client, provider.sign_in(start(client), email, **login))


def text(response) -> str:
    """The page as a person reads it (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def test_known_user_logs_in_and_lands_on_the_home_page(oidc_settings, oidc_provider, world):
    client = Client()
    response = sso_login(client, oidc_provider, "LECTEUR-A@example.org")

    assert response.status_code == 302
    assert response["Location"] == HOME
    home = client.get(HOME)
    assert home.status_code == 200
    assert home.wsgi_request.user == world.reader
    assert client.session[SESSION_AUTH_AT] > 0
    assert client.session[SESSION_MFA] is False
    login = events("auth.login")[-1]
    assert login.actor == world.reader
    assert login.details["method"] == "oidc"
    assert login.details["iss"] == oidc_provider.issuer
    assert login.details["amr"] == ["pwd"]


def test_authorization_request_uses_pkce_state_and_nonce(oidc_settings, oidc_provider, world):
    client = Client()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start(client)).query))

    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["redirect_uri"] == "http://testserver/oidc/callback/"
    stored = client.session["oidc_states"][query["state"]]
    assert stored["nonce"] == query["nonce"] and stored["code_verifier"]


def test_next_page_is_kept_through_the_provider(oidc_settings, oidc_provider, world):
    client = Client()
    redirect = oidc_provider.sign_in(start(client, next_url="/compte/"), "lecteur-a@example.org")
    response = callback(client, redirect)
    assert response["Location"] == "/compte/"


def test_privileged_user_without_mfa_at_the_provider_must_enter_a_totp_code(
    oidc_settings, oidc_provider, world
):
    device = services.start_enrolment(world.editor)
    device.confirmed_at = timezone.now()
    device.save()
    client = Client()

    response = sso_login(client, oidc_provider, "rssi-a@example.org", amr="pwd")

    assert response["Location"] == reverse("accounts:login_code")
    # Not logged in yet: the home page sends back to the login page.
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert not events("auth.login")

    page = client.get(reverse("accounts:login_code"))
    assert "Double authentification" in text(page)
    response = client.post(
        reverse("accounts:login_code"), {"code": pyotp.TOTP(device.secret).now()}
    )
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200
    assert client.session[SESSION_MFA] is True
    assert events("auth.login")[-1].details["method"] == "oidc"


def test_privileged_user_without_totp_device_is_sent_to_enrolment(
    oidc_settings, oidc_provider, world
):
    client = Client()
    response = sso_login(client, oidc_provider, "rssi-a@example.org", amr="pwd")
    assert response["Location"] == reverse("accounts:enrol")
    assert "Votre rôle exige un second facteur" in text(client.get(response["Location"]))


def test_privileged_user_with_mfa_at_the_provider_goes_straight_in(
    oidc_settings, oidc_provider, world
):
    client = Client()
    response = sso_login(client, oidc_provider, "rssi-a@example.org", amr="pwd otp mfa")

    assert response["Location"] == HOME
    home = client.get(HOME)
    assert home.status_code == 200
    assert home.wsgi_request.user == world.editor
    assert client.session[SESSION_MFA] is True
    assert events("auth.login")[-1].details["amr"] == ["pwd", "otp", "mfa"]


def test_acr_listed_as_mfa_counts_as_second_factor(oidc_settings, oidc_provider, world):
    oidc_settings.OIDC_ACR_VALUES = "eidas1"
    oidc_settings.OIDC_MFA_ACR = ["eidas1"]
    client = Client()
    authorization = start(client)
    assert "acr_values=eidas1" in authorization

    response = callback(
        client,
        oidc_provider.sign_in(authorization, "rssi-a@example.org", amr="pwd", acr="eidas1"),
    )
    assert response["Location"] == HOME
    assert client.session[SESSION_MFA] is True
    assert events("auth.login")[-1].details["acr"] == "eidas1"


def test_unknown_email_is_refused_and_no_account_is_created(oidc_settings, oidc_provider, world):
    users_before = get_user_model().objects.count()
    client = Client()
    response = sso_login(client, oidc_provider, "inconnu@chu-exemple.fr", amr="pwd otp mfa")

    assert response.status_code == 403
    page = text(response)
    assert "Aucun compte Hygie n'est associé à l'adresse inconnu@chu-exemple.fr" in page
    assert "Annuaire du GHT" in page
    assert get_user_model().objects.count() == users_before
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    refused = events("auth.oidc_refused")[-1]
    assert refused.details["reason"] == "unknown_user"
    assert refused.details["email"] == "inconnu@chu-exemple.fr"


def test_unknown_email_creates_an_account_when_allowed(oidc_settings, oidc_provider, world):
    oidc_settings.OIDC_CREATE_USER = True
    client = Client()
    response = sso_login(client, oidc_provider, "nouvelle.personne@chu-exemple.fr")

    assert response["Location"] == HOME
    created = get_user_model().objects.get(email="nouvelle.personne@chu-exemple.fr")
    assert created.first_name == "nouvelle" and not created.memberships.exists()
    assert not created.has_usable_password()
    assert events("auth.oidc_user_created")[-1].target_id == str(created.pk)


def test_unverified_email_is_refused(oidc_settings, oidc_provider, world):
    client = Client()
    response = sso_login(client, oidc_provider, "lecteur-a@example.org", email_verified=False)
    assert response.status_code == 403
    assert "n'est pas vérifiée" in text(response)
    assert events("auth.oidc_refused")[-1].details["reason"] == "email_unverified"


def test_deactivated_account_is_refused(oidc_settings, oidc_provider, world):
    world.reader.is_active = False
    world.reader.save()
    response = sso_login(Client(), oidc_provider, "lecteur-a@example.org")
    assert response.status_code == 403
    assert "est désactivé" in text(response)


def test_tampered_state_is_refused(oidc_settings, oidc_provider, world):
    client = Client()
    redirect = oidc_provider.sign_in(start(client), "lecteur-a@example.org")
    tampered = redirect.replace("state=", "state=x")

    response = callback(client, tampered)

    assert response.status_code == 400
    assert "Cette demande de connexion n'est pas valable" in text(response)
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert events("auth.oidc_refused")[-1].details["reason"] == "state_invalid"
    assert not events("auth.login")


def test_answer_replayed_in_another_browser_is_refused(oidc_settings, oidc_provider, world):
    victim = Client()
    redirect = oidc_provider.sign_in(start(victim), "lecteur-a@example.org")
    attacker = Client()
    attacker.get(reverse("accounts:login"))  # a session of its own, without that state
    assert callback(attacker, redirect).status_code == 400


def test_state_is_single_use(oidc_settings, oidc_provider, world):
    client = Client()
    redirect = oidc_provider.sign_in(start(client), "lecteur-a@example.org")
    assert callback(client, redirect)["Location"] == HOME
    client.post(reverse("accounts:logout"))
    assert callback(client, redirect).status_code == 400


def test_provider_error_is_shown_and_recorded(oidc_settings, oidc_provider, world):
    client = Client()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start(client)).query))
    response = client.get(
        reverse("oidc_authentication_callback"),
        {"error": "access_denied", "state": query["state"]},
    )
    assert response.status_code == 403
    assert "a refusé ou interrompu la connexion" in text(response)
    refused = events("auth.oidc_refused")[-1]
    assert refused.details == {
        "reason": "provider_error",
        "method": "oidc",
        "error": "access_denied",
    }


def test_answer_from_another_issuer_is_refused(oidc_settings, oidc_provider, world):
    client = Client()
    redirect = oidc_provider.sign_in(start(client), "lecteur-a@example.org")
    mixed_up = redirect.replace(
        urllib.parse.quote(oidc_provider.issuer, safe=""), "https%3A%2F%2Fidp.attaquant.example"
    )
    assert mixed_up != redirect
    response = callback(client, mixed_up)
    assert response.status_code == 400
    assert events("auth.oidc_refused")[-1].details["reason"] == "issuer_mismatch"


def test_id_token_from_an_unexpected_issuer_is_refused(oidc_settings, oidc_provider, world):
    oidc_settings.OIDC_OP_ISSUER = "https://idp.autre-ght.example"
    client = Client()
    redirect = oidc_provider.sign_in(start(client), "lecteur-a@example.org")
    # The provider names itself in the redirect too; drop it to reach the ID token check.
    redirect = redirect.split("&iss=")[0]
    response = callback(client, redirect)
    assert response.status_code == 400
    refused = events("auth.oidc_refused")[-1]
    assert refused.details["reason"] == "id_token_invalid"
    assert "issuer" in refused.details["detail"].lower()


def test_id_token_signed_with_another_algorithm_is_refused(oidc_settings, oidc_provider, world):
    oidc_settings.OIDC_RP_SIGN_ALGO = "ES256"  # the "hygie" client receives RS256 tokens
    response = sso_login(Client(), oidc_provider, "lecteur-a@example.org")
    assert response.status_code == 400
    assert "n'a pas pu être vérifiée" in text(response)
    assert "RS256" in events("auth.oidc_refused")[-1].details["detail"]


def test_es256_client_with_discovery_and_form_post_secret(settings, oidc_provider, world):
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "hygie-es256"
    settings.OIDC_RP_CLIENT_SECRET = CLIENTS["hygie-es256"]["client_secret"]
    settings.OIDC_RP_SIGN_ALGO = "ES256"
    settings.OIDC_TOKEN_USE_BASIC_AUTH = False
    settings.OIDC_DISCOVERY_URL = oidc_provider.discovery_url
    for name in (
        "OIDC_OP_ISSUER",
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
        "OIDC_OP_END_SESSION_ENDPOINT",
    ):
        setattr(settings, name, "")

    client = Client()
    authorization = start(client)
    assert authorization.startswith(oidc_provider.metadata()["authorization_endpoint"])
    response = callback(client, oidc_provider.sign_in(authorization, "lecteur-a@example.org"))

    assert response["Location"] == HOME
    assert client.get(HOME).wsgi_request.user == world.reader


def test_logout_also_ends_the_provider_session_when_configured(oidc_settings, oidc_provider, world):
    oidc_settings.OIDC_PROVIDER_LOGOUT = True
    end_session = oidc_provider.metadata()["end_session_endpoint"]
    oidc_settings.OIDC_OP_END_SESSION_ENDPOINT = end_session
    client = Client()
    browser = requests.Session()  # the same person's browser, at the provider
    authorization = start(client)
    callback(client, oidc_provider.sign_in(authorization, "lecteur-a@example.org", browser=browser))

    response = client.post(reverse("accounts:logout"))

    # Hygie's own session is gone, and the browser goes on to the provider's logout page.
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert events("auth.logout")
    assert response["Location"].startswith(end_session + "?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response["Location"]).query))
    assert query["post_logout_redirect_uri"] == "http://testserver/connexion/"
    assert query["client_id"] == "hygie"
    # The provider checks the ID token hint and asks the person to confirm.
    confirmation = browser.get(response["Location"], timeout=5)
    assert confirmation.status_code == 200
    assert "Se déconnecter du fournisseur" in confirmation.text
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', confirmation.text).group(1)
    action = re.search(r'action="([^"]+)"', confirmation.text).group(1)
    done = browser.post(
        urllib.parse.urljoin(oidc_provider.issuer, action),
        data={"xsrf": xsrf, "logout": "yes"},
        allow_redirects=False,
        timeout=5,
    )
    assert done.headers["Location"].startswith("http://testserver/connexion/")
    # Signed out at the provider too: a new login asks for the password again.
    again = browser.get(start(Client()), allow_redirects=False, timeout=5)
    assert "/interaction/" in again.headers["Location"]


def test_local_logout_by_default(oidc_settings, oidc_provider, world):
    client = Client()
    sso_login(client, oidc_provider, "lecteur-a@example.org")
    assert oidc.SESSION_ID_TOKEN not in client.session
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")


def test_login_page_shows_the_button_only_when_enabled(settings, oidc_settings, world):
    page = text(Client().get(reverse("accounts:login")))
    assert "Se connecter avec Annuaire du GHT" in page
    assert reverse("oidc_authentication_init") in page

    settings.OIDC_ENABLED = False
    page = text(Client().get(reverse("accounts:login")))
    assert "Se connecter avec" not in page


def test_sso_urls_answer_404_when_disabled(settings, db):
    settings.OIDC_ENABLED = False
    client = Client()
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert (
        client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"}).status_code
        == 404
    )


def test_unreachable_provider_gives_a_clear_page(settings, db):
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "hygie"
    settings.OIDC_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    settings.OIDC_TIMEOUT = 2
    response = Client().get(reverse("oidc_authentication_init"))
    assert response.status_code == 502
    assert "Le fournisseur d'identité ne répond pas" in text(response)
    assert events("auth.oidc_refused")[-1].details["reason"] == "provider_unreachable"


def test_password_login_still_works_alongside_sso(oidc_settings, world):
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": "lecteur-a", "password": factories.PASSWORD}
    )
    assert response["Location"] == HOME
    assert events("auth.login")[-1].details["method"] == "password"


def test_id_token_with_another_nonce_is_refused(oidc_settings, oidc_provider, world):
    client = Client()
    authorization = start(client)
    redirect = oidc_provider.sign_in(authorization, "lecteur-a@example.org")
    # As if the ID token had been obtained for another login attempt (replay).
    session = client.session
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorization).query))["state"]
    session["oidc_states"][state]["nonce"] = "nonce-d-une-autre-tentative-de-connexion"
    session.save()

    response = callback(client, redirect)

    assert response.status_code == 400
    refused = events("auth.oidc_refused")[-1]
    assert refused.details["reason"] == "id_token_invalid"
    assert "nonce" in refused.details["detail"]


def test_stolen_code_without_the_pkce_verifier_is_useless(oidc_settings, oidc_provider, world):
    client = Client()
    authorization = start(client)
    redirect = oidc_provider.sign_in(authorization, "lecteur-a@example.org")
    session = client.session
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorization).query))["state"]
    session["oidc_states"][state]["code_verifier"] = "v" * 64  # not the one the challenge hides
    session.save()

    response = callback(client, redirect)

    assert response.status_code == 502
    assert "n'a pas confirmé la connexion" in text(response)
    refused = events("auth.oidc_refused")[-1]
    assert refused.details["reason"] == "token_exchange_failed"
    assert "invalid_grant" in refused.details["detail"]


def test_provider_key_rotation_is_picked_up(oidc_settings, oidc_provider, world):
    # Hygie cached the provider's keys two minutes ago, before a rotation: the token's key is
    # unknown, so the keys are fetched again instead of refusing the login.
    oidc._jwks_cache[oidc_settings.OIDC_OP_JWKS_ENDPOINT] = (time.monotonic() - 120, [])
    response = sso_login(Client(), oidc_provider, "lecteur-a@example.org")
    assert response["Location"] == HOME


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({}, "HYGIE_OIDC_CLIENT_ID, HYGIE_OIDC_CLIENT_SECRET, HYGIE_OIDC_ISSUER"),
        (
            {
                "HYGIE_OIDC_CLIENT_ID": "hygie",
                "HYGIE_OIDC_CLIENT_SECRET": "s",
                "HYGIE_OIDC_ISSUER": "https://idp.example",
                "HYGIE_OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example/auth",
                "HYGIE_OIDC_TOKEN_ENDPOINT": "https://idp.example/token",
            },
            "HYGIE_OIDC_JWKS_ENDPOINT missing",
        ),
    ],
)
def test_incomplete_configuration_stops_the_start_up_naming_the_variable(
    tmp_path, environment, named
):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HYGIE_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        {"HYGIE_TESTING": "1", "HYGIE_DATA_DIR": str(tmp_path), "HYGIE_OIDC_ENABLED": "true"}
    )
    env.update(environment)
    result = subprocess.run(
        [sys.executable, "-c", "import hygie.settings"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_discovery_only_configuration_is_enough_to_start(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HYGIE_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        {
            "HYGIE_TESTING": "1",
            "HYGIE_DATA_DIR": str(tmp_path),
            "HYGIE_OIDC_ENABLED": "true",
            "HYGIE_OIDC_CLIENT_ID": "hygie",
            "HYGIE_OIDC_CLIENT_SECRET": "s",
            "HYGIE_OIDC_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", "import hygie.settings"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
