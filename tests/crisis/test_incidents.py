"""Real incidents: declaration, the CNIL deadline running from discovery, notification drafts,
the logbook, the post-incident review, reminders and tenant isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from hygie.actions.models import ActionItem
from hygie.crisis import incidents, notifications
from hygie.crisis.models import (
    Incident,
    IncidentStatus,
    Lesson,
    Notification,
    NotificationKind,
    Severity,
)
from hygie.orgs.roles import Role
from tests import factories
from tests.clients import browser


def _declare(client, org, **overrides):
    data = {
        "title": "Rançongiciel sur le DPI",
        "description": "Chiffrement des serveurs du dossier patient.",
        "severity": Severity.CRITICAL,
        "discovered_at": timezone.localtime(timezone.now() - dt.timedelta(hours=30)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "personal_data_breach": "on",
        "care_impact": "Urgences en mode papier.",
        "degraded_mode": "on",
    }
    data.update(overrides)
    return client.post(reverse("crisis:incident_declare", args=[org.pk]), data)


def make_incident(org, *, hours_ago=30, breach=True, actor=None, **extra) -> Incident:
    incident = Incident(
        organisation=org,
        title=extra.pop("title", "Fuite de dossiers patients"),
        description="Extraction de données",
        severity=extra.pop("severity", Severity.HIGH),
        discovered_at=timezone.now() - dt.timedelta(hours=hours_ago),
        personal_data_breach=breach,
        **extra,
    )
    return incidents.declare_incident(incident, actor=actor)


@pytest.mark.django_db
def test_cnil_deadline_counts_from_the_declared_discovery_time(world):
    """Acceptance: discovered 30 hours ago, 42 hours are left; past 72 hours it is overdue."""
    client = browser(world.editor)
    response = _declare(client, world.est_a1)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("crisis:incident_detail", args=[incident.pk])

    cnil = incident.notifications.get(kind=NotificationKind.CNIL)
    assert cnil.due_at == incident.discovered_at + dt.timedelta(hours=72)
    page = client.get(response["Location"]).content.decode()
    assert "41 h 59 min restantes" in page or "42 h 00 min restantes" in page
    assert "deadline-running" in page

    # The discovery time is corrected to 80 hours ago: the deadline has passed.
    edit = client.post(
        reverse("crisis:incident_edit", args=[incident.pk]),
        {
            "title": incident.title,
            "severity": incident.severity,
            "discovered_at": timezone.localtime(timezone.now() - dt.timedelta(hours=80)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "personal_data_breach": "on",
        },
    )
    assert edit.status_code == 302
    page = client.get(edit["Location"]).content.decode()
    assert "En retard — en retard de 8 h" in page
    assert "deadline-overdue" in page


@pytest.mark.django_db
def test_countdown_is_exact_for_a_given_now(world):
    incident = make_incident(world.est_a1, hours_ago=30)
    cnil = incident.notifications.get(kind=NotificationKind.CNIL)
    now = incident.discovered_at + dt.timedelta(hours=30)
    assert notifications.countdown(cnil, now).text == "42 h 00 min restantes"
    late = notifications.countdown(cnil, incident.discovered_at + dt.timedelta(hours=73, minutes=5))
    assert late.overdue and late.text == "en retard de 1 h 05 min"


@pytest.mark.django_db
def test_declaration_opens_logbook_and_drafts_prefilled_from_the_incident(world):
    dpo = factories.user(
        "dpo-a1", role=Role.DPO, at=world.est_a1, first_name="Denis", last_name="Po"
    )
    _declare(browser(world.editor), world.est_a1)
    incident = Incident.objects.get()
    assert incident.created_by == world.editor
    assert incident.log.first().milestone == "detection"
    assert incident.log.first().at == incident.discovered_at
    kinds = set(incident.notifications.values_list("kind", flat=True))
    assert kinds == {NotificationKind.CNIL, NotificationKind.HEALTH_AUTHORITY}
    cnil = incident.notifications.get(kind=NotificationKind.CNIL).draft
    assert cnil["nature"] == "Chiffrement des serveurs du dossier patient."
    assert cnil["consequences"] == "Urgences en mode papier."
    assert f"Denis Po <{dpo.email}>" in cnil["dpo_contact"]
    health = incident.notifications.get(kind=NotificationKind.HEALTH_AUTHORITY).draft
    assert health["degraded_mode"] == "Mode dégradé activé"


@pytest.mark.django_db
def test_minor_incident_without_personal_data_needs_no_notification(world):
    incident = make_incident(world.est_a1, breach=False, severity=Severity.LOW)
    assert not incident.notifications.exists()
    # Marked as a breach later: the CNIL draft appears, its clock still from discovery.
    incident.personal_data_breach = True
    incident.save()
    notifications.ensure_notifications(incident)
    cnil = incident.notifications.get(kind=NotificationKind.CNIL)
    assert cnil.due_at == incident.discovered_at + dt.timedelta(hours=72)


@pytest.mark.django_db
def test_future_discovery_is_refused_with_a_clear_message(world):
    future = timezone.localtime(timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = _declare(browser(world.editor), world.est_a1, discovered_at=future)
    assert response.status_code == 200
    assert "La date de découverte ne peut pas être dans le futur." in response.content.decode()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_draft_edit_and_mark_submitted_stop_the_clock(world):
    incident = make_incident(world.est_a1, hours_ago=10)
    client = browser(world.editor)
    url = reverse("crisis:notification_edit", args=[incident.pk, "cnil"])
    assert (
        client.post(url, {"people_count": "environ 1200", "nature": "Confidentialité"}).status_code
        == 302
    )
    cnil = Notification.objects.get(incident=incident, kind="cnil")
    assert cnil.draft["people_count"] == "environ 1200"
    assert cnil.draft["nature"] == "Confidentialité"

    submitted = timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("crisis:notification_submitted", args=[incident.pk, "cnil"]),
        {"submitted_at": submitted, "reference": "CNIL-2024-0042"},
    )
    assert response.status_code == 302
    cnil.refresh_from_db()
    assert cnil.reference == "CNIL-2024-0042" and cnil.submitted_at is not None
    assert incident.log.filter(milestone="notification").exists()
    page = client.get(reverse("crisis:incident_detail", args=[incident.pk])).content.decode()
    assert "CNIL-2024-0042" in page and "déposée" in page
    listing = client.get(
        reverse("crisis:notification_list", args=[world.est_a1.pk])
    ).content.decode()
    assert "Notification de violation à la CNIL" not in listing
    assert "Signalement d&#x27;incident (CERT Santé / ARS)" in listing


@pytest.mark.django_db
def test_submission_without_reference_names_the_field(world):
    incident = make_incident(world.est_a1)
    client = browser(world.editor)
    response = client.post(
        reverse("crisis:notification_submitted", args=[incident.pk, "cnil"]),
        {"submitted_at": "2024-01-01T10:00", "reference": ""},
        follow=True,
    )
    assert "Référence du dépôt" in response.content.decode()
    assert Notification.objects.get(incident=incident, kind="cnil").submitted_at is None


@pytest.mark.django_db
def test_reminder_goes_once_to_rssi_and_dpo_before_the_cnil_deadline(world):
    dpo = factories.user("dpo-a1", role=Role.DPO, at=world.est_a1)
    fresh = make_incident(world.est_a1, hours_ago=10, title="Récent")
    urgent = make_incident(world.est_a1, hours_ago=60, title="Urgent")
    now = urgent.discovered_at + dt.timedelta(hours=60)
    assert notifications.remind_notifications(now) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[Hygie] Notification CNIL : 12 h 00 min restantes — Urgent"
    assert reverse("crisis:notification_edit", args=[urgent.pk, "cnil"]) in message.body
    assert set(message.to) == {world.editor.email, dpo.email}
    assert world.outsider.email not in message.to
    assert notifications.remind_notifications(now) == 0  # idempotent
    assert len(mail.outbox) == 1
    later = now + dt.timedelta(hours=40)
    assert notifications.remind_notifications(later) == 1  # now the other one
    assert "Récent" in mail.outbox[1].subject
    assert urgent.notifications.get(kind="cnil").reminded_at is not None
    assert fresh.notifications.get(kind="cnil").reminded_at is not None


@pytest.mark.django_db
def test_status_logbook_tasks_and_lessons_to_action_plan(world):
    incident = make_incident(world.est_a1)
    client = browser(world.editor)
    detail = reverse("crisis:incident_detail", args=[incident.pk])
    client.post(reverse("crisis:incident_status", args=[incident.pk]), {"status": "contained"})
    client.post(
        reverse("crisis:incident_log", args=[incident.pk]),
        {"kind": "decision", "text": "Couper le VPN"},
    )
    client.post(
        reverse("crisis:incident_task", args=[incident.pk]), {"title": "Restaurer les sauvegardes"}
    )
    task = incident.tasks.get()
    client.post(reverse("crisis:incident_task_status", args=[task.pk]), {"status": "done"})
    client.post(
        reverse("crisis:incident_lesson", args=[incident.pk]), {"text": "Segmenter le réseau"}
    )
    lesson = Lesson.objects.get(incident=incident)
    client.post(reverse("crisis:incident_lesson_action", args=[lesson.pk]))
    client.post(reverse("crisis:incident_lesson_action", args=[lesson.pk]))  # twice: one action

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CONTAINED and incident.contained_at
    item = ActionItem.objects.get()
    assert item.organisation == world.est_a1 and item.origin == "crisis"
    assert item.title == "Segmenter le réseau"
    page = client.get(detail).content.decode()
    for text in (
        "Maîtrisé",
        "Couper le VPN",
        "Tâche terminée : Restaurer les sauvegardes",
        "action du plan",
    ):
        assert text in page


@pytest.mark.django_db
def test_closed_incident_cannot_be_contained(world):
    incident = make_incident(world.est_a1)
    incidents.change_status(incident, IncidentStatus.CLOSED, actor=world.editor)
    response = browser(world.editor).post(
        reverse("crisis:incident_status", args=[incident.pk]), {"status": "contained"}, follow=True
    )
    assert "ne peut pas passer à « Maîtrisé »" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED


@pytest.mark.django_db
def test_other_tenants_never_see_an_incident(world):
    incident = make_incident(world.est_a1, title="Attaque secrète A1")
    make_incident(world.est_b1, title="Attaque B1")
    outsider = browser(world.outsider)
    assert outsider.get(reverse("crisis:incident_detail", args=[incident.pk])).status_code == 404
    listing = outsider.get(reverse("crisis:incident_list", args=[world.est_b1.pk])).content.decode()
    assert "Attaque B1" in listing and "Attaque secrète A1" not in listing
    pending = outsider.get(
        reverse("crisis:notification_list", args=[world.ght_b.pk])
    ).content.decode()
    assert "Attaque secrète A1" not in pending
    analyst = browser(world.analyst)
    assert analyst.get(reverse("crisis:incident_detail", args=[incident.pk])).status_code == 404
