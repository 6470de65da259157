"""Builders and fixtures shared by the session tests (test_session_*.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hygie.awareness import services, sessions
from hygie.awareness.models import Module, Statement

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


ATTENDED = "http://adlnet.gov/expapi/verbs/attended"


def queued_statements(session) -> list[tuple[int, str, dict | None]]:
    """The xAPI statements about `session` in the tracking area's outbox, oldest first, as
    (participant pk, verb id, result); the LRS only sees a pseudonym, mapped back here."""
    activity = services.activity_id("session", str(session.uid))
    participant = {services.actor_name(p.staff_id): p.pk for p in session.participants.all()}
    return [
        (
            participant.get(row.statement["actor"]["account"]["name"]),
            row.statement["verb"]["id"],
            row.statement.get("result"),
        )
        for row in Statement.objects.all()
        if row.statement["object"]["id"] == activity
    ]
