"""Builders for the tracking tests: modules, campaigns, people with assignments in given states."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import sys
import types

from django.utils import timezone

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


def install_area(monkeypatch, name: str, **functions) -> None:
    """Provide functions of another area's module (`hygie.awareness.<name>`) for one test.

    The content and learner areas are written in parallel: when their module exists the named
    functions are replaced for the test; when it does not yet, a module holding them stands in.
    """
    dotted = f"hygie.awareness.{name}"
    try:
        target = importlib.import_module(dotted)
    except ModuleNotFoundError:
        target = types.ModuleType(dotted)
        monkeypatch.setitem(sys.modules, dotted, target)
    for attribute, function in functions.items():
        monkeypatch.setattr(target, attribute, function, raising=False)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
