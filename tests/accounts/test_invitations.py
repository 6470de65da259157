"""Inviting a colleague: the RSSI brings a DPO in by e-mail, the DPO chooses a password."""

from __future__ import annotations

import html
import socket
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from hygie.accounts import invitations
from hygie.accounts.models import Invitation
from hygie.core.models import AuditEvent
from hygie.orgs.models import Membership
from hygie.orgs.roles import Role
from tests.accounts.links import invite, links_in, one_time_link
from tests.accounts.second_factor import anonymous, submit_password
from tests.clients import browser


@pytest.fixture(autouse=True)
def back_to_french():
    # A request in English leaves English active in this thread; later tests expect French.
    yield
    translation.deactivate()


NEW_PASSWORD = "pivoine lagune escabeau 42"
User = get_user_model()


def invite_form(world, org=None, **fields):
    data = {
        "email": "Anne-Laure.DAlmeida@CHU-A1.example",
        "first_name": "Anne-Laure",
        "last_name": "D'Almeida",
        "role": Role.DPO,
        **fields,
    }
    client = browser(world.editor, sudo=True)
    return client, client.post(reverse("orgs:invite", args=[(org or world.est_a1).pk]), data)


def text(response) -> str:
    """The page as the reader sees it (entities decoded)."""
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def open_link(path, client=None):
    """What the invitee's browser does with the link: it lands on the password page."""
    client = client or anonymous()
    response = client.get(path)
    return client, response


# --- The whole journey ---------------------------------------------------------------------------


