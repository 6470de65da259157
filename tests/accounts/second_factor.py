"""Helpers for tests that log in through the real forms, with a real TOTP authenticator."""

from __future__ import annotations

import time

import pyotp
from django.urls import reverse
from django.utils import timezone

from hygie.accounts.models import TotpDevice
from hygie.accounts.services import TOTP_PERIOD, regenerate_recovery_codes
from tests.clients import browser
from tests.factories import PASSWORD


def enrolled(user) -> tuple[TotpDevice, list[str]]:
    """Give `user` a confirmed authenticator; returns it and ten fresh recovery codes."""
    device = TotpDevice.objects.create(
        user=user, secret=pyotp.random_base32(length=32), confirmed_at=timezone.now()
    )
    return device, regenerate_recovery_codes(user)


def code(device: TotpDevice, steps_ahead: int = 0) -> str:
    """The code the phone shows now (or `steps_ahead` periods later, within the drift window)."""
    return pyotp.TOTP(device.secret, interval=TOTP_PERIOD).at(time.time() + steps_ahead * 30)


def submit_password(client, username: str, password: str = PASSWORD, next_url: str = ""):
    url = reverse("accounts:login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": username, "password": password})


def submit_code(client, value: str):
    return client.post(reverse("accounts:login_code"), {"code": value})


def anonymous():
    return browser(None)
