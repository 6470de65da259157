"""Session pages as an RSSI uses them: plan, create, seat, invite, take the roll, download
certificates; and the participant's page from a personal link."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.core import mail
from django.urls import reverse

from hygie.awareness import links, session_views, sessions
from hygie.awareness.models import SessionParticipant, TrainingSession
from hygie.orgs.models import JobFamily, Kind
from tests import factories
from tests.awareness.sessions_support import (
    AGENDA,
    ATTENDED,
    at,
    make_session,
    modules,
    queued_statements,
)
from tests.clients import browser


def agenda_post(parts=AGENDA, prefix="agenda"):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(parts)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "12",
    }
    for i, part in enumerate(parts):
        for key, value in part.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def form_post(**extra):
    data = {
        "title": "Les bons réflexes",
        "mode": "in_person",
        "location": "Salle du conseil",
        "meeting_url": "",
        "starts_at": at(5).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": at(5, 11).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "12",
        "trainer": "",
        "trainer_name": "Claire Dumont",
        **agenda_post(),
    }
    data.update(extra)
    return data


def test_creating_a_session_checks_the_agenda_and_names_the_faulty_part(world):
    modules()
    client = browser(world.editor)
    url = reverse("awareness:session_create", args=[world.est_a1.pk])
    assert client.get(url).status_code == 200
    bad = [dict(AGENDA[0]), dict(AGENDA[0])]
    response = client.post(url, form_post(**agenda_post(bad)))
    assert response.status_code == 200
    assert "Partie 2 : deux parties « théorie » se suivent" in response.content.decode()
    assert not TrainingSession.objects.exists()

    response = client.post(url, form_post())
    session = TrainingSession.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "awareness:session", args=[session.pk]
    )
    assert [p["module"] for p in session.agenda] == ["", "signes-mail", "", "phrase-passe"]
    assert sorted(session.modules.values_list("slug", flat=True)) == ["phrase-passe", "signes-mail"]


def test_the_planner_proposes_flags_and_creates_the_sessions(world):
    modules()
    pharmacy = factories.org(Kind.SERVICE, world.site_a1, name="Pharmacie")
    for _ in range(8):
        factories.staff(world.est_a1, service=world.service_a1, job_family=JobFamily.CARE)
    for _ in range(6):
        factories.staff(world.est_a1, service=pharmacy, job_family=JobFamily.MEDICO_TECHNICAL)
    client = browser(world.editor)
    url = reverse("awareness:session_planner", args=[world.est_a1.pk])

    # Nurses only: the proposal is flagged, and says why.
    page = client.get(url, {"job_families": "soignant", "capacity": 6, "proposer": 1})
    body = page.content.decode()
    assert body.count('data-testid="planner-group"') == 2
    assert "tous les participants sont de la famille « Soignant »" in body

    # Everyone (15 with the fixture's nurse): three mixed groups of five, no flag.
    page = client.get(url, {"capacity": 6, "proposer": 1})
    body = page.content.decode()
    assert body.count('data-testid="planner-group"') == 3
    assert 'data-testid="session-flags"' not in body
    groups = page.context["create_form"].initial["groups"]
    data = {
        "groups": groups,
        "capacity": "6",
        "title": "Cybersécurité",
        "mode": "remote",
        "location": "",
        "meeting_url": "https://visio.chu-a.example/cyber",
        "first_start": at(10, 14).strftime("%Y-%m-%dT%H:%M"),
        "duration": "90",
        "spacing_days": "7",
        "trainer_name": "",
        **agenda_post(),
    }
    response = client.post(url, data)
    assert response.status_code == 302
    created = list(TrainingSession.objects.order_by("starts_at"))
    assert [s.title for s in created] == [f"Cybersécurité — groupe {n}" for n in (1, 2, 3)]
    assert (created[1].starts_at - created[0].starts_at).days == 7
    seated = [list(s.participants.values_list("staff_id", flat=True)) for s in created]
    assert sorted(map(sorted, seated)) == sorted(map(sorted, json.loads(groups)))

    # A forged proposal with someone from another GHT is refused, nothing created.
    forged = {**data, "groups": json.dumps([[world.staff_b1.pk]])}
    response = client.post(url, forged, follow=True)
    assert "ne sont plus dans l'annuaire" in html.unescape(response.content.decode())
    assert TrainingSession.objects.count() == 3


def test_seating_beyond_capacity_shows_a_clear_message(world):
    session = make_session(world.est_a1, capacity=2)
    staff = [factories.staff(world.est_a1, service=world.service_a1) for _ in range(3)]
    client = browser(world.editor)
    page = client.get(reverse("awareness:session", args=[session.pk]), {"q": "Camille"})
    assert page.content.decode().count('name="staff"') == 4  # the fixture's Camille too
    response = client.post(
        reverse("awareness:session_add_participants", args=[session.pk]),
        {"staff": [s.pk for s in staff]},
        follow=True,
    )
    assert "Session complète : 3 personne(s) à inscrire pour 2 place(s)" in html.unescape(
        response.content.decode()
    )
    assert not session.participants.exists()
    # Someone of another GHT cannot be slipped in by id.
    response = client.post(
        reverse("awareness:session_add_participants", args=[session.pk]),
        {"staff": [world.staff_b1.pk]},
        follow=True,
    )
    assert "Choisissez des personnes de la liste." in response.content.decode()


def test_roll_call_page_then_certificate_and_the_participants_page(world):
    session = make_session(world.est_a1, starts_at=at(0, 0, 5), ends_at=at(0, 2))
    here, away = sessions.add_participants(
        session, [factories.staff(world.est_a1, service=world.service_a1) for _ in range(2)]
    )
    sessions.send_invitations(session)
    (invitation,) = [m for m in mail.outbox if m.to == [here.staff.email]]
    token = re.search(r"/apprendre/([^/\s]+)/", invitation.body).group(1)
    client = browser(world.editor)
    url = reverse("awareness:session_attendance", args=[session.pk])
    page = client.get(url)
    assert page.content.decode().count('data-testid="attendance-row"') == 2
    response = client.post(url, {f"p{here.pk}": "present", f"p{away.pk}": "absent"}, follow=True)
    assert "Appel enregistré : 1 présent(s) sur 2." in response.content.decode()
    here.refresh_from_db()
    assert queued_statements(session) == [(here.pk, ATTENDED, {"completion": True})]

    pdf = client.get(reverse("awareness:session_certificate", args=[session.pk, here.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    missing = client.get(reverse("awareness:session_certificate", args=[session.pk, away.pk]))
    assert missing.status_code == 404

    # The learner area resolves the link and hands the page over (no account involved).
    link = links.LearnerLink.objects.get(token_digest=links.digest(token))
    participant_page = session_views.session_learner_page(_request(), link)
    text = participant_page.content.decode()
    assert link.participant_id == here.pk
    assert session.location in text and "?attestation=pdf" in text
    download = session_views.session_learner_page(_request("?attestation=pdf"), link)
    assert download.content.startswith(b"%PDF")


def _request(query=""):
    from django.test import RequestFactory

    return RequestFactory().get("/apprendre/x/" + query)


def test_the_participants_page_offers_the_certificate_only_when_present(world):
    session = make_session(world.est_a1, starts_at=at(0, 0, 5), ends_at=at(0, 2))
    (seat,) = sessions.add_participants(session, [world.staff_a1])
    link, _token = links.issue_link(participant=seat)
    page = session_views.session_learner_page(_request(), link).content.decode()
    assert "Salle de formation" in page and "?attestation=pdf" not in page
    with pytest.raises(Exception) as caught:
        session_views.session_learner_page(_request("?attestation=pdf"), link)
    assert caught.type.__name__ == "Http404"
    sessions.take_attendance(session, {seat.pk: "present"})
    page = html.unescape(session_views.session_learner_page(_request(), link).content.decode())
    assert f"Télécharger l'attestation n° {seat.__class__.objects.get().certificate_number}" in page
    assert "Les signes d'un courriel piégé — Non commencé" in page


def test_another_ghts_sessions_answer_404(world):
    session = make_session(world.est_a1, title="Session du CHU A1")
    (seat,) = sessions.add_participants(session, [world.staff_a1])
    client = browser(world.outsider)
    for name, args in [
        ("awareness:session", [session.pk]),
        ("awareness:session_edit", [session.pk]),
        ("awareness:session_attendance", [session.pk]),
        ("awareness:session_certificate", [session.pk, seat.pk]),
        ("awareness:sessions", [world.est_a1.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    own = client.get(reverse("awareness:sessions", args=[world.est_b1.pk]))
    assert "Session du CHU A1" not in own.content.decode()
    response = client.post(reverse("awareness:session_cancel", args=[session.pk]))
    assert response.status_code == 404
    assert SessionParticipant.objects.filter(pk=seat.pk).exists()