def test_rssi_invites_a_dpo_who_chooses_a_password_then_enrols_totp(world):
    client, response = invite_form(world)
    members = reverse("orgs:members", args=[world.est_a1.pk])
    assert response["Location"] == members

    # The account exists, with the role, and no password anyone could use.
    dpo = User.objects.get(email="anne-laure.dalmeida@chu-a1.example")
    assert dpo.username == "anne-laure.dalmeida@chu-a1.example"
    assert (dpo.first_name, dpo.last_name) == ("Anne-Laure", "D'Almeida")
    assert not dpo.has_usable_password()
    assert Membership.objects.filter(user=dpo, organisation=world.est_a1, role=Role.DPO).exists()
    invitation = Invitation.objects.get(user=dpo)
    assert invitation.expires_at - invitation.sent_at == timedelta(hours=72)

    # The roles page lists the pending invitation with its expiry, and confirms the sending.
    page = text(client.get(members))
    assert "Invitation envoyée à anne-laure.dalmeida@chu-a1.example" in page
    assert "Invitations en attente" in page and "jusqu'au" in page
    assert "anne-laure.dalmeida@chu-a1.example" in page

    # One e-mail, in French, naming who invites, where, as what, and for how long.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anne-laure.dalmeida@chu-a1.example"]
    assert message.subject == "Invitation à rejoindre Hygie — CHU A1"
    assert "Bonjour Anne-Laure D'Almeida," in message.body  # plain text: no HTML escaping
    assert "Claire Dumont vous invite à rejoindre Hygie" in message.body
    assert "comme DPO pour CHU A1" in message.body
    assert "valable 72 heures" in message.body
    assert "Votre identifiant de connexion : anne-laure.dalmeida@chu-a1.example" in message.body
    assert "application d'authentification" in message.body  # a DPO needs a second factor
    assert message.body.count("http://127.0.0.1:8000/connexion/invitation/") == 1
    link = one_time_link(message)

    # The link leads to the password page; the secret leaves the address bar.
    invitee, response = open_link(link)
    assert response["Location"] == reverse("accounts:invitation_set_password")
    page = text(invitee.get(response["Location"]))
    assert "Vous êtes invité(e) comme DPO pour CHU A1" in page
    assert "anne-laure.dalmeida@chu-a1.example" in page

    # Django's password rules apply.
    set_url = reverse("accounts:invitation_set_password")
    weak = invitee.post(set_url, {"new_password": "court", "confirm": "court"})
    assert "au moins 12 caractères" in text(weak)
    assert not User.objects.get(pk=dpo.pk).has_usable_password()

    done = invitee.post(set_url, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done["Location"] == reverse("accounts:login")
    login_page = text(invitee.get(done["Location"]))
    assert "Votre mot de passe est enregistré" in login_page
    assert 'value="anne-laure.dalmeida@chu-a1.example"' in login_page  # the username, filled in

    # A privileged role: the password leads to second-factor enrolment, not in yet.
    response = submit_password(invitee, dpo.username, NEW_PASSWORD)
    assert response["Location"] == reverse("accounts:enrol")
    assert invitee.get(reverse("orgs:home"))["Location"].startswith(reverse("accounts:login"))

    accepted = Invitation.objects.get(pk=invitation.pk)
    assert accepted.accepted_at is not None
    actions = list(
        AuditEvent.objects.filter(organisation_id_at_event=world.est_a1.pk)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "accounts.invitation_sent",
        "orgs.role_granted",
        "accounts.invitation_accepted",
    ]
    sent = AuditEvent.objects.get(action="accounts.invitation_sent")
    assert sent.actor == world.editor
    assert sent.details["email"] == "anne-laure.dalmeida@chu-a1.example"
    assert sent.details["new_account"] is True
    assert AuditEvent.objects.get(action="accounts.invitation_accepted").actor_id == dpo.pk

    # The pending list no longer shows it.
    assert "Aucune invitation en attente" in text(client.get(members))


def test_inviting_requires_reauthentication(world):
    client = browser(world.editor)  # logged in, but not recently re-authenticated
    url = reverse("orgs:invite", args=[world.est_a1.pk])
    response = client.post(url, {"email": "x@chu-a1.example", "first_name": "X", "last_name": "Y"})
    assert response["Location"].startswith(reverse("accounts:sudo"))
    assert not mail.outbox and not Invitation.objects.exists()


def test_invitation_email_is_french_even_when_the_rssi_reads_english(world):
    client = browser(world.editor, sudo=True)
    client.cookies["django_language"] = "en"
    url = reverse("orgs:invite", args=[world.est_a1.pk])
    response = client.post(
        url, {"email": "dpo@chu-a1.example", "first_name": "Lou", "last_name": "Roy", "role": "dpo"}
    )
    assert response.status_code == 302
    assert "vous invite à rejoindre Hygie" in mail.outbox[0].body
    assert "Invitation sent to dpo@chu-a1.example" in text(client.get(response["Location"]))


# --- Who may invite ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("outsider", 404),  # GHT A does not exist for them
        ("analyst", 404),  # no nominative page at all
        ("reader", 403),  # sees GHT A's roles, told a role is missing (decision 0002)
    ],
)
def test_only_a_manager_of_the_node_may_invite(world, persona, status):
    client = browser(getattr(world, persona), sudo=True)
    url = reverse("orgs:invite", args=[world.ght_a.pk])
    data = {"email": "intrus@example.org", "first_name": "I", "last_name": "N", "role": "rssi"}
    assert client.get(url).status_code == status
    assert client.post(url, data).status_code == status
    assert not User.objects.filter(email="intrus@example.org").exists()
    assert not mail.outbox
    # Nor do they see, let alone act on, pending invitations of GHT A.
    invite(world, "pending@chu-a1.example")
    page = client.get(reverse("orgs:members", args=[world.ght_a.pk]))
    assert "Invitations en attente" not in page.content.decode()
    assert "/invitations/" not in page.content.decode()


def test_outsider_cannot_resend_or_revoke_an_invitation_of_ght_a(world):
    invitation, _link = invite(world)
    mail.outbox.clear()
    outsider = browser(world.outsider, sudo=True)
    for name in ("orgs:invitation_resend", "orgs:invitation_revoke"):
        for org in (world.ght_a, world.ght_b):
            response = outsider.post(reverse(name, args=[org.pk, invitation.pk]))
            assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.send_count == 1 and invitation.revoked_at is None and not mail.outbox


# --- Someone who already has an account ----------------------------------------------------------


def test_inviting_an_existing_user_adds_the_role_without_a_password_link(world):
    reader_password = world.reader.password
    client, response = invite_form(
        world, email="LECTEUR-A@Example.org", first_name="Autre", last_name="Nom", role="qualite"
    )
    assert response.status_code == 302
    assert Membership.objects.filter(
        user=world.reader, organisation=world.est_a1, role=Role.QUALITY
    ).exists()
    assert not Invitation.objects.exists()
    assert User.objects.filter(email__iexact="lecteur-a@example.org").count() == 1
    world.reader.refresh_from_db()
    assert world.reader.password == reader_password
    assert (world.reader.first_name, world.reader.last_name) == ("", "")  # names kept as they were
    page = text(client.get(response["Location"]))
    assert "avait déjà un compte : le rôle lui est attribué" in page

    # They are told, with no link but the login page.
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["lecteur-a@example.org"]
    assert "vous a attribué le rôle Qualité pour CHU A1" in notice.body
    assert reverse("accounts:login") in links_in(notice)
    assert "/connexion/invitation/" not in notice.body
    assert "/connexion/reinitialiser/" not in notice.body
    assert AuditEvent.objects.get(action="orgs.role_granted").details["invitation"] is False


