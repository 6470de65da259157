"""Permission-matrix routes of the crisis app: real incidents, notifications, GHT aid.

An incident of CHU A1 is seen by GHT A's reader (403 on every change) and handled by GHT A's
RSSI; GHT B's RSSI and the regional analyst get 404 on every incident page. The analyst sees the
regional picture (aggregate figures), nobody else does.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from hygie.crisis import aid, incidents
from hygie.crisis.models import (
    AidOffer,
    AidRequest,
    CellTask,
    Incident,
    Lesson,
    Notification,
    Severity,
)
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    REDIRECT,
    Call,
    Route,
    hides,
    shows,
    then,
)

TITLE = "Rançongiciel au CHU A1"


def _incident(w) -> Incident:
    existing = Incident.objects.filter(organisation=w.est_a1).first()
    if existing:
        return existing
    return incidents.declare_incident(
        Incident(
            organisation=w.est_a1,
            title=TITLE,
            severity=Severity.CRITICAL,
            discovered_at=timezone.now() - dt.timedelta(hours=30),
            personal_data_breach=True,
        ),
        actor=w.editor,
    )


def _aid_request(w) -> AidRequest:
    return AidRequest.objects.first() or aid.request_aid(
        _incident(w), kind="staff", description="Renfort de techniciens"
    )


def _offer(w) -> AidOffer:
    return AidOffer.objects.first() or AidOffer.objects.create(
        request=_aid_request(w), organisation=w.est_a2, description="Deux techniciens"
    )


def _task(w) -> CellTask:
    return CellTask.objects.first() or CellTask.objects.create(
        incident=_incident(w), title="Isoler le réseau"
    )


def _lesson(w) -> Lesson:
    return Lesson.objects.first() or Lesson.objects.create(
        incident=_incident(w), text="Tester les sauvegardes"
    )


def url(name, *args):
    return lambda w: reverse(name, args=[arg(w) for arg in args])


def incident_pk(w):
    return _incident(w).pk


def _page(**overrides):
    """A page of the incident's establishment: seen by GHT A, hidden from the others."""
    outcomes = {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": OK,
        "editor": OK,
        "analyst": NOT_FOUND,
    }
    outcomes.update(overrides)
    return Call("get", **outcomes)


def _change(data=None, *, done=None, message="", editor=REDIRECT):
    """A change: GHT A's RSSI only; the reader is told a role is missing (403)."""
    return Call(
        "post",
        data=data,
        anonymous=LOGIN,
        outsider=NOT_FOUND,
        reader=FORBIDDEN,
        editor=editor.but(then(done, message)) if done else editor,
        analyst=NOT_FOUND,
    )


