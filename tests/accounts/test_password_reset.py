"""Forgotten password: a one-time link by e-mail, with no way to learn who has an account."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from hygie.accounts import password_reset
from hygie.accounts.models import PasswordReset
from hygie.core.models import AuditEvent
from tests.accounts.links import invite, one_time_link, request_reset
from tests.accounts.second_factor import anonymous, code, enrolled, submit_code, submit_password
from tests.clients import browser
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def back_to_french():
    # A request in English leaves English active in this thread; later tests expect French.
    yield
    translation.deactivate()


NEW_PASSWORD = "pivoine lagune escabeau 42"
User = get_user_model()
RESET = reverse("accounts:password_reset")
SET = reverse("accounts:password_reset_set")


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def ask(email: str, client=None):
    client = client or anonymous()
    return client.post(RESET, {"email": email})


def use(link: str, password: str = NEW_PASSWORD, client=None):
    client = client or anonymous()
    opened = client.get(link)
    response = client.post(SET, {"new_password": password, "confirm": password})
    return client, opened, response


def test_login_page_offers_the_forgotten_password_link(db):
    page = text(anonymous().get(reverse("accounts:login")))
    assert f'href="{RESET}"' in page and "Mot de passe oublié ?" in page


def test_rssi_resets_the_password_sessions_end_and_the_code_is_still_asked(world):
    device, _codes = enrolled(world.editor)
    elsewhere = browser(world.editor)  # a session left open on another workstation
    assert elsewhere.get(reverse("orgs:home")).status_code == 200

    response = ask("RSSI-A@example.org")  # any case
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert "valable 60 minutes" in text(anonymous().get(response["Location"]))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rssi-a@example.org"]
    assert message.subject == "Hygie — choisir un nouveau mot de passe"
    assert "Bonjour Claire Dumont," in message.body
    assert "compte Hygie « rssi-a »" in message.body
    assert "valable 60 minutes" in message.body
    # Built on HYGIE_BASE_URL, not on the Host header of the request ("testserver" here).
    assert message.body.count("http://127.0.0.1:8000/connexion/reinitialiser/") == 1
    link = one_time_link(message)
    reset = PasswordReset.objects.get(user=world.editor)
    assert reset.expires_at - reset.created_at < timedelta(hours=1, seconds=5)
    assert link.split("/")[-2] not in reset.token_hash  # only a keyed hash is stored

    client = anonymous()
    opened = client.get(link)
    assert opened["Location"] == SET  # the secret leaves the address bar
    page = text(client.get(SET))
    assert "Compte : <strong>rssi-a</strong>." in page and "reste demandée" in page
    weak = client.post(SET, {"new_password": "aaaaaaaaaaaaaaaa", "confirm": "aaaaaaaaaaaaaaaa"})
    assert 'class="error" role="alert"' in text(weak)
    assert User.objects.get(pk=world.editor.pk).check_password(PASSWORD)
    done = client.post(SET, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done["Location"] == reverse("accounts:login")
    page = text(client.get(done["Location"]))
    assert "Toutes vos sessions ouvertes ont été fermées" in page
    assert 'value="rssi-a"' in page

    # The session left open elsewhere has ended.
    assert elsewhere.get(reverse("orgs:home"))["Location"].startswith(reverse("accounts:login"))
    # The old password no longer opens the door; the new one leads to the code, not inside.
    assert "incorrect" in text(submit_password(anonymous(), "rssi-a", PASSWORD))
    response = submit_password(client, "rssi-a", NEW_PASSWORD)
    assert response["Location"] == reverse("accounts:login_code")
    assert client.get(reverse("orgs:home"))["Location"].startswith(reverse("accounts:login"))
    assert submit_code(client, code(device, 1))["Location"] == reverse("orgs:home")

    event = AuditEvent.objects.get(action="auth.password_reset")
    assert event.actor_id == world.editor.pk and event.target_id == str(world.editor.pk)
    assert AuditEvent.objects.filter(
        action="auth.password_reset_requested", target_id=str(world.editor.pk)
    ).exists()


def test_no_enumeration_unknown_address_gets_the_same_answer_and_no_mail(world):
    known = ask(world.reader.email)
    unknown = ask("personne@nulle-part.example")
    world.outsider.is_active = False
    world.outsider.save()
    deactivated = ask(world.outsider.email)
    assert known.status_code == unknown.status_code == deactivated.status_code == 302
    assert known["Location"] == unknown["Location"] == deactivated["Location"]
    pages = {
        re.sub(
            r'name="csrfmiddlewaretoken" value="[^"]+"', "", text(anonymous().get(r["Location"]))
        )
        for r in (known, unknown, deactivated)
    }
    assert len(pages) == 1
    # One e-mail in all: the reader's. Nothing for the unknown or the deactivated address.
    assert [m.to for m in mail.outbox] == [[world.reader.email]]
    assert not PasswordReset.objects.filter(user=world.outsider).exists()


def test_a_malformed_address_is_explained(db):
    response = anonymous().post(RESET, {"email": "pas-une-adresse"})
    assert "adresse e-mail valide" in text(response)
    assert not mail.outbox


def test_link_older_than_one_hour_is_refused_with_a_clear_page(world):
    link = request_reset(world.reader.email)
    PasswordReset.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _client, opened, response = use(link)
    assert "Ce lien ne fonctionne plus" in text(opened)
    assert "Ce lien ne fonctionne plus" in text(response)
    assert User.objects.get(pk=world.reader.pk).check_password(PASSWORD)


def test_a_link_expiring_while_the_form_is_open_is_refused(world):
    link = request_reset(world.reader.email)
    client = anonymous()
    assert client.get(link).status_code == 302
    PasswordReset.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(SET, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "Ce lien ne fonctionne plus" in text(response)
    assert User.objects.get(pk=world.reader.pk).check_password(PASSWORD)


def test_a_used_link_cannot_be_used_again_and_older_links_die_with_it(world):
    first = request_reset(world.reader.email)
    second = request_reset(world.reader.email)
    _client, _opened, done = use(second)
    assert done["Location"] == reverse("accounts:login")
    for link in (second, first):
        _client, opened, response = use(link, "encore un tout autre mot de passe")
        assert "Ce lien ne fonctionne plus" in text(opened)
    assert User.objects.get(pk=world.reader.pk).check_password(NEW_PASSWORD)


def test_changing_the_password_another_way_kills_the_link(world):
    link = request_reset(world.reader.email)
    world.reader.set_password("changé depuis mon compte entre-temps")
    world.reader.save()
    assert "Ce lien ne fonctionne plus" in text(anonymous().get(link))


def test_a_deactivated_user_cannot_use_a_link_sent_earlier(world):
    link = request_reset(world.reader.email)
    User.objects.filter(pk=world.reader.pk).update(is_active=False)
    _client, opened, _response = use(link)
    assert "Ce lien ne fonctionne plus" in text(opened)
    assert User.objects.get(pk=world.reader.pk).check_password(PASSWORD)


def test_a_browser_with_an_open_session_leaves_the_link_unused(world):
    link = request_reset(world.reader.email)
    assert "Une session est déjà ouverte" in text(browser(world.editor).get(link))
    assert anonymous().get(link).status_code == 302


def test_mangled_link_shows_a_page_not_an_error(db):
    for path in ("/connexion/reinitialiser/abc/", "/connexion/reinitialiser/%00%ff/"):
        assert "Ce lien ne fonctionne plus" in text(anonymous().get(path))


# --- Throttling ----------------------------------------------------------------------------------


def test_requests_are_throttled_per_email_address(world):
    for _ in range(password_reset.EMAIL_LIMIT["capacity"]):
        assert ask(world.reader.email).status_code == 302
    refused = ask(world.reader.email.upper())
    assert "Trop de demandes" in text(refused)
    assert len(mail.outbox) == password_reset.EMAIL_LIMIT["capacity"]
    # The same refusal for an address without an account: the limit reveals nothing.
    for _ in range(password_reset.EMAIL_LIMIT["capacity"]):
        ask("inconnu@nulle-part.example")
    assert "Trop de demandes" in text(ask("inconnu@nulle-part.example"))
    # Another address is not affected.
    assert ask(world.editor.email).status_code == 302
    assert AuditEvent.objects.filter(action="auth.password_reset_throttled").count() == 2


def test_requests_are_throttled_per_client_address(world):
    for n in range(password_reset.IP_LIMIT["capacity"]):
        ask(f"essai{n}@nulle-part.example")
    assert "Trop de demandes" in text(ask(world.reader.email))
    assert not mail.outbox
    # Someone else, behind another address, still gets their link.
    other = anonymous()
    other.defaults["REMOTE_ADDR"] = "10.1.2.3"
    assert ask(world.reader.email, other).status_code == 302
    assert len(mail.outbox) == 1


# --- Accounts without a local password -----------------------------------------------------------


@override_settings(OIDC_ENABLED=True, OIDC_PROVIDER_NAME="Pro Santé Connect")
def test_single_sign_on_account_is_told_to_use_sso_and_gets_no_password(world):
    sso_user = User.objects.create(
        username="sso@chu-a1.example", email="sso@chu-a1.example", last_login=timezone.now()
    )
    sso_user.set_unusable_password()
    sso_user.save()
    response = ask("sso@chu-a1.example")
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "n'a pas de mot de passe Hygie" in body
    assert "Se connecter avec Pro Santé Connect" in body
    assert "/connexion/reinitialiser/" not in body
    assert not PasswordReset.objects.exists()


def test_an_invitee_who_has_not_answered_is_sent_back_to_the_invitation(world):
    invitation, _link = invite(world)
    mail.outbox.clear()
    ask(invitation.user.email)
    body = mail.outbox[0].body
    assert "utilisez le lien de l'e-mail d'invitation" in body
    assert "demandez à Claire Dumont de vous renvoyer l'invitation" in body
    assert "/connexion/reinitialiser/" not in body
    assert not PasswordReset.objects.exists()


def test_the_email_follows_the_language_of_the_person_asking(world):
    client = anonymous()
    client.cookies["django_language"] = "en"
    ask(world.reader.email, client)
    assert mail.outbox[0].subject == "Hygie — choose a new password"


def test_housekeeping_removes_dead_links_and_keeps_live_ones(world):
    from hygie.core.tasks import run_housekeeping

    now = timezone.now()
    common = {"user": world.reader, "password_fingerprint": "x"}
    PasswordReset.objects.create(token_hash="a" * 64, expires_at=now - timedelta(days=2), **common)
    PasswordReset.objects.create(
        token_hash="b" * 64, expires_at=now + timedelta(minutes=30), **common
    )
    counts = run_housekeeping()
    assert counts["password_reset_links"] == 1
    assert list(PasswordReset.objects.values_list("token_hash", flat=True)) == ["b" * 64]
