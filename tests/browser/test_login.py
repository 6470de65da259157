"""Login in a real browser: forced TOTP enrolment for a privileged role, then the code at each login."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import fresh_totp_code, log_in

pytestmark = pytest.mark.browser


def test_rssi_without_second_factor_enrols_then_sees_the_ght(page, world):
    log_in(page, "rssi-a")

    # An RSSI must use a second factor: the login leads to enrolment, nowhere else.
    expect(page).to_have_url(re.compile(r"/connexion/double-authentification/$"))
    expect(page.get_by_role("img", name="QR code de configuration TOTP")).to_be_visible()
    # Until the second factor is set up, the user is not logged in.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion/\?next=/$"))
    page.goto("/connexion/double-authentification/")

    # The user types the key shown on the page into an authenticator app.
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "").strip()
    page.get_by_label("Code affiché par l'application").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "").strip()
    page.get_by_label("Code affiché par l'application").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()

    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    for code in codes.all_inner_texts():
        assert re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code)
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("GHT A")
    children = page.get_by_test_id("children")
    expect(children).to_contain_text("CHU A1")
    expect(children).to_contain_text("CH A2")
    expect(children).not_to_contain_text("CH B1")
    expect(page.get_by_test_id("establishment-count")).to_have_text("2")

    # Next time, the password alone is not enough: the code is asked for.
    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, "rssi-a")
    expect(page).to_have_url(re.compile(r"/connexion/code/$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion/"))
    expect(page.get_by_test_id("children")).to_have_count(0)
    page.goto("/connexion/code/")
    code_field = page.get_by_label("Code à 6 chiffres ou code de secours")
    code_field.fill("123456")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect ou expiré")
    page.get_by_label("Code à 6 chiffres ou code de secours").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("GHT A")


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(page, world):
    log_in(page, "rssi-a", password="not the password at all")
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    expect(page).to_have_url(re.compile(r"/connexion/$"))
