"""Sessions: agenda rules, seats and capacity, invitations through a real SMTP server,
reminders, attendance and certificates."""

from __future__ import annotations

import base64
import datetime as dt
import re
import zlib

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings

from hygie.awareness import links, sessions
from hygie.awareness.models import (
    Assignment,
    Attendance,
    LearnerLink,
    SessionParticipant,
    SessionStatus,
)
from hygie.orgs.models import JobFamily
from tests import factories
from tests.awareness.sessions_support import (
    AGENDA,
    ATTENDED,
    at,
    make_session,
    modules,
    queued_statements,
)
from tests.services import smtp as smtp_service


def people(world, n, **extra):
    return [factories.staff(world.est_a1, service=world.service_a1, **extra) for _ in range(n)]


# Agenda -----------------------------------------------------------------------------------------
def test_the_agenda_must_alternate_and_practice_names_a_module(world):
    modules()
    assert sessions.validate_agenda(AGENDA)[1]["module"] == "signes-mail"
    broken = [
        {"kind": "theory", "title": "Introduction", "minutes": 20, "module": ""},
        {"kind": "theory", "title": "Suite", "minutes": 20, "module": ""},
        {"kind": "practice", "title": "Exercice", "minutes": 20, "module": ""},
        {"kind": "theory", "title": "Bilan", "minutes": 10, "module": "inconnu"},
    ]
    with pytest.raises(ValidationError) as caught:
        sessions.validate_agenda(broken)
    assert caught.value.messages == [
        "Partie 2 : deux parties « théorie » se suivent ; alternez théorie et pratique.",
        "Partie 3 : une partie pratique indique le module suivi en ligne.",
        "Partie 4 : le module « inconnu » n'existe pas ou n'est plus proposé.",
    ]
    with pytest.raises(ValidationError, match="au moins une partie théorique et une partie"):
        sessions.validate_agenda([AGENDA[0]])


def test_the_schedule_names_each_faulty_field(db):
    with pytest.raises(ValidationError) as caught:
        sessions.validate_schedule(
            mode="in_person",
            location=" ",
            meeting_url="",
            starts_at=at(3, 10),
            ends_at=at(3, 9),
            capacity=40,
            agenda=None,
        )
    assert set(caught.value.message_dict) == {"location", "ends_at", "capacity"}
    with pytest.raises(ValidationError) as caught:
        sessions.validate_schedule(
            mode="remote",
            location="",
            meeting_url="",
            starts_at=at(3, 9),
            ends_at=at(3, 10),
            capacity=12,
            agenda=sessions.validate_agenda(AGENDA) if modules() else None,
        )
    assert caught.value.message_dict["meeting_url"]
    assert "Le programme dure 85 minutes, la session 60." in caught.value.message_dict["ends_at"]


# Seats ------------------------------------------------------------------------------------------
def test_seats_beyond_capacity_are_refused_all_or_nothing(world):
    session = make_session(world.est_a1, capacity=4)
    first = people(world, 3)
    sessions.add_participants(session, first)
    more = people(world, 2)
    with pytest.raises(sessions.SessionError) as caught:
        sessions.add_participants(session, more)
    assert str(caught.value).startswith(
        "Session complète : 2 personne(s) à inscrire pour 1 place(s) restante(s) sur 4."
    )
    assert session.participants.count() == 3  # nobody from the refused batch was seated
    # Someone already seated is not counted twice.
    sessions.add_participants(session, [first[0], more[0]])
    assert session.participants.count() == 4


def test_staff_of_another_establishment_cannot_take_a_seat(world):
    session = make_session(world.est_a1)
    with pytest.raises(sessions.SessionError, match="Hors du périmètre"):
        sessions.add_participants(session, [world.staff_b1])
    assert not session.participants.exists()


def test_seats_copy_service_and_job_family(world):
    session = make_session(world.est_a1)
    (seat,) = sessions.add_participants(session, people(world, 1, job_family=JobFamily.MEDICAL))
    assert (seat.service_id, seat.job_family) == (world.service_a1.pk, "medical")


# Invitations through a real SMTP server -----------------------------------------------------------
@pytest.fixture
def smtp(monkeypatch, tmp_path):
    with smtp_service.smtp_server() as server:
        ca = tmp_path / "ca.pem"
        ca.write_text(server.ca_pem)
        # Django's SMTP backend verifies the server against the default trust store.
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="localhost",
            EMAIL_PORT=server.port,
            EMAIL_HOST_USER=smtp_service.USERNAME,
            EMAIL_HOST_PASSWORD=smtp_service.PASSWORD,
            EMAIL_USE_TLS=True,
            EMAIL_TIMEOUT=5,
            DEFAULT_FROM_EMAIL="Hygie <hygie@chu-a.example>",
        ):
            yield server


