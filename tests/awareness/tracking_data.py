"""Builders for the tracking tests: modules, campaigns, people with assignments in given states."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from urllib.parse import urlsplit

from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from hygie.awareness.models import Assignment, Campaign, CampaignKind, Module, State
from hygie.orgs.models import JobFamily
from tests import factories

_counter = itertools.count(1)


def module(slug: str | None = None, **extra) -> Module:
    n = next(_counter)
    slug = slug or f"module-{n}"
    extra.setdefault("title", f"Module {slug}")
    extra.setdefault("digest", f"{n:064d}")
    extra.setdefault("pass_mark", 80)
    extra.setdefault("content", {"steps": []})
    return Module.objects.create(slug=slug, **extra)


def campaign(organisation, *modules, **extra) -> Campaign:
    extra.setdefault("name", f"Campagne {next(_counter)}")
    extra.setdefault("kind", CampaignKind.TARGETED)
    created = Campaign.objects.create(organisation=organisation, **extra)
    created.modules.set(modules)
    return created


def people(establishment, count: int, *, service=None, site=None, **extra) -> list:
    extra.setdefault("job_family", JobFamily.CARE)
    return [
        factories.staff(establishment, service=service, site=site, **extra) for _ in range(count)
    ]


def set_states(assignments, state: str, *, score: int | None = None, when=None) -> None:
    """Move assignments to a state as a learner would have (completion time and score)."""
    when = when or timezone.now()
    done = state in (State.COMPLETED, State.PASSED)
    Assignment.objects.filter(pk__in=[a.pk for a in assignments]).update(
        state=state,
        started_at=when if state != State.NOT_ATTEMPTED else None,
        completed_at=when if done else None,
        best_score=score,
        attempts=1 if score is not None else 0,
    )
    rebuild_tally()


def rebuild_tally() -> None:
    """After a bulk update that bypasses the learner functions, as benchmarks do."""
    from hygie.awareness import tally

    for establishment_id in tally.establishments():
        tally.rebuild(establishment_id)


def link_path(message) -> str:
    """The personal link of a learner e-mail, as a path the test client can open."""
    url = re.search(r"https?://\S+?/apprendre/[^/\s]+/", message.body).group(0)
    return urlsplit(url).path


def opens_on(message, title: str) -> bool:
    """The e-mail's link opens, without an account, on the welcome page of module `title`."""
    page = Client().get(link_path(message))
    return page.status_code == 200 and escape(title) in page.content.decode()


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
