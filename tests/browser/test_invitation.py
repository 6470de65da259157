"""The RSSI invites a DPO; the DPO opens the e-mailed link, chooses a password, enrols TOTP."""

import re

import pyotp
import pytest
from django.core import mail
from playwright.sync_api import expect

from hygie.orgs.models import Membership
from tests.accounts.links import one_time_link
from tests.browser.helpers import confirm_identity_if_asked, log_in_with_totp

pytestmark = pytest.mark.browser

DPO_EMAIL = "ines.lefebvre@chu-a1.example"
DPO_PASSWORD = "pivoine lagune escabeau 42"


def test_rssi_invites_a_dpo_who_activates_the_account_and_lands_on_the_establishment(page, world):
    log_in_with_totp(page, world.editor)
    page.goto(f"/organisations/{world.est_a1.pk}/roles/")
    page.get_by_role("link", name="Inviter une personne").click()
    confirm_identity_if_asked(page)

    page.get_by_label("Adresse e-mail professionnelle").fill(DPO_EMAIL)
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label(re.compile(r"^Nom\b")).fill("Lefebvre")
    page.get_by_label("Rôle").select_option("dpo")
    page.get_by_role("button", name="Envoyer l'invitation").click()

    expect(page.get_by_role("status")).to_contain_text(f"Invitation envoyée à {DPO_EMAIL}")
    pending = page.get_by_test_id("pending-invitations")
    expect(pending).to_contain_text(DPO_EMAIL)
    expect(pending).to_contain_text("jusqu'au")
    page.get_by_role("button", name="Se déconnecter").click()

    # The DPO reads the e-mail and opens the link.
    assert len(mail.outbox) == 1
    assert "Claire Dumont vous invite" in mail.outbox[0].body
    page.goto(one_time_link(mail.outbox[0]))
    expect(page).to_have_url(re.compile(r"/connexion/activer-mon-compte/$"))
    expect(page.locator("main")).to_contain_text("Vous êtes invité(e) comme DPO pour CHU A1")
    page.get_by_label("Nouveau mot de passe").fill("trop court")
    page.get_by_label("Confirmation").fill("trop court")
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page.get_by_role("alert")).to_contain_text("au moins 12 caractères")
    page.get_by_label("Nouveau mot de passe").fill(DPO_PASSWORD)
    page.get_by_label("Confirmation").fill(DPO_PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()

    # The login page, with the username filled in.
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("status")).to_contain_text("Votre mot de passe est enregistré")
    expect(page.get_by_label("Identifiant")).to_have_value(DPO_EMAIL)
    page.get_by_label("Mot de passe").fill(DPO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    # A DPO must use a second factor: enrolment comes first.
    expect(page).to_have_url(re.compile(r"/connexion/double-authentification/$"))
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "").strip()
    page.get_by_label("Code affiché par l'application").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("CHU A1")
    expect(page.locator("main")).not_to_contain_text("CH B1")
    assert Membership.objects.filter(
        user__email=DPO_EMAIL, organisation=world.est_a1, role="dpo"
    ).exists()

    # The link was for one use only.
    page.get_by_role("button", name="Se déconnecter").click()
    page.goto(one_time_link(mail.outbox[0]))
    expect(page.get_by_test_id("link-problem")).to_contain_text("a déjà été utilisée")