def _calendar(message):
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    part = parts[0]
    assert part.get_param("method")
    assert part.get_filename() == "invitation.ics"
    return part.get_param("method"), part.get_payload(decode=True).decode("utf-8")


def test_invitations_reach_the_smtp_server_with_a_calendar_and_a_personal_link(world, smtp):
    session = make_session(world.est_a1)
    guests = people(world, 2)
    guests.append(factories.staff(world.est_a1, service=world.service_a1, email=""))
    sessions.add_participants(session, guests)

    report = sessions.send_invitations(session)

    assert report.sent == 2
    assert report.without_email == [str(guests[2])]
    assert smtp.logins == [smtp_service.USERNAME]  # one authenticated connection for the batch
    assert sorted(rcpt[0] for _f, rcpt, _m in smtp.messages) == sorted(g.email for g in guests[:2])
    _from, rcpt, message = smtp.messages[0]
    assert message["Subject"] == "Invitation : Cybersécurité au quotidien"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Salle de formation, bâtiment B" in body
    token = re.search(r"/apprendre/([^/\s]+)/", body).group(1)
    link = LearnerLink.objects.get(token_digest=links.digest(token))
    assert link.purpose == "session" and link.participant.staff.email == rcpt[0]
    assert link.expires_at > session.ends_at  # the certificate stays reachable afterwards
    method, calendar = _calendar(message)
    assert method == "REQUEST" and "METHOD:REQUEST\r\n" in calendar
    assert f"UID:{session.uid}\r\n" in calendar and f"mailto:{rcpt[0]}" in calendar
    invited = session.participants.filter(invited_at__isnull=False)
    assert invited.count() == 2
    # Sending again only reaches the people not invited yet (nobody).
    assert sessions.send_invitations(session).sent == 0
    assert len(smtp.messages) == 2


def test_a_refused_recipient_is_reported_and_left_for_the_next_send(world, smtp):
    session = make_session(world.est_a1)
    sessions.add_participants(session, people(world, 2))
    smtp.fail_with.append((550, "5.1.1 Mailbox unknown"))
    report = sessions.send_invitations(session)
    assert report.sent == 1 and len(report.failed) == 1
    assert session.participants.filter(invited_at__isnull=True).count() == 1
    assert sessions.send_invitations(session).sent == 1


def test_a_new_time_resends_with_a_higher_sequence_and_cancelling_sends_cancel(world, smtp):
    session = make_session(world.est_a1)
    sessions.add_participants(session, people(world, 2))
    sessions.send_invitations(session)
    previous = {name: getattr(session, name) for name in sessions.CALENDAR_FIELDS}
    session.trainer_name = "Autre formateur"  # not shown by calendars: no re-send
    assert sessions.update_session(session, previous=previous).sent == 0
    assert session.sequence == 0

    session.starts_at += dt.timedelta(hours=1)
    session.ends_at += dt.timedelta(hours=1)
    report = sessions.update_session(session, previous=previous)
    assert report.sent == 2 and session.sequence == 1
    _f, _r, update = smtp.messages[-1]
    assert update["Subject"].strip() == "Session modifiée : Cybersécurité au quotidien"
    method, calendar = _calendar(update)
    assert (method, "SEQUENCE:1\r\n" in calendar) == ("REQUEST", True)
    assert session.starts_at.astimezone(dt.UTC).strftime("DTSTART:%Y%m%dT%H%M%SZ") in calendar

    report = sessions.cancel_session(session)
    assert report.sent == 2
    session.refresh_from_db()
    assert (session.status, session.sequence) == (SessionStatus.CANCELLED, 2)
    _f, _r, cancel = smtp.messages[-1]
    method, calendar = _calendar(cancel)
    assert method == "CANCEL" and "METHOD:CANCEL\r\n" in calendar and "SEQUENCE:2\r\n" in calendar
    with pytest.raises(sessions.SessionError):
        sessions.send_invitations(session)


def test_removing_an_invited_participant_cancels_their_invitation(world):
    session = make_session(world.est_a1)
    seat, other = sessions.add_participants(session, people(world, 2))
    sessions.send_invitations(session)
    mail.outbox.clear()
    sessions.remove_participant(seat)
    assert [m.to for m in mail.outbox] == [[seat.staff.email]]
    (calendar,) = mail.outbox[0].attachments
    assert "METHOD:CANCEL\r\n" in calendar.get_payload(decode=True).decode()
    assert list(session.participants.all()) == [other]


