"""The second factor: codes accepted once, recovery codes, throttling, secrets at rest."""

from __future__ import annotations

import time

from django.db import connection
from django.urls import reverse

from hygie.accounts.models import RecoveryCode
from hygie.core.models import AuditEvent
from tests.accounts.second_factor import (
    anonymous,
    code,
    enrolled,
    submit_code,
    submit_password,
)

HOME = "/"


def login_with_code(value: str):
    client = anonymous()
    assert submit_password(client, "rssi-a")["Location"] == reverse("accounts:login_code")
    return client, submit_code(client, value)


def test_enrolled_user_needs_the_code_after_the_password(world):
    device, _ = enrolled(world.editor)
    client = anonymous()
    submit_password(client, "rssi-a")
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert submit_code(client, code(device))["Location"] == HOME
    assert client.get(HOME).status_code == 200


def test_a_code_is_accepted_only_once(world):
    device, _ = enrolled(world.editor)
    now_code = code(device)
    _, response = login_with_code(now_code)
    assert response["Location"] == HOME

    # Replayed, even a second later in another browser: refused.
    client, response = login_with_code(now_code)
    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.filter(action="auth.totp_failed", actor=world.editor).exists()

    # The next code (clock drift window) still works.
    _, response = login_with_code(code(device, steps_ahead=1))
    assert response["Location"] == HOME


def test_a_wrong_code_is_refused(world):
    device, _ = enrolled(world.editor)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"
    _, response = login_with_code(wrong)
    assert "Code incorrect" in response.content.decode()


def test_a_recovery_code_works_once(world):
    _, codes = enrolled(world.editor)
    client, response = login_with_code(codes[0])
    assert response["Location"] == HOME
    page = client.get(HOME)
    assert "Il vous en reste 9" in page.content.decode()
    assert AuditEvent.objects.get(action="auth.recovery_code_used").details == {"remaining": 9}

    client, response = login_with_code(codes[0])
    assert "Code incorrect" in response.content.decode()
    # Spelling does not matter: upper case, without the dash.
    _, response = login_with_code(codes[1].replace("-", "").upper())
    assert response["Location"] == HOME


def test_code_throttling_refuses_even_the_right_code(world):
    device, codes = enrolled(world.editor)
    client = anonymous()
    submit_password(client, "rssi-a")
    for _ in range(5):
        assert "Code incorrect" in submit_code(client, "000000").content.decode()
    for value in (code(device), codes[0]):
        response = submit_code(client, value)
        assert "Trop de codes erronés" in response.content.decode()
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.filter(action="auth.totp_throttled", actor=world.editor).exists()
    # The refused recovery code was not spent.
    assert RecoveryCode.objects.filter(user=world.editor, used_at__isnull=True).count() == 10


def test_enrolment_codes_are_throttled_too(world):
    client = anonymous()
    submit_password(client, "rssi-a")
    secret = client.get(reverse("accounts:enrol")).context["secret"]
    for _ in range(5):
        client.post(reverse("accounts:enrol"), {"code": "000000"})
    import pyotp

    response = client.post(reverse("accounts:enrol"), {"code": pyotp.TOTP(secret).now()})
    assert "Trop de codes erronés" in response.content.decode()


def test_the_pending_login_expires_after_five_minutes(world):
    device, _ = enrolled(world.editor)
    client = anonymous()
    submit_password(client, "rssi-a")
    session = client.session
    session["hygie_pending_at"] = time.time() - 301
    session.save()
    assert submit_code(client, code(device))["Location"] == reverse("accounts:login")
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))


def test_code_page_without_a_password_step_sends_back_to_login(world):
    client = anonymous()
    assert submit_code(client, "123456")["Location"] == reverse("accounts:login")


def test_secrets_are_not_stored_in_clear(world):
    device, codes = enrolled(world.editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_totpdevice WHERE id = %s", [device.pk])
        (stored,) = cursor.fetchone()
        cursor.execute("SELECT code_hash FROM accounts_recoverycode")
        hashes = [row[0] for row in cursor.fetchall()]
    assert device.secret not in stored
    assert not any(c.replace("-", "") in h for c in codes for h in hashes)


def test_a_voluntary_user_with_totp_also_goes_through_the_code_step(world):
    device, _ = enrolled(world.reader)
    client = anonymous()
    assert submit_password(client, "lecteur-a")["Location"] == reverse("accounts:login_code")
    assert submit_code(client, code(device))["Location"] == HOME