def test_a_role_already_held_is_refused_with_a_clear_message(world):
    _client, response = invite_form(
        world, email=world.editor.email, role=Role.RSSI, org=world.ght_a
    )
    assert "Cette personne a déjà ce rôle ici." in text(response)
    assert not mail.outbox


def test_a_deactivated_account_cannot_be_invited_back_silently(world):
    world.reader.is_active = False
    world.reader.save()
    _client, response = invite_form(world, email=world.reader.email)
    assert "est désactivé" in text(response)
    assert not Membership.objects.filter(user=world.reader, organisation=world.est_a1).exists()
    assert not mail.outbox


def test_second_invitation_to_someone_who_has_not_answered_sends_a_link_too(world):
    first, first_link = invite(world)
    second, second_link = invite(world, at=world.est_a2, role=Role.QUALITY)
    assert first.user_id == second.user_id and first_link != second_link
    client, _ = open_link(second_link)
    client.post(
        reverse("accounts:invitation_set_password"),
        {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    # The account is live: both invitations are answered, and the first link says so.
    assert not Invitation.objects.pending().exists()
    _client, response = open_link(first_link)
    assert "a déjà été utilisée" in text(response)
    assert Membership.objects.filter(user=first.user).count() == 2


# --- Links that no longer work -------------------------------------------------------------------


def test_link_older_than_72_hours_is_refused_with_a_clear_page(world):
    invitation, link = invite(world)
    # 71 hours later it still works...
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() + timedelta(hours=1)
    )
    assert open_link(link)[1].status_code == 302
    # ...73 hours later it does not, whichever page the invitee is on.
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(hours=73),
        expires_at=timezone.now() - timedelta(hours=1),
    )
    client, response = open_link(link)
    page = text(response)
    assert "Ce lien d'invitation ne fonctionne plus" in page
    assert "Cette invitation a expiré le" in page
    assert "Demandez à Claire Dumont de vous la renvoyer" in page
    stale = client.post(
        reverse("accounts:invitation_set_password"),
        {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "ne fonctionne plus" in text(stale)
    assert not User.objects.get(pk=invitation.user_id).has_usable_password()

    # The roles page shows it as expired, ready to be sent again.
    members = browser(world.editor).get(reverse("orgs:members", args=[world.est_a1.pk]))
    assert "expirée" in text(members)


def test_a_used_link_cannot_be_used_again_even_from_a_second_tab(world):
    invitation, link = invite(world)
    first_tab, _ = open_link(link)
    second_tab, _ = open_link(link)
    set_url = reverse("accounts:invitation_set_password")
    first = first_tab.post(set_url, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert first["Location"] == reverse("accounts:login")
    other = "un autre mot de passe tout aussi long"
    second = second_tab.post(set_url, {"new_password": other, "confirm": other})
    assert "a déjà été utilisée" in text(second)
    user = User.objects.get(pk=invitation.user_id)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(other)
    assert "a déjà été utilisée" in text(open_link(link)[1])
    assert AuditEvent.objects.filter(action="accounts.invitation_accepted").count() == 1


def test_an_unknown_or_mangled_link_shows_a_page_not_an_error(world):
    _invitation, link = invite(world)
    for path in (link[:-3] + "xyz/", "/connexion/invitation/%00/", "/connexion/invitation/a/"):
        page = text(anonymous().get(path))
        assert "Ce lien n'est pas (ou plus) valable" in page


def test_a_deactivated_invitee_cannot_use_the_link(world):
    invitation, link = invite(world)
    User.objects.filter(pk=invitation.user_id).update(is_active=False)
    assert "est désactivé" in text(open_link(link)[1])


def test_a_browser_with_an_open_session_leaves_the_link_unused(world):
    invitation, link = invite(world)
    page = text(browser(world.reader).get(link))
    assert "Une session est déjà ouverte" in page
    assert open_link(link)[1].status_code == 302  # still good for the invitee


def test_an_invitee_signing_in_through_single_sign_on_closes_the_invitation(world):
    invitation, link = invite(world)
    # What the OIDC backend does once the provider vouches for the address.
    anonymous().force_login(invitation.user, backend="hygie.accounts.oidc.HygieOIDCBackend")
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert AuditEvent.objects.get(action="accounts.invitation_accepted").details["method"] == "oidc"
    assert "a déjà été utilisée" in text(open_link(link)[1])


# --- Re-sending and revoking ---------------------------------------------------------------------


def test_resending_gives_a_new_link_and_kills_the_old_one(world):
    invitation, old_link = invite(world)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    client = browser(world.editor, sudo=True)
    members = reverse("orgs:members", args=[world.ght_a.pk])
    response = client.post(
        reverse("orgs:invitation_resend", args=[world.ght_a.pk, invitation.pk]),
        HTTP_REFERER=f"http://testserver{members}",
    )
    assert response["Location"] == members
    assert "le lien précédent ne fonctionne plus" in text(client.get(members))
    invitation.refresh_from_db()
    assert invitation.send_count == 2
    assert invitation.expires_at > timezone.now() + timedelta(hours=71)
    new_link = one_time_link(mail.outbox[-1])
    assert new_link != old_link
    assert "ne fonctionne plus" in text(open_link(old_link)[1])
    assert open_link(new_link)[1].status_code == 302
    event = AuditEvent.objects.get(action="accounts.invitation_resent")
    assert event.actor == world.editor and event.details["send_count"] == 2


def test_revoking_kills_the_link_removes_the_role_and_the_unused_account(world):
    invitation, link = invite(world)
    user_id = invitation.user_id
    client = browser(world.editor, sudo=True)
    response = client.post(reverse("orgs:invitation_revoke", args=[world.est_a1.pk, invitation.pk]))
    assert response.status_code == 302
    assert "révoquée" in text(client.get(response["Location"]))
    assert not User.objects.filter(pk=user_id).exists()
    assert not Membership.objects.filter(user_id=user_id).exists()
    assert "Ce lien n'est pas (ou plus) valable" in text(open_link(link)[1])
    event = AuditEvent.objects.get(action="accounts.invitation_revoked")
    assert event.details == {
        "email": "ines.lefebvre@chu-a1.example",
        "role": Role.DPO,
        "role_removed": True,
        "account_deleted": True,
    }
    # The address is free again: a corrected invitation starts afresh.
    again, _ = invite(world)
    assert again.user_id != user_id


def test_revoking_one_of_two_invitations_keeps_the_account_and_the_other(world):
    first, first_link = invite(world)
    second, second_link = invite(world, at=world.est_a2, role=Role.QUALITY)
    invitations.revoke(first, request=None)
    assert User.objects.filter(pk=first.user_id).exists()
    assert "ne fonctionne plus" in text(open_link(first_link)[1])
    assert open_link(second_link)[1].status_code == 302
    assert list(
        Membership.objects.filter(user_id=first.user_id).values_list("role", flat=True)
    ) == [Role.QUALITY]


# --- Failures ------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_when_the_mail_server_is_down_nothing_is_created(world):
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": closed_port(),
    }
    with override_settings(**smtp):
        _client, response = invite_form(world)
    assert "Le serveur de messagerie n'a pas accepté" in text(response)
    assert not User.objects.filter(email="anne-laure.dalmeida@chu-a1.example").exists()
    assert not Invitation.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="accounts.invitation").exists()


def test_invitations_are_throttled_per_manager(world):
    for n in range(invitations.INVITER_LIMIT["capacity"]):
        invite(world, f"personne{n}@chu-a1.example")
    _client, response = invite_form(world)
    assert "Trop d'invitations" in text(response)
    assert not User.objects.filter(email="anne-laure.dalmeida@chu-a1.example").exists()


def test_roles_page_query_count_does_not_grow_with_pending_invitations(world):
    client = browser(world.editor)
    url = reverse("orgs:members", args=[world.ght_a.pk])
    invite(world, "un@chu-a1.example")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(5):
        invite(world, f"autre{n}@chu-a1.example", at=world.est_a2)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert "autre4@chu-a1.example" in page.content.decode()
    assert len(many) == len(few)