# Reminders ----------------------------------------------------------------------------------------
def test_reminders_go_once_the_day_before_to_invited_people(world):
    tomorrow = make_session(world.est_a1, days=1)
    later = make_session(world.est_a1, days=3, title="Plus tard")
    cancelled = make_session(world.est_a1, days=1, title="Annulée")
    for session in (tomorrow, later, cancelled):
        sessions.add_participants(session, people(world, 2))
        sessions.send_invitations(session)
    sessions.add_participants(tomorrow, people(world, 1))  # seated, never invited
    sessions.cancel_session(cancelled)
    mail.outbox.clear()

    assert sessions.send_session_reminders() == 2
    assert all(m.subject == "Rappel : Cybersécurité au quotidien demain" for m in mail.outbox)
    assert "/apprendre/" in mail.outbox[0].body
    # Run again (another worker, the next hour): nobody is reminded twice.
    assert sessions.send_session_reminders() == 0
    assert len(mail.outbox) == 2
    assert tomorrow.participants.filter(reminded_at__isnull=False).count() == 2


def test_a_failed_reminder_is_retried_on_the_next_run(world):
    session = make_session(world.est_a1, days=1)
    sessions.add_participants(session, people(world, 1))
    sessions.send_invitations(session)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=9,
        EMAIL_TIMEOUT=1,
    ):
        assert sessions.send_session_reminders() == 0
    assert session.participants.get().reminded_at is None
    assert sessions.send_session_reminders() == 1


# Attendance and certificates ----------------------------------------------------------------------
def test_attendance_assigns_practice_modules_and_draws_certificates(world):
    session = make_session(world.est_a1, days=0, starts_at=at(0, 0, 5), ends_at=at(0, 2))
    present, absent, excused = sessions.add_participants(session, people(world, 3))

    result = sessions.take_attendance(
        session,
        {present.pk: "present", absent.pk: "absent", excused.pk: "excused"},
        actor=world.editor,
    )

    assert (result.present, result.newly_present) == (1, 1)
    present.refresh_from_db()
    assert present.attendance == Attendance.PRESENT and present.attendance_by == world.editor
    year = session.starts_at.year
    assert present.certificate_number == f"S-{year}-{present.pk:06d}"
    assigned = Assignment.objects.filter(staff=present.staff)
    assert sorted(a.module.slug for a in assigned) == ["phrase-passe", "signes-mail"]
    assert all(a.state == "not_attempted" for a in assigned)  # nothing completed silently
    assert all(a.due_date == session.starts_at.date() + dt.timedelta(days=14) for a in assigned)
    assert not Assignment.objects.filter(staff__in=[absent.staff, excused.staff]).exists()
    assert queued_statements(session) == [(present.pk, ATTENDED, {"completion": True})]
    session.refresh_from_db()
    assert session.status == SessionStatus.DONE

    # Taking the roll again changes nothing for someone already present.
    sessions.take_attendance(session, {present.pk: "present"}, actor=world.editor)
    assert len(queued_statements(session)) == 1
    assert Assignment.objects.filter(staff=present.staff).count() == 2
    # A correction withdraws the certificate.
    result = sessions.take_attendance(session, {present.pk: "absent"}, actor=world.editor)
    present.refresh_from_db()
    assert result.withdrawn == 1 and present.certificate_number == ""


def test_attendance_is_refused_before_the_day_and_on_a_cancelled_session(world):
    session = make_session(world.est_a1, days=2)
    (seat,) = sessions.add_participants(session, people(world, 1))
    with pytest.raises(sessions.SessionError, match="à partir du jour de la session"):
        sessions.take_attendance(session, {seat.pk: "present"})
    sessions.cancel_session(session)
    with pytest.raises(sessions.SessionError, match="annulée"):
        sessions.take_attendance(session, {seat.pk: "present"})
    assert SessionParticipant.objects.get(pk=seat.pk).attendance == Attendance.UNKNOWN


def _pdf_text(data: bytes) -> str:
    text = ""
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\n?endstream", data, re.S):
        stream = stream.strip()
        if stream.endswith(b"~>"):
            stream = base64.a85decode(stream, adobe=True)
        try:
            text += zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            text += stream.decode("latin-1")
    return text


def test_a_present_participant_gets_a_session_certificate(world):
    session = make_session(world.est_a1, days=0, starts_at=at(0, 0, 5), ends_at=at(0, 2))
    seat, absent = sessions.add_participants(session, people(world, 2))
    sessions.take_attendance(session, {seat.pk: "present", absent.pk: "absent"})
    seat.refresh_from_db()
    pdf = sessions.certificate_pdf(seat)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert seat.certificate_number in text
    assert seat.staff.last_name in text
    assert "Session de sensibilisation" in text
    absent.refresh_from_db()
    with pytest.raises(sessions.SessionError):
        sessions.certificate_pdf(absent)
