"""The organisation switcher in the header: pick a node, the dashboard follows, the choice sticks."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in_with_totp

pytestmark = pytest.mark.browser


def test_switching_from_the_ght_to_an_establishment_persists(page, world):
    log_in_with_totp(page, world.editor)
    title = page.get_by_role("heading", level=1)
    expect(title).to_contain_text("GHT A")

    switcher = page.locator("select#org-switch")
    # The switcher offers GHT A and its establishments, nothing from GHT B.
    options = switcher.locator("option").all_inner_texts()
    assert any("CHU A1" in option for option in options)
    assert not any("GHT B" in option or "CH B1" in option for option in options)
    # With JavaScript the select submits itself: its button is hidden.
    expect(page.locator(".org-switcher button")).to_be_hidden()

    with page.expect_navigation():
        switcher.select_option(str(world.est_a2.pk))
    expect(title).to_contain_text("CH A2")
    expect(page).to_have_title(re.compile(r"^CH A2"))
    expect(switcher).to_have_value(str(world.est_a2.pk))

    # The choice is kept for the session: reloading or coming back home shows the establishment.
    page.reload()
    expect(title).to_contain_text("CH A2")
    page.get_by_role("link", name="Hygie").click()
    expect(title).to_contain_text("CH A2")
    expect(switcher).to_have_value(str(world.est_a2.pk))
    # The main navigation now points at the establishment.
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Personnels"
    ).click()
    expect(page).to_have_url(re.compile(rf"/organisations/{world.est_a2.pk}/personnels/$"))
