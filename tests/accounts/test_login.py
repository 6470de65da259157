"""Password login, forced enrolment, throttling, session lifetime, and the journal of it all."""

from __future__ import annotations

import time

import pyotp
from django.urls import reverse

from hygie.accounts.middleware import SESSION_AUTH_AT
from hygie.core.models import AuditEvent
from tests import factories
from tests.accounts.second_factor import anonymous, submit_password
from tests.clients import browser

HOME = "/"


def test_password_login_of_a_user_without_privileged_role(world):
    client = anonymous()
    response = submit_password(client, "lecteur-a")
    assert response.status_code == 302 and response["Location"] == HOME
    assert client.get(HOME).status_code == 200
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == world.reader
    assert event.details == {"method": "password"}
    assert event.ip_address == "127.0.0.1"


def test_wrong_password_is_refused_with_one_message_and_journalled(world):
    client = anonymous()
    wrong = submit_password(client, "lecteur-a", "not the right password")
    unknown = submit_password(client, "personne-inconnue", "not the right password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Identifiant ou mot de passe incorrect" in response.content.decode()
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("sequence")
    assert [e.details["username"] for e in failed] == ["lecteur-a", "personne-inconnue"]
    assert all("not the right password" not in str(e.details) for e in failed)


def test_inactive_user_cannot_log_in(world):
    world.reader.is_active = False
    world.reader.save()
    response = submit_password(anonymous(), "lecteur-a")
    assert response.status_code == 200
    assert "incorrect" in response.content.decode()


def test_next_page_is_kept_but_never_another_site(world):
    client = anonymous()
    target = reverse("orgs:staff", args=[world.ght_a.pk])
    assert submit_password(client, "lecteur-a", next_url=target)["Location"] == target
    client = anonymous()
    response = submit_password(client, "lecteur-a", next_url="https://evil.example/phish")
    assert response["Location"] == HOME


def test_privileged_user_without_totp_is_forced_through_enrolment(world):
    client = anonymous()
    response = submit_password(client, "rssi-a")
    assert response["Location"] == reverse("accounts:enrol")
    # The password alone opens nothing.
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert not AuditEvent.objects.filter(action="auth.login").exists()

    page = client.get(reverse("accounts:enrol"))
    assert page.status_code == 200
    secret = page.context["secret"]
    response = client.post(reverse("accounts:enrol"), {"code": "000000"})
    assert "Code incorrect" in response.content.decode()

    response = client.post(reverse("accounts:enrol"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert client.get(HOME).status_code == 200
    assert AuditEvent.objects.filter(action="auth.totp_enrolled", actor=world.editor).exists()
    assert AuditEvent.objects.filter(action="auth.login", actor=world.editor).exists()


def test_a_session_that_gains_a_privileged_role_reaches_only_enrolment(world):
    # Logged in with a password only, then granted a role that needs a second factor.
    client = browser(world.nobody, second_factor=False)
    assert client.get(HOME).status_code == 200
    factories.Membership.objects.create(user=world.nobody, organisation=world.ght_a, role="dsi")
    enrol = reverse("accounts:enrol")
    for url in (HOME, reverse("accounts:account"), reverse("orgs:staff", args=[world.ght_a.pk])):
        assert client.get(url)["Location"] == enrol, url
    assert client.get("/api/v1/me/")["Location"] == enrol
    assert client.get(enrol).status_code == 200
    assert client.get("/static/hygie/hygie.css").status_code == 200


def test_login_throttling_refuses_even_the_right_password(world):
    client = anonymous()
    for _ in range(10):
        assert (
            "incorrect" in submit_password(client, "lecteur-a", "wrong password!").content.decode()
        )
    response = submit_password(client, "lecteur-a")
    assert response.status_code == 200
    assert "Trop de tentatives" in response.content.decode()
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.filter(
        action="auth.login_throttled", details__username="lecteur-a"
    ).exists()
    # Another account from the same address is not locked out by someone else's failures.
    assert submit_password(anonymous(), "analyste-a")["Location"] == HOME


def test_throttle_is_per_account_whatever_the_spelling(world):
    client = anonymous()
    for name in ["lecteur-a", "LECTEUR-A", " Lecteur-A "] * 4:
        submit_password(client, name, "wrong password!")
    assert "Trop de tentatives" in submit_password(client, "lecteur-a").content.decode()


def test_address_throttling_counts_failures_not_successful_logins(world):
    # A hospital's users all come through one proxy: 40 good logins must not lock the address.
    users = [factories.user(f"agent-{n}") for n in range(40)]
    for user in users:
        assert submit_password(anonymous(), user.username)["Location"] == HOME
    # ...but 30 failures from one address do, whatever the account tried.
    for n in range(30):
        submit_password(anonymous(), f"agent-{n}", "wrong password!")
    assert "Trop de tentatives" in submit_password(anonymous(), "agent-39").content.decode()


def test_session_absolute_lifetime_logs_out(world, settings):
    client = browser(world.reader)
    assert client.get(HOME).status_code == 200
    session = client.session
    session[SESSION_AUTH_AT] = time.time() - settings.SESSION_MAX_HOURS * 3600 - 1
    session.save()
    response = client.get(HOME)
    assert response["Location"] == reverse("accounts:login") + "?expired=1"
    assert "expiré" in client.get(response["Location"]).content.decode()
    # Logged out for good, not just redirected once.
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.filter(action="auth.logout", actor=world.reader).exists()


def test_session_within_its_lifetime_stays_open(world, settings):
    client = browser(world.reader)
    session = client.session
    session[SESSION_AUTH_AT] = time.time() - settings.SESSION_MAX_HOURS * 3600 + 60
    session.save()
    assert client.get(HOME).status_code == 200


def test_logout_needs_a_post_and_ends_the_session(world):
    client = browser(world.reader)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout"))["Location"] == reverse("accounts:login")
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.filter(action="auth.logout", actor=world.reader).exists()