def _discovered(w):
    return timezone.localtime(timezone.now() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")


ROUTES = [
    Route(
        "crisis:incident_list",
        url=lambda w: (_incident(w), reverse("crisis:incident_list", args=[w.est_a1.pk]))[1],
        calls=[_page(editor=OK.but(shows(lambda w: [TITLE])))],
    ),
    Route(
        "crisis:incident_declare",
        url=url("crisis:incident_declare", lambda w: w.est_a1.pk),
        calls=[
            _page(reader=FORBIDDEN),
            _change(
                lambda w: {
                    "title": "Déni de service du site",
                    "severity": 2,
                    "discovered_at": _discovered(w),
                },
                done=lambda w: Incident.objects.filter(title="Déni de service du site").exists(),
                message="the incident is declared",
            ),
        ],
    ),
    Route(
        "crisis:notification_list",
        url=lambda w: (_incident(w), reverse("crisis:notification_list", args=[w.est_a1.pk]))[1],
        calls=[_page(editor=OK.but(shows(lambda w: [TITLE])))],
    ),
    Route(
        "crisis:incident_detail",
        url=url("crisis:incident_detail", incident_pk),
        calls=[_page(editor=OK.but(shows(lambda w: [TITLE, "restantes"])))],
    ),
    Route(
        "crisis:incident_edit",
        url=url("crisis:incident_edit", incident_pk),
        calls=[
            _page(reader=FORBIDDEN),
            _change(
                lambda w: {
                    "title": "Titre corrigé",
                    "severity": 4,
                    "discovered_at": _discovered(w),
                },
                done=lambda w: Incident.objects.filter(title="Titre corrigé").exists(),
                message="the incident is changed",
            ),
        ],
    ),
    Route(
        "crisis:incident_status",
        url=url("crisis:incident_status", incident_pk),
        calls=[
            _change(
                {"status": "contained"},
                done=lambda w: Incident.objects.get().status == "contained",
                message="the incident is contained",
            )
        ],
    ),
    Route(
        "crisis:incident_log",
        url=url("crisis:incident_log", incident_pk),
        calls=[
            _change(
                {"kind": "decision", "text": "Couper internet"},
                done=lambda w: _incident(w).log.filter(text="Couper internet").exists(),
                message="the logbook line is written",
            )
        ],
    ),
    Route(
        "crisis:incident_task",
        url=url("crisis:incident_task", incident_pk),
        calls=[
            _change(
                {"title": "Prévenir l'assureur"},
                done=lambda w: CellTask.objects.filter(title="Prévenir l'assureur").exists(),
                message="the task is added",
            )
        ],
    ),
    Route(
        "crisis:incident_task_status",
        url=url("crisis:incident_task_status", lambda w: _task(w).pk),
        calls=[
            _change(
                {"status": "done"},
                done=lambda w: CellTask.objects.get().status == "done",
                message="the task is done",
            )
        ],
    ),
    Route(
        "crisis:incident_lesson",
        url=url("crisis:incident_lesson", incident_pk),
        calls=[
            _change(
                {"text": "Former l'astreinte"},
                done=lambda w: Lesson.objects.filter(text="Former l'astreinte").exists(),
                message="the lesson is noted",
            )
        ],
    ),
    Route(
        "crisis:incident_lesson_action",
        url=url("crisis:incident_lesson_action", lambda w: _lesson(w).pk),
        calls=[
            _change(
                done=lambda w: Lesson.objects.get().action_id is not None,
                message="the lesson became an action",
            )
        ],
    ),
    Route(
        "crisis:notification_edit",
        url=url("crisis:notification_edit", incident_pk, lambda w: "cnil"),
        calls=[
            _page(),
            _change(
                {"people_count": "300"},
                done=lambda w: Notification.objects.get(kind="cnil").draft["people_count"] == "300",
                message="the draft is saved",
            ),
        ],
    ),
    Route(
        "crisis:notification_submitted",
        url=url("crisis:notification_submitted", incident_pk, lambda w: "cnil"),
        calls=[
            _change(
                lambda w: {"submitted_at": _discovered(w), "reference": "CNIL-1"},
                done=lambda w: Notification.objects.get(kind="cnil").reference == "CNIL-1",
                message="the filing is recorded",
            )
        ],
    ),
    Route(
        "crisis:aid_request_create",
        url=url("crisis:aid_request_create", incident_pk),
        calls=[
            _change(
                {"kind": "pharmacy", "description": "Dispensation"},
                done=lambda w: AidRequest.objects.filter(kind="pharmacy").exists(),
                message="the aid request is made",
            )
        ],
    ),
    Route(
        "crisis:aid_board",
        url=lambda w: (_aid_request(w), reverse("crisis:aid_board", args=[w.est_a2.pk]))[1],
        calls=[
            _page(
                editor=OK.but(shows(lambda w: ["Renfort de techniciens"]), hides(lambda w: [TITLE]))
            )
        ],
    ),
    Route(
        "crisis:aid_region",
        url=lambda w: (_offer(w), reverse("crisis:aid_region", args=[w.region_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=OK.but(
                    shows(lambda w: ["GHT A"]),
                    hides(lambda w: [TITLE, "CHU A1", "Renfort de techniciens"]),
                ),
            )
        ],
    ),
    Route(
        "crisis:aid_offer_create",
        url=url("crisis:aid_offer_create", lambda w: _aid_request(w).pk),
        calls=[
            _change(
                lambda w: {"organisation": w.est_a2.pk, "description": "Un pharmacien"},
                done=lambda w: AidOffer.objects.filter(description="Un pharmacien").exists(),
                message="the offer is made",
            )
        ],
    ),
    Route(
        "crisis:aid_request_close",
        url=url("crisis:aid_request_close", lambda w: _aid_request(w).pk),
        calls=[
            _change(
                done=lambda w: AidRequest.objects.get().status == "closed",
                message="the aid request is closed",
            )
        ],
    ),
    Route(
        "crisis:aid_offer_decide",
        url=url("crisis:aid_offer_decide", lambda w: _offer(w).pk, lambda w: "accepter"),
        calls=[
            _change(
                done=lambda w: AidOffer.objects.get().status == "accepted",
                message="the offer is accepted",
            )
        ],
    ),
]
