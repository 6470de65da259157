"""Builders for directory tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hygie.directory.models import Actor


def actor(name: str, *, kind: str = "prestataire_qualifie", regions=(), owner=None, **extra):
    entry = Actor.objects.create(name=name, kind=kind, owner=owner, **extra)
    entry.regions.set(regions)
    return entry


def months_ago(months: int) -> dt.date:
    today = timezone.localdate()
    return today - dt.timedelta(days=int(months * 30.5))
