"""Real incidents: declaration, status, the crisis cell's logbook, tasks and the post-incident
review (lessons that become action-plan items).

Decisions: docs/decisions/0620-real-incidents.md.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.crisis.models import (
    CellTask,
    EntryKind,
    Incident,
    IncidentStatus,
    Lesson,
    LogEntry,
    TaskStatus,
)

# Status moves a crisis cell makes; reopening a closed incident is allowed (a relapse is common
# after a ransomware attack) and is written in the logbook like any other move.
TRANSITIONS = {
    IncidentStatus.OPEN: {IncidentStatus.CONTAINED, IncidentStatus.CLOSED},
    IncidentStatus.CONTAINED: {IncidentStatus.OPEN, IncidentStatus.CLOSED},
    IncidentStatus.CLOSED: {IncidentStatus.OPEN},
}


class IncidentError(ValueError):
    pass


def author_name(user) -> str:
    if user is None:
        return "Hygie"
    return user.get_full_name() or user.get_username()


def add_log_entry(incident: Incident, *, kind, text, user=None, milestone="", at=None) -> LogEntry:
    """A line of the incident's main courante (the crisis cell's logbook, shared with exercises)."""
    from hygie.crisis import run

    return run.add_log_entry(
        incident,
        kind=kind,
        text=text,
        author_name=author_name(user),
        user=user,
        milestone=milestone,
        at=at,
    )


@transaction.atomic
def declare_incident(incident: Incident, *, actor, services=()) -> Incident:
    """Save a new incident (organisation and fields already set), open its logbook and draft the
    regulatory notifications it calls for."""
    from hygie.crisis import notifications

    incident.created_by = actor
    incident.status = IncidentStatus.OPEN
    incident.save()
    if services:
        incident.services_affected.set(services)
    add_log_entry(
        incident,
        kind=EntryKind.INFORMATION,
        milestone="detection",
        at=incident.discovered_at,
        text=_("Incident découvert : %(title)s") % {"title": incident.title},
        user=actor,
    )
    notifications.ensure_notifications(incident)
    return incident


@transaction.atomic
def change_status(incident: Incident, status: str, *, actor, now=None) -> Incident:
    now = now or timezone.now()
    if status == incident.status:
        return incident
    if status not in TRANSITIONS.get(incident.status, set()):
        raise IncidentError(
            _("Un incident « %(current)s » ne peut pas passer à « %(new)s ».")
            % {
                "current": incident.get_status_display(),
                "new": IncidentStatus(status).label if status in IncidentStatus.values else status,
            }
        )
    incident.status = status
    if status == IncidentStatus.CONTAINED:
        incident.contained_at = incident.contained_at or now
    elif status == IncidentStatus.CLOSED:
        incident.closed_at = now
    else:
        incident.closed_at = None
    incident.save(update_fields=["status", "contained_at", "closed_at"])
    add_log_entry(
        incident,
        kind=EntryKind.DECISION,
        milestone="isolation" if status == IncidentStatus.CONTAINED else "",
        at=now,
        text=_("Statut de l'incident : %(status)s") % {"status": incident.get_status_display()},
        user=actor,
    )
    return incident


def add_task(incident: Incident, *, title: str, owner: str = "", due_at=None, actor=None):
    task = CellTask.objects.create(incident=incident, title=title, owner=owner, due_at=due_at)
    add_log_entry(
        incident,
        kind=EntryKind.ACTION,
        text=_("Tâche ouverte : %(title)s") % {"title": title},
        user=actor,
    )
    return task


def set_task_status(task: CellTask, status: str, *, actor=None) -> CellTask:
    if status not in TaskStatus.values:
        raise IncidentError(_("Statut de tâche inconnu."))
    task.status = status
    task.save(update_fields=["status"])
    if status == TaskStatus.DONE and task.incident_id:
        add_log_entry(
            task.incident,
            kind=EntryKind.ACTION,
            text=_("Tâche terminée : %(title)s") % {"title": task.title},
            user=actor,
        )
    return task


def add_lesson(incident: Incident, text: str) -> Lesson:
    return Lesson.objects.create(incident=incident, text=text)
