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
