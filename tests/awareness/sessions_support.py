"""Builders and fixtures shared by the session tests (test_session_*.py)."""

from __future__ import annotations

import datetime as dt
import sys
import types
from types import SimpleNamespace

from django.utils import timezone

from hygie.awareness import sessions
from hygie.awareness.models import Assignment, Module

AGENDA = [
    {"kind": "theory", "title": "Reconnaître un hameçonnage", "minutes": 30, "module": ""},
    {"kind": "practice", "title": "Repérer les signes", "minutes": 20, "module": "signes-mail"},
    {"kind": "theory", "title": "Mots de passe et phrases de passe", "minutes": 20, "module": ""},
    {"kind": "practice", "title": "Choisir une phrase", "minutes": 15, "module": "phrase-passe"},
]


def modules() -> list[Module]:
    return [
        Module.objects.get_or_create(
            slug=slug,
            defaults={"title": title, "content": {"steps": []}, "digest": slug, "pass_mark": 80},
        )[0]
        for slug, title in (
            ("signes-mail", "Les signes d'un courriel piégé"),
            ("phrase-passe", "Une phrase de passe solide"),
        )
    ]


def at(days: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A local time `days` from today."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def make_session(organisation, *, days: int = 7, **fields):
    modules()
    values = {
        "title": "Cybersécurité au quotidien",
        "mode": "in_person",
        "location": "Salle de formation, bâtiment B",
        "starts_at": at(days),
        "ends_at": at(days, 11),
        "capacity": 12,
        "trainer_name": "Claire Dumont",
    }
    values.update(fields)
    return sessions.create_session(organisation, agenda=sessions.validate_agenda(AGENDA), **values)


def observe_tracking(monkeypatch):
    """The tracking area's `services` (assign_to_staff, record_statement), observed.

    Until the tracking helper's module is merged, a stand-in follows the documented contract
    (one Assignment per person and module, idempotent), so these tests keep checking what a
    user sees: the practice modules in the participant's tracking.
    """
    try:
        from hygie.awareness import services
    except ImportError:
        services = types.ModuleType("hygie.awareness.services")

        def assign_to_staff(
            staff_qs, modules, *, organisation, due_date, campaign=None, actor=None
        ):
            created = 0
            for person in staff_qs:
                for module in modules:
                    _row, new = Assignment.objects.get_or_create(
                        campaign=campaign,
                        staff=person,
                        module=module,
                        defaults={
                            "establishment": person.establishment,
                            "service": person.service,
                            "site": person.site,
                            "job_family": person.job_family,
                            "due_date": due_date,
                        },
                    )
                    created += new
            return created

        services.assign_to_staff = assign_to_staff
        services.record_statement = lambda target, verb, *, result=None: None
        import hygie.awareness

        monkeypatch.setitem(sys.modules, "hygie.awareness.services", services)
        monkeypatch.setattr(hygie.awareness, "services", services, raising=False)
    statements = []
    real = services.record_statement

    def record_statement(target, verb, *, result=None):
        statements.append((target.pk, verb))
        return real(target, verb, result=result)

    monkeypatch.setattr(services, "record_statement", record_statement)
    return SimpleNamespace(services=services, statements=statements)
