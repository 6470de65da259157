"""Re-authentication before sensitive actions, and the journal of role changes."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from hygie.accounts.models import ApiToken
from hygie.accounts.services import SUDO_KEY
from hygie.core.models import AuditEvent
from hygie.orgs.models import Membership
from hygie.orgs.roles import Role
from tests.accounts.second_factor import code, enrolled
from tests.clients import browser
from tests.factories import PASSWORD


def sudo_next(response) -> str:
    parts = urlsplit(response["Location"])
    assert parts.path == reverse("accounts:sudo")
    return parse_qs(parts.query)["next"][0]


def test_adding_a_role_asks_for_the_password_first(world):
    client = browser(world.editor)
    add = reverse("orgs:membership_add", args=[world.ght_a.pk])
    response = client.get(add)
    assert sudo_next(response) == add

    wrong = client.post(response["Location"], {"secret": "not my password", "next": add})
    assert "incorrect" in wrong.content.decode()
    assert AuditEvent.objects.filter(action="auth.sudo_failed", target_id=world.editor.pk)

    confirmed = client.post(response["Location"], {"secret": PASSWORD, "next": add})
    assert confirmed["Location"] == add
    assert AuditEvent.objects.filter(action="auth.sudo", actor=world.editor).exists()

    created = client.post(add, {"user": "sans-role", "role": Role.READER})
    assert created["Location"] == reverse("orgs:members", args=[world.ght_a.pk])
    membership = Membership.objects.get(user=world.nobody)
    event = AuditEvent.objects.get(action="orgs.role_granted")
    assert event.actor == world.editor
    assert event.organisation_id_at_event == world.ght_a.pk
    assert event.details == {"user": "sans-role", "role": Role.READER}
    assert event.target_id == str(membership.pk)


def test_a_posted_form_comes_back_to_its_page_after_reauthentication(world):
    # "Retirer" is a POST-only button: after the password, back to the roles page, not a 405.
    client = browser(world.editor)
    members = reverse("orgs:members", args=[world.ght_a.pk])
    membership = Membership.objects.get(user=world.reader)
    remove = reverse("orgs:membership_remove", args=[world.ght_a.pk, membership.pk])
    response = client.post(remove, HTTP_REFERER=f"http://testserver{members}")
    assert sudo_next(response) == f"http://testserver{members}"
    assert Membership.objects.filter(pk=membership.pk).exists()
    # A referer from elsewhere is not followed.
    response = client.post(remove, HTTP_REFERER="https://evil.example/")
    assert sudo_next(response) == "/"


def test_removing_a_role_is_journalled(world):
    client = browser(world.editor, sudo=True)
    membership = Membership.objects.get(user=world.reader)
    client.post(reverse("orgs:membership_remove", args=[world.ght_a.pk, membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = AuditEvent.objects.get(action="orgs.role_revoked")
    assert event.actor == world.editor
    assert event.details["user"] == "lecteur-a" and event.details["role"] == Role.READER


def test_someone_without_the_right_is_not_asked_for_a_password(world):
    # The outsider learns nothing from a password prompt: 404 straight away.
    client = browser(world.outsider)
    assert client.get(reverse("orgs:membership_add", args=[world.ght_a.pk])).status_code == 404
    membership = Membership.objects.get(user=world.reader)
    url = reverse("orgs:membership_remove", args=[world.ght_a.pk, membership.pk])
    assert client.post(url).status_code == 404


def test_creating_a_token_asks_for_the_password_first(world):
    client = browser(world.reader)
    create = reverse("accounts:token_create")
    response = client.post(create, {"name": "x", "scope": "read", "expires_in_days": 30})
    assert sudo_next(response)
    assert not ApiToken.objects.exists()


def test_changing_the_password_asks_for_it_first(world):
    client = browser(world.reader)
    assert sudo_next(client.get(reverse("accounts:password_change")))


def test_a_totp_code_also_confirms_identity(world):
    device, _ = enrolled(world.editor)
    client = browser(world.editor)
    response = client.post(reverse("accounts:sudo"), {"secret": code(device), "next": "/compte/"})
    assert response["Location"] == "/compte/"
    assert client.get(reverse("accounts:token_create")).status_code == 200


def test_sudo_mode_expires(world, settings):
    client = browser(world.editor, sudo=True)
    add = reverse("orgs:membership_add", args=[world.ght_a.pk])
    assert client.get(add).status_code == 200
    session = client.session
    session[SUDO_KEY] = time.time() - 1
    session.save()
    assert sudo_next(client.get(add)) == add


def test_reauthentication_is_throttled(world):
    client = browser(world.editor)
    for _ in range(5):
        client.post(reverse("accounts:sudo"), {"secret": "wrong password!"})
    response = client.post(reverse("accounts:sudo"), {"secret": PASSWORD})
    assert "Trop de tentatives" in response.content.decode()
    assert SUDO_KEY not in client.session
