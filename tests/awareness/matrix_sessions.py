"""Permission-matrix routes of the awareness app: training sessions."""

from __future__ import annotations

from django.urls import reverse

from hygie.awareness.models import Attendance, SessionParticipant, SessionStatus, TrainingSession
from tests.awareness.sessions_support import AGENDA, at, make_session
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

TITLE = "Session mixte du CHU A1"


def session_a(w) -> TrainingSession:
    """A session of CHU A1 (GHT A) held today, with the fixture's staff member seated."""
    if not hasattr(w, "session_a"):
        w.session_a = make_session(w.est_a1, title=TITLE, starts_at=at(0, 0, 5), ends_at=at(0, 2))
        w.seat_a = SessionParticipant.objects.create(
            session=w.session_a,
            staff=w.staff_a1,
            service=w.service_a1,
            job_family=w.staff_a1.job_family,
        )
    return w.session_a


def present_seat(w) -> SessionParticipant:
    session_a(w)
    SessionParticipant.objects.filter(pk=w.seat_a.pk).update(
        attendance=Attendance.PRESENT, certificate_number="S-2026-000042"
    )
    return w.seat_a


def _agenda(prefix="agenda"):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(AGENDA)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "12",
    }
    for i, part in enumerate(AGENDA):
        for key, value in part.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def session_form(w, **extra):
    return {
        "title": "Session créée",
        "mode": "in_person",
        "location": "Salle du conseil",
        "meeting_url": "",
        "starts_at": at(5).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": at(5, 11).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "12",
        "trainer": "",
        "trainer_name": "",
        **_agenda(),
        **extra,
    }


def _session_url(name, *extra):
    return lambda w: reverse(f"awareness:{name}", args=[session_a(w).pk, *[e(w) for e in extra]])


def _viewers(outcome):
    return {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": outcome,
        "analyst": NOT_FOUND,
    }


def _changers(outcome, reader=FORBIDDEN):
    return {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": reader,
        "editor": outcome,
        "analyst": NOT_FOUND,
    }


ROUTES = [
    Route(
        "awareness:sessions",
        url=lambda w: (session_a(w), reverse("awareness:sessions", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                **_viewers(OK.but(shows(lambda w: [TITLE]))),
                editor=OK.but(shows(lambda w: [TITLE, "Planifier des groupes"])),
            ),
            Call(
                "get",
                url=lambda w: (session_a(w), reverse("awareness:sessions", args=[w.ght_b.pk]))[1],
                note="the outsider's own GHT lists nothing of GHT A",
                anonymous=LOGIN,
                outsider=OK.but(hides(lambda w: [TITLE])),
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "awareness:session_create",
        url=lambda w: reverse("awareness:session_create", args=[w.est_a1.pk]),
        calls=[
            Call("get", **_changers(OK)),
            Call(
                "post",
                data=lambda w: (session_a(w), session_form(w))[1],
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: TrainingSession.objects.filter(
                                title="Session créée"
                            ).exists(),
                            "session created",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "awareness:session_planner",
        url=lambda w: reverse("awareness:session_planner", args=[w.est_a1.pk]),
        calls=[
            Call(
                "get",
                data={"capacity": "12", "proposer": "1"},
                **_changers(OK.but(shows(lambda w: [str(w.staff_a1)]))),
            )
        ],
    ),
    Route(
        "awareness:session",
        url=_session_url("session"),
        calls=[
            Call(
                "get",
                **_viewers(OK.but(shows(lambda w: [TITLE, str(w.staff_a1)]))),
                editor=OK.but(shows(lambda w: [TITLE, "Faire l'appel"])),
            )
        ],
    ),
    Route(
        "awareness:session_edit",
        url=_session_url("session_edit"),
        calls=[
            Call("get", **_changers(OK)),
            Call(
                "post",
                data=lambda w: session_form(w, title="Titre modifié"),
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: (
                                TrainingSession.objects.get(pk=w.session_a.pk).title
                                == "Titre modifié"
                            ),
                            "session edited",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "awareness:session_cancel",
        url=_session_url("session_cancel"),
        calls=[
            Call(
                "post",
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: (
                                TrainingSession.objects.get(pk=w.session_a.pk).status
                                == SessionStatus.CANCELLED
                            ),
                            "session cancelled",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "awareness:session_add_participants",
        url=_session_url("session_add_participants"),
        calls=[
            Call(
                "post",
                data=lambda w: {"staff": [w.staff_a1.pk]},
                **_changers(REDIRECT),
            ),
            Call(
                "post",
                data=lambda w: {"staff": [w.staff_b1.pk]},
                note="another GHT's staff member cannot be seated by id",
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: (
                                not SessionParticipant.objects.filter(staff=w.staff_b1).exists()
                            ),
                            "nobody from GHT B seated",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "awareness:session_remove_participant",
        url=_session_url("session_remove_participant", lambda w: w.seat_a.pk),
        calls=[
            Call(
                "post",
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: (
                                not SessionParticipant.objects.filter(pk=w.seat_a.pk).exists()
                            ),
                            "seat freed",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "awareness:session_invite",
        url=_session_url("session_invite"),
        calls=[
            Call(
                "post",
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: SessionParticipant.objects.get(pk=w.seat_a.pk).invited_at,
                            "invitation sent",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "awareness:session_attendance",
        url=_session_url("session_attendance"),
        calls=[
            Call("get", **_changers(OK.but(shows(lambda w: [str(w.staff_a1)])))),
            Call(
                "post",
                data=lambda w: {f"p{w.seat_a.pk}": "absent"},
                **_changers(
                    REDIRECT.but(
                        then(
                            lambda w: (
                                SessionParticipant.objects.get(pk=w.seat_a.pk).attendance
                                == Attendance.ABSENT
                            ),
                            "roll call saved",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "awareness:session_certificate",
        url=lambda w: reverse(
            "awareness:session_certificate", args=[session_a(w).pk, present_seat(w).pk]
        ),
        calls=[Call("get", **_viewers(OK), editor=OK)],
    ),
]
