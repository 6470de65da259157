"""Accessibility of the results pages: axe-core in Debian's Chromium, as for the other pages
(tests/browser/test_accessibility.py); the charts are SVG images with a title and a table."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (  # noqa: F401 - the browser fixtures, used by name
    browser_context_args,
    browser_type_launch_args,
    context,
)
from tests.browser.helpers import confirm_identity_if_asked, log_in_with_totp
from tests.browser.test_accessibility import axe_page, violations  # noqa: F401
from tests.phishing.results_data import campaign, people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_results_pages_have_no_serious_violation(axe_page, world):  # noqa: F811
    simulation = campaign(world.est_a1, "Résultats de laboratoire")
    people(simulation, 7, establishment=world.est_a1, site=world.site_a1,
           service=world.service_a1, clicked=3, reported=2)  # fmt: skip
    people(simulation, 3, establishment=world.est_a1, site=world.site_a1, clicked=1)
    page = axe_page
    found = []
    assert page.goto(f"/transparence/simulations/{world.est_a1.pk}/").status == 200
    found += violations(page)
    log_in_with_totp(page, world.editor)
    for url in (
        f"/simulations/{simulation.pk}/resultats/",
        f"/simulations/{simulation.pk}/resultats/individuels/",
        f"/organisations/{world.est_a1.pk}/simulations/tendances/",
    ):
        page.goto(url)
        confirm_identity_if_asked(page)
        assert page.locator("h1").count() == 1, url
        found += violations(page)
    assert not found, "\n".join(found)
