"""API tokens: Bearer authentication, read-only scope, organisation limit, revocation, expiry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hygie.accounts.models import ApiToken, ApiTokenScope
from hygie.orgs.models import Membership, StaffMember
from tests import factories
from tests.clients import browser

ME = "/api/v1/me/"
STAFF = "/api/v1/staff/"


def api(secret: str, scheme: str = "Bearer") -> Client:
    # No session, no CSRF cookie: a script with a token.
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"{scheme} {secret}")


def post_json(client, url, data, method="post"):
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


def new_staff(establishment, last_name="Nouvelle"):
    return {
        "establishment": establishment.pk,
        "first_name": "Lou",
        "last_name": last_name,
        "job_family": "soignant",
    }


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_bearer_token_authenticates(world):
    token, secret = ApiToken.issue(world.editor, "supervision")
    assert secret.startswith("hyg_")
    response = api(secret).get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "rssi-a"
    assert body["token"] == {"scope": "read", "organisation": None, "expires_at": None}
    assert ids(api(secret).get(STAFF)) == {world.staff_a1.pk}
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_scheme_name_is_case_insensitive(world):
    _, secret = ApiToken.issue(world.editor, "supervision")
    assert api(secret, scheme="bearer").get(ME).status_code == 200


def test_a_read_only_token_refuses_writes(world):
    _, secret = ApiToken.issue(world.editor, "lecture", ApiTokenScope.READ)
    client = api(secret)
    response = post_json(client, STAFF, new_staff(world.est_a1))
    assert response.status_code == 403
    assert "lecture seule" in response.json()["detail"]
    url = f"{STAFF}{world.staff_a1.pk}/"
    assert post_json(client, url, {"job_title": "x"}, "patch").status_code == 403
    assert client.delete(url).status_code == 403
    assert not StaffMember.objects.filter(last_name="Nouvelle").exists()
    assert StaffMember.objects.filter(pk=world.staff_a1.pk, job_title="").exists()


def test_a_write_token_writes_within_its_owner_rights(world):
    _, secret = ApiToken.issue(world.editor, "sync RH", ApiTokenScope.WRITE)
    client = api(secret)
    response = post_json(client, STAFF, new_staff(world.est_a1))
    assert response.status_code == 201, response.content
    # No CSRF token needed with a Bearer token (no cookie to abuse).
    assert StaffMember.objects.filter(last_name="Nouvelle", establishment=world.est_a1).exists()
    # ...but never beyond them.
    response = post_json(client, STAFF, new_staff(world.est_b1, "Ailleurs"))
    assert response.status_code == 400
    assert "establishment" in response.json()


def test_a_write_token_of_a_reader_still_cannot_write(world):
    _, secret = ApiToken.issue(world.reader, "essai", ApiTokenScope.WRITE)
    response = post_json(api(secret), STAFF, new_staff(world.est_a1))
    assert response.status_code == 400
    assert "hors de votre périmètre" in response.json()["establishment"][0]


def test_a_token_limited_to_an_organisation_sees_only_that_subtree(world):
    staff_a2 = factories.staff(world.est_a2)
    _, secret = ApiToken.issue(
        world.editor, "CHU A1", ApiTokenScope.WRITE, organisation=world.est_a1
    )
    client = api(secret)
    assert ids(client.get(STAFF)) == {world.staff_a1.pk}
    assert client.get(f"{STAFF}{staff_a2.pk}/").status_code == 404
    orgs = ids(client.get("/api/v1/organisations/"))
    assert world.est_a1.pk in orgs and world.est_a2.pk not in orgs and world.ght_a.pk not in orgs
    assert client.get("/api/v1/memberships/").json()["results"] == []
    # Writes too: inside the limit yes, elsewhere in the owner's GHT no.
    assert post_json(client, STAFF, new_staff(world.est_a1)).status_code == 201
    assert post_json(client, STAFF, new_staff(world.est_a2, "Voisine")).status_code == 400
    assert client.delete(f"{STAFF}{staff_a2.pk}/").status_code == 404
    assert StaffMember.objects.filter(pk=staff_a2.pk).exists()
    # The same user in the browser keeps the whole GHT.
    assert staff_a2.pk in ids(browser(world.editor).get(STAFF))


def test_a_token_follows_its_owner_losing_a_role(world):
    _, secret = ApiToken.issue(world.editor, "supervision")
    Membership.objects.filter(user=world.editor).delete()
    assert ids(api(secret).get(STAFF)) == set()


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown", "owner inactive"])
def test_unusable_tokens_answer_401(world, state):
    token, secret = ApiToken.issue(world.editor, "ancien")
    if state == "revoked":
        token.revoked_at = timezone.now()
        token.save()
    elif state == "expired":
        token.expires_at = timezone.now() - timedelta(seconds=1)
        token.save()
    elif state == "unknown":
        secret = secret[:-4] + "abcd"
    else:
        world.editor.is_active = False
        world.editor.save()
    response = api(secret).get(STAFF)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "Jeton invalide, expiré ou révoqué" in response.json()["detail"]


def test_no_credentials_answer_401(world):
    response = Client().get(STAFF)
    assert response.status_code == 401


def test_only_a_keyed_hash_of_the_token_is_stored(world):
    token, secret = ApiToken.issue(world.editor, "supervision")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken WHERE id = %s", [token.pk])
        row = cursor.fetchone()
    assert not any(secret in str(value) or secret[4:] in str(value) for value in row)


def test_a_token_created_in_the_browser_is_shown_once_and_revocable(world):
    client = browser(world.editor, sudo=True)
    response = client.post(
        reverse("accounts:token_create"),
        {"name": "GLPI", "scope": "write", "organisation": world.est_a1.pk, "expires_in_days": 90},
    )
    secret = response.context["secret"]
    token = ApiToken.objects.get(user=world.editor)
    assert (token.scope, token.organisation) == ("write", world.est_a1)
    assert 89 <= (token.expires_at - timezone.now()).days <= 90
    account = client.get(reverse("accounts:account")).content.decode()
    assert secret not in account and token.display_prefix in account
    assert api(secret).get(ME).status_code == 200

    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert api(secret).get(ME).status_code == 401


def test_token_validity_is_bounded(world):
    client = browser(world.editor, sudo=True)
    response = client.post(
        reverse("accounts:token_create"),
        {"name": "éternel", "scope": "read", "expires_in_days": 5000},
    )
    assert response.status_code == 200
    assert "expires_in_days" in response.context["form"].errors
    assert not ApiToken.objects.exists()
