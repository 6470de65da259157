"""Sending profiles: a real SMTP relay with STARTTLS and authentication, secrets encrypted."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from hygie.core.models import AuditEvent
from hygie.phishing import smtp
from hygie.phishing.models import SendingProfile
from tests.clients import browser
from tests.services.smtp import PASSWORD, USERNAME, smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def relay():
    with smtp_server() as server:
        yield server


def profile_for(world, relay, **extra) -> SendingProfile:
    values = {
        "organisation": world.est_a1,
        "name": "Relais interne",
        "host": relay.host,
        "port": relay.port,
        "username": USERNAME,
        "password": PASSWORD,
        "from_address": "informatique@chu-a.example",
        "ca_certificate": relay.ca_pem,
        "timeout": 5,
    }
    values.update(extra)
    return SendingProfile.objects.create(**values)


def raw_password(profile) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM phishing_sendingprofile WHERE id = %s", [profile.pk])
        return cursor.fetchone()[0]


def test_the_form_stores_the_password_encrypted_and_never_shows_it(world, relay):
    client = browser(world.editor)
    response = client.post(
        reverse("phishing:profile_create", args=[world.est_a1.pk]),
        {
            "name": "Relais interne",
            "host": relay.host,
            "port": relay.port,
            "security": "starttls",
            "username": USERNAME,
            "password": PASSWORD,
            "from_address": "informatique@chu-a.example",
            "ca_certificate": relay.ca_pem,
            "timeout": 5,
        },
    )
    assert response.status_code == 302
    profile = SendingProfile.objects.get()
    stored = raw_password(profile)
    assert stored.startswith("fernet:") and PASSWORD not in stored
    assert profile.password == PASSWORD
    edit = client.get(reverse("phishing:profile_edit", args=[profile.pk])).content.decode()
    assert PASSWORD not in edit and stored not in edit
    # Saving the form without typing a password keeps the old one.
    client.post(
        reverse("phishing:profile_edit", args=[profile.pk]),
        {
            "name": "Relais interne",
            "host": relay.host,
            "port": relay.port,
            "security": "starttls",
            "username": USERNAME,
            "password": "",
            "from_address": "dsi@chu-a.example",
            "ca_certificate": relay.ca_pem,
            "timeout": 5,
        },
    )
    profile.refresh_from_db()
    assert profile.from_address == "dsi@chu-a.example" and profile.password == PASSWORD
    events = AuditEvent.objects.filter(action__startswith="phishing.profile")
    assert events.count() == 2
    assert all(PASSWORD not in str(event.details) for event in events)


def test_a_test_message_goes_through_starttls_and_authentication(world, relay):
    profile = profile_for(world, relay)
    response = browser(world.editor).post(
        reverse("phishing:profile_test", args=[profile.pk]),
        {"recipient": "rssi@chu-a.example"},
        follow=True,
    )
    assert "Message de test remis au serveur pour rssi@chu-a.example." in response.content.decode()
    [(sender, recipients, message)] = relay.messages
    assert sender == "informatique@chu-a.example" and recipients == ["rssi@chu-a.example"]
    assert "test du profil d'envoi" in message["Subject"]
    assert relay.logins == [USERNAME]
    profile.refresh_from_db()
    assert profile.last_test_ok is True


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"password": "mauvais"}, "Authentification refusée"),
        ({"ca_certificate": ""}, "Certificat du serveur refusé"),
        ({"security": "none", "username": ""}, "Le serveur a répondu 530"),
        ({"port": 1}, "Connexion impossible à 127.0.0.1:1"),
    ],
    ids=[
        "wrong password",
        "untrusted certificate",
        "no TLS on a relay requiring it",
        "closed port",
    ],
)
def test_failures_are_explained_and_nothing_is_sent(world, relay, change, expected):
    profile = profile_for(world, relay, **change)
    outcome = smtp.send_test(profile, "rssi@chu-a.example")
    assert not outcome.ok and expected in outcome.message
    assert relay.messages == []
    profile.refresh_from_db()
    assert profile.last_test_ok is False and expected in profile.last_test_message


def test_temporary_and_permanent_refusals_are_told_apart(world, relay):
    profile = profile_for(world, relay)
    relay.fail_with.append((451, "Greylisted, try again later"))
    server = smtp.connect(profile)
    try:
        with pytest.raises(smtp.SmtpProblem) as temporary:
            try:
                server.sendmail(profile.from_address, ["a@chu-a.example"], b"Subject: x\r\n\r\nx")
            except smtp.smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                raise smtp.classify(code, text) from None
        assert temporary.value.temporary and "451" in str(temporary.value)
    finally:
        server.quit()
    assert smtp.classify(550, b"No such user").temporary is False


def test_a_bad_authority_certificate_is_refused_by_the_form(world):
    response = browser(world.editor).post(
        reverse("phishing:profile_create", args=[world.est_a1.pk]),
        {
            "name": "Relais",
            "host": "smtp.chu-a.example",
            "port": 587,
            "security": "starttls",
            "from_address": "informatique@chu-a.example",
            "ca_certificate": "-----BEGIN CERTIFICATE-----\nnimporte quoi\n-----END CERTIFICATE-----",
            "timeout": 20,
        },
    )
    assert response.status_code == 200
    assert "Certificat PEM illisible" in response.content.decode()
    assert not SendingProfile.objects.exists()


def test_an_impossible_port_is_named_and_nothing_is_saved(world):
    response = browser(world.editor).post(
        reverse("phishing:profile_create", args=[world.est_a1.pk]),
        {
            "name": "Relais",
            "host": "smtp.chu-a.example",
            "port": 70000,
            "security": "starttls",
            "from_address": "informatique@chu-a.example",
            "timeout": 20,
        },
    )
    assert response.status_code == 200
    assert "Un port entre 1 et 65535." in response.content.decode()
    assert not SendingProfile.objects.exists()
