"""Regulatory notification drafts of a real incident, with their deadlines running.

- Health-sector report (article L.1111-8-2 of the Code de la santé publique, articles
  D.1111-16-2 to D.1111-16-4 as amended by decree 2022-715): "sans délai", through the
  reporting portal for adverse health events; due as soon as the establishment is aware.
- CNIL personal-data-breach notification (GDPR art. 33): within 72 hours of becoming aware.

Decision: docs/decisions/0621-regulatory-notifications.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.crisis.models import Incident, Notification, NotificationKind, Severity
from hygie.orgs.models import Membership, Organisation
from hygie.orgs.roles import Role

CNIL_DELAY = dt.timedelta(hours=72)
# The RSSI and DPO are reminded once when this little is left before the CNIL deadline.
REMIND_BEFORE = dt.timedelta(hours=24)

# The fields of each draft: (key, label, multi-line). The CNIL list follows what its online
# breach-notification form asks; the health list what the incident-report form asks.
DRAFT_FIELDS = {
    NotificationKind.CNIL: [
        (
            "nature",
            gettext_lazy("Nature de la violation (confidentialité, intégrité, disponibilité)"),
            True,
        ),
        ("data_categories", gettext_lazy("Catégories de données concernées"), True),
        ("people_categories", gettext_lazy("Catégories de personnes concernées"), True),
        ("people_count", gettext_lazy("Nombre approximatif de personnes concernées"), False),
        ("records_count", gettext_lazy("Nombre approximatif d'enregistrements concernés"), False),
        ("consequences", gettext_lazy("Conséquences probables pour les personnes"), True),
        ("measures_taken", gettext_lazy("Mesures prises ou envisagées"), True),
        ("people_informed", gettext_lazy("Information des personnes concernées"), True),
        ("dpo_contact", gettext_lazy("Contact du délégué à la protection des données"), True),
    ],
    NotificationKind.HEALTH_AUTHORITY: [
        ("category", gettext_lazy("Catégorie d'incident (art. D.1111-16-2 CSP)"), True),
        ("description", gettext_lazy("Description de l'incident"), True),
        ("care_impact", gettext_lazy("Conséquences sur la sécurité des soins"), True),
        ("services_affected", gettext_lazy("Services et activités touchés"), True),
        ("degraded_mode", gettext_lazy("Mode dégradé / plan blanc"), True),
        ("measures_taken", gettext_lazy("Mesures prises"), True),
        ("contact", gettext_lazy("Personne à contacter"), True),
    ],
}


def needs_health_report(incident: Incident) -> bool:
    """Significant or serious incidents are reported; a low-severity one without impact on care,
    operations or data is not (decision 0621)."""
    return (
        incident.severity >= Severity.MEDIUM
        or incident.personal_data_breach
        or incident.degraded_mode
        or incident.white_plan
        or bool(incident.care_impact.strip())
    )


def _contacts(organisation: Organisation, roles) -> str:
    path = organisation.path
    memberships = (
        Membership.objects.filter(role__in=roles, user__is_active=True)
        .select_related("user", "organisation")
        .order_by("-organisation__path", "user__last_name")
    )
    lines = []
    for membership in memberships:
        if path.startswith(membership.organisation.path):
            user = membership.user
            lines.append(f"{user.get_full_name() or user.get_username()} <{user.email}>")
    return "\n".join(dict.fromkeys(lines))


def cnil_draft(incident: Incident) -> dict:
    return {
        "nature": incident.description,
        "data_categories": "",
        "people_categories": "",
        "people_count": "",
        "records_count": "",
        "consequences": incident.care_impact,
        "measures_taken": "",
        "people_informed": "",
        "dpo_contact": _contacts(incident.organisation, [Role.DPO]),
    }


def health_draft(incident: Incident) -> dict:
    services = ", ".join(str(s) for s in incident.services_affected.all())
    modes = []
    if incident.degraded_mode:
        modes.append(_("Mode dégradé activé"))
    if incident.white_plan:
        modes.append(_("Plan blanc numérique déclenché"))
    return {
        "category": "",
        "description": incident.description,
        "care_impact": incident.care_impact,
        "services_affected": services,
        "degraded_mode": "\n".join(modes),
        "measures_taken": "",
        "contact": _contacts(incident.organisation, [Role.RSSI]),
    }


@transaction.atomic
def ensure_notifications(incident: Incident) -> list[Notification]:
    """Create the drafts the incident now calls for; existing drafts are never touched (the cell
    may have edited them) nor removed (a filed notification is history)."""
    created = []
    if needs_health_report(incident):
        note, made = Notification.objects.get_or_create(
            incident=incident,
            kind=NotificationKind.HEALTH_AUTHORITY,
            defaults={"due_at": incident.discovered_at, "draft": health_draft(incident)},
        )
        if made:
            created.append(note)
    if incident.personal_data_breach:
        note, made = Notification.objects.get_or_create(
            incident=incident,
            kind=NotificationKind.CNIL,
            defaults={
                "due_at": incident.discovered_at + CNIL_DELAY,
                "draft": cnil_draft(incident),
            },
        )
        if made:
            created.append(note)
    # The CNIL clock runs from awareness: a corrected discovery time moves an unfiled deadline.
    Notification.objects.filter(
        incident=incident, kind=NotificationKind.CNIL, submitted_at__isnull=True
    ).update(due_at=incident.discovered_at + CNIL_DELAY)
    Notification.objects.filter(
        incident=incident, kind=NotificationKind.HEALTH_AUTHORITY, submitted_at__isnull=True
    ).update(due_at=incident.discovered_at)
    return created


@dataclass(frozen=True)
class Countdown:
    due_at: dt.datetime
    submitted: bool
    overdue: bool
    remaining: dt.timedelta  # negative when overdue
    immediate: bool  # "sans délai": due from the moment of awareness

    @property
    def text(self) -> str:
        if self.submitted:
            return _("déposée")
        span = abs(self.remaining)
        hours, rest = divmod(int(span.total_seconds()), 3600)
        duration = _("%(h)s h %(m)02d min") % {"h": hours, "m": rest // 60}
        if self.immediate:
            return _("sans délai — en attente depuis %(duration)s") % {"duration": duration}
        if self.overdue:
            return _("en retard de %(duration)s") % {"duration": duration}
        return _("%(duration)s restantes") % {"duration": duration}


def countdown(notification: Notification, now=None) -> Countdown:
    now = now or timezone.now()
    remaining = notification.due_at - now
    immediate = notification.kind == NotificationKind.HEALTH_AUTHORITY
    submitted = notification.submitted_at is not None
    return Countdown(
        due_at=notification.due_at,
        submitted=submitted,
        overdue=not submitted and remaining.total_seconds() < 0,
        remaining=remaining,
        immediate=immediate,
    )


def open_notifications(organisation: Organisation):
    """Unfiled notifications of the organisation's subtree, the most urgent first."""
    return (
        Notification.objects.filter(
            incident__organisation__path__startswith=organisation.path, submitted_at__isnull=True
        )
        .select_related("incident", "incident__organisation")
        .order_by("due_at")
    )


