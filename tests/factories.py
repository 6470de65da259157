"""Small builders for test data (plain functions, no factory library)."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from hygie.orgs.finess import luhn_key
from hygie.orgs.models import Category, JobFamily, Kind, Membership, Organisation, StaffMember

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def finess(department: str = "59") -> str:
    body = f"{department}{next(_counter):06d}"
    return body + luhn_key(body)


def org(
    kind: str, parent: Organisation | None = None, name: str | None = None, **extra
) -> Organisation:
    if kind == Kind.ESTABLISHMENT:
        extra.setdefault("finess_ej", finess())
        extra.setdefault("category", Category.CH)
    return Organisation.objects.create(
        kind=kind, parent=parent, name=name or f"{kind} {next(_counter)}", **extra
    )


def user(username: str, *, role: str | None = None, at: Organisation | None = None, **extra):
    account = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.org", password=PASSWORD, **extra
    )
    if role:
        Membership.objects.create(user=account, organisation=at, role=role)
    return account


def staff(establishment: Organisation, **extra) -> StaffMember:
    n = next(_counter)
    extra.setdefault("first_name", "Camille")
    extra.setdefault("last_name", f"Martin{n}")
    extra.setdefault("email", f"camille.martin{n}@example.org")
    extra.setdefault("job_family", JobFamily.CARE)
    return StaffMember.objects.create(establishment=establishment, **extra)
