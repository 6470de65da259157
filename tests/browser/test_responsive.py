"""Phone-sized screens: pages fit the width, nothing scrolls sideways."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PHONE, log_in, log_in_with_totp

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True)
def test_login_fits_a_phone(page, world):
    page.goto("/connexion/")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    assert page.evaluate("window.innerWidth") == PHONE["width"]
    assert page.evaluate(FITS)

    log_in(page, "rssi-a")  # enrolment page: QR code and a long key
    expect(page.get_by_test_id("totp-secret")).to_be_visible()
    assert page.evaluate(FITS)


@pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True)
def test_dashboard_and_staff_list_fit_a_phone(page, world):
    log_in_with_totp(page, world.editor)
    expect(page.get_by_test_id("children")).to_be_visible()
    assert page.evaluate(FITS)
    # The switcher stays usable: fully on screen.
    box = page.locator("select#org-switch").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    page.goto(f"/organisations/{world.est_a1.pk}/personnels/")
    expect(page.get_by_test_id("staff-total")).to_be_visible()
    assert page.evaluate(FITS)