def save_draft(notification: Notification, values: dict) -> Notification:
    keys = {key for key, _label, _multi in DRAFT_FIELDS[notification.kind]}
    notification.draft = {**notification.draft, **{k: v for k, v in values.items() if k in keys}}
    notification.save(update_fields=["draft"])
    return notification


@transaction.atomic
def mark_submitted(notification: Notification, *, submitted_at, reference: str, actor=None):
    from hygie.crisis.incidents import add_log_entry
    from hygie.crisis.models import EntryKind, Milestone

    notification.submitted_at = submitted_at
    notification.reference = reference
    notification.save(update_fields=["submitted_at", "reference"])
    add_log_entry(
        notification.incident,
        kind=EntryKind.COMMUNICATION,
        milestone=Milestone.NOTIFICATION,
        at=submitted_at,
        text=_("%(kind)s déposée (référence %(reference)s)")
        % {"kind": notification.get_kind_display(), "reference": reference or "—"},
        user=actor,
    )
    return notification


def _reminder_recipients(incident: Incident) -> list[str]:
    path = incident.organisation.path
    emails = [
        m.user.email
        for m in Membership.objects.filter(
            role__in=[Role.RSSI, Role.DPO], user__is_active=True
        ).select_related("user", "organisation")
        if path.startswith(m.organisation.path) and m.user.email
    ]
    return sorted(set(emails))


def remind_notifications(now=None) -> int:
    """E-mail the RSSI and DPO once when a CNIL deadline is less than REMIND_BEFORE away.

    Idempotent and safe with several workers: a notification is claimed by a conditional UPDATE
    before its reminder goes out. Returns the number of reminders sent.
    """
    now = now or timezone.now()
    due = Notification.objects.filter(
        kind=NotificationKind.CNIL,
        submitted_at__isnull=True,
        reminded_at__isnull=True,
        due_at__lte=now + REMIND_BEFORE,
    ).select_related("incident", "incident__organisation")
    sent = 0
    for notification in due:
        claimed = Notification.objects.filter(pk=notification.pk, reminded_at__isnull=True).update(
            reminded_at=now
        )
        if not claimed:
            continue
        recipients = _reminder_recipients(notification.incident)
        if not recipients:
            continue
        left = countdown(notification, now)
        send_mail(
            _("[Hygie] Notification CNIL : %(left)s — %(incident)s")
            % {"left": left.text, "incident": notification.incident.title},
            _(
                "La notification de violation de données à la CNIL pour l'incident « %(incident)s » "
                "(%(org)s) est due le %(due)s (72 heures après la découverte).\n"
                "Brouillon et dépôt : %(url)s\n"
            )
            % {
                "incident": notification.incident.title,
                "org": notification.incident.organisation,
                "due": timezone.localtime(notification.due_at).strftime("%d/%m/%Y %H:%M"),
                "url": _notification_url(notification),
            },
            settings.DEFAULT_FROM_EMAIL,
            recipients,
        )
        sent += 1
    return sent


def _notification_url(notification: Notification) -> str:
    from django.urls import reverse

    base = settings.BASE_URL
    return base.rstrip("/") + reverse(
        "crisis:notification_edit", args=[notification.incident_id, notification.kind]
    )
