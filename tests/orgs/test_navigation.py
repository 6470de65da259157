"""The navigation offers only the pages the user may open."""

from __future__ import annotations

from django.urls import reverse

from tests.clients import browser


def links(client) -> str:
    return client.get(reverse("orgs:home")).content.decode()


def test_analyst_is_not_offered_nominative_pages(world):
    page = links(browser(world.analyst))
    assert reverse("orgs:staff", args=[world.region_a.pk]) not in page
    assert reverse("orgs:members", args=[world.region_a.pk]) not in page
    assert reverse("orgs:audit_journal") not in page


def test_reader_sees_lists_but_not_the_journal(world):
    page = links(browser(world.reader))
    assert reverse("orgs:staff", args=[world.ght_a.pk]) in page
    assert reverse("orgs:audit_journal") not in page


def test_editor_is_offered_everything(world):
    page = links(browser(world.editor))
    for url in (
        reverse("orgs:staff", args=[world.ght_a.pk]),
        reverse("orgs:members", args=[world.ght_a.pk]),
        reverse("orgs:audit_journal"),
    ):
        assert url in page


def _menu(page: str) -> str:
    start = page.index('id="org-switch"')
    return page[start : page.index("</select>", start)]


def test_the_organisation_menu_stays_short_for_a_national_user(world):
    from hygie.orgs.models import Kind, Organisation
    from hygie.orgs.roles import Role
    from tests import factories

    national = factories.user("analyste-n", role=Role.NATIONAL_ANALYST, at=world.national)
    client = browser(national)
    menu = _menu(client.get(reverse("orgs:home")).content.decode())
    regions = Organisation.objects.filter(kind=Kind.REGION)
    assert all(f'value="{region.pk}"' in menu for region in regions)
    assert f'value="{world.est_a1.pk}"' not in menu and f'value="{world.ght_a.pk}"' not in menu
    # Drilling down into a GHT offers its establishments, and the way back up.
    menu = _menu(client.get(reverse("orgs:detail", args=[world.ght_a.pk])).content.decode())
    for node in (world.national, world.region_a, world.ght_a, world.est_a1, world.est_a2):
        assert f'value="{node.pk}"' in menu
    assert f'value="{world.est_b1.pk}"' not in menu
