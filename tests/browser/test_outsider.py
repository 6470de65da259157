"""Another GHT's pages answer 404, with a friendly page, as if they did not exist."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in_with_totp

pytestmark = pytest.mark.browser


def test_rssi_of_another_ght_gets_not_found(page, world):
    log_in_with_totp(page, world.outsider)

    # Their own establishment opens normally.
    response = page.goto(f"/organisations/{world.est_b1.pk}/")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("CH B1")

    for url in (
        f"/organisations/{world.est_a1.pk}/",
        f"/organisations/{world.est_a1.pk}/personnels/",
        f"/organisations/{world.ght_a.pk}/",
    ):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
        expect(page.locator("main")).not_to_contain_text("CHU A1")
        expect(page.locator("main")).not_to_contain_text(world.staff_a1.last_name)
        # Still inside Hygie: the header and a way back are there.
        expect(page.locator("select#org-switch")).to_be_visible()
        expect(page.get_by_role("link", name="Retour au tableau de bord")).to_be_visible()

    page.get_by_role("link", name="Retour au tableau de bord").click()
    # Back on their own side: the establishment they last opened is still the current one.
    expect(page.get_by_role("heading", level=1)).to_contain_text("CH B1")
