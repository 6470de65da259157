"""The language switcher in the footer: English for the whole session, and back to French."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in_with_totp

pytestmark = pytest.mark.browser


def test_switching_to_english_and_back(page, world):
    log_in_with_totp(page, world.editor)
    language = page.get_by_label("Langue")
    expect(language).to_have_value("fr")
    # The script that submits on change has run once the OK button is hidden.
    expect(page.locator(".lang-switch button")).to_be_hidden()

    with page.expect_navigation():
        language.select_option("en")  # submits itself, like the organisation switcher
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("heading", name="Establishments of the GHT")).to_be_visible()
    expect(page.get_by_text("Tableau de bord")).to_have_count(0)

    # The choice follows the user from page to page.
    nav.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Staff — GHT A")
    expect(page.get_by_role("button", name="Filter")).to_be_visible()
    expect(page.locator(".lang-switch button")).to_be_hidden()

    with page.expect_navigation():
        page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Personnels — GHT A")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
