"""Steps shared by the browser tests, written the way a user goes through the pages."""

from __future__ import annotations

import time

import pyotp
from django.utils import timezone

from hygie.accounts.models import TotpDevice
from tests import factories

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def log_in(page, username: str, password: str = factories.PASSWORD) -> None:
    """The password step of the login form."""
    page.goto("/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def fresh_totp_code(secret: str) -> str:
    """The code of the next 30-second step: accepted (clock drift window) even when the current
    step's code was already used, since a code is never accepted twice."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def enrolled(user) -> str:
    """Give `user` a confirmed TOTP device; returns its secret."""
    secret = pyotp.random_base32(length=32)
    TotpDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "confirmed_at": timezone.now()}
    )
    return secret


def log_in_with_totp(page, user) -> None:
    """A complete login of a user whose TOTP device is already set up."""
    secret = enrolled(user)
    log_in(page, user.username)
    page.get_by_label("Code à 6 chiffres ou code de secours").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def confirm_identity_if_asked(page, password: str = factories.PASSWORD) -> None:
    """Sensitive pages ask for the password again (sudo mode); answer when they do."""
    if "/compte/confirmer/" in page.url:
        page.get_by_label("Mot de passe (ou code à 6 chiffres)").fill(password)
        page.get_by_role("button", name="Confirmer").click()
        page.wait_for_url(lambda url: "/compte/confirmer/" not in url)
