"""The learner's pages, as a phone's browser without an account goes through them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from hygie.awareness import learner
from hygie.awareness.models import LearnerLink, State
from tests.awareness import learner_data as data
from tests.clients import browser


@pytest.fixture
def setup(world):
    assignment, link, token = data.learner_link(world.staff_a1)
    return assignment, link, token


def url(name, token, *args):
    return reverse(f"awareness:{name}", args=[token, *args])


def started(token):
    """A learner's browser that has pressed "Commencer"."""
    client = browser()
    response = client.post(url("learner_start", token))
    assert response.status_code == 302
    return client


def text(response) -> str:
    return response.content.decode()


def assert_private(response):
    assert response["Referrer-Policy"] == "strict-origin"  # never a path, so never the token
    assert "no-store" in response["Cache-Control"]


# Opening, binding -------------------------------------------------------------------------------
def test_the_link_welcomes_then_binds_the_browser_that_starts(setup):
    assignment, link, token = setup
    client = browser()
    response = client.get(url("learner_open", token))
    assert response.status_code == 200
    assert "Repérer un message piégé" in text(response) and "Commencer" in text(response)
    assert_private(response)
    assert LearnerLink.objects.get(pk=link.pk).browser_digest == ""  # looking spends nothing

    response = client.post(url("learner_start", token))
    assert response.status_code == 302 and response["Location"] == url("learner_open", token)
    cookie = response.cookies[learner.BROWSER_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/apprendre/" and not cookie["secure"]  # plain HTTP in tests
    assignment.refresh_from_db()
    assert assignment.state == State.INCOMPLETE

    home = client.get(url("learner_open", token))
    assert home.status_code == 200 and "0 étape(s) sur 4" in text(home)
    assert "Pourquoi on vous cible" in text(home)


def test_the_cookie_is_secure_over_https(setup):
    _, _, token = setup
    response = browser().post(
        url("learner_start", token), secure=True, HTTP_ORIGIN="https://testserver"
    )
    assert response.cookies[learner.BROWSER_COOKIE]["secure"]


def test_another_browser_gets_a_clear_page_and_can_ask_for_a_new_link(setup, world):
    _, _, token = setup
    started(token)
    other = browser()
    for page in (
        url("learner_open", token),
        url("learner_step", token, 1),
        url("learner_quiz", token),
        url("learner_result", token),
        url("learner_certificate", token),
    ):
        response = other.get(page)
        assert response.status_code == 403, page
        assert "déjà utilisé sur un autre appareil" in text(response)
        assert_private(response)
    # The address is never shown in full.
    assert world.staff_a1.email not in text(response)
    assert learner.mask_email(world.staff_a1.email) in text(response)

    response = other.post(url("learner_new_link", token))
    assert response.status_code == 200 and "Nouveau lien envoyé" in text(response)
    assert world.staff_a1.email not in text(response)
    [message] = mail.outbox
    new_token = re.search(r"/apprendre/([^/]+)/", message.body).group(1)
    assert other.post(url("learner_start", new_token)).status_code == 302
    assert other.get(url("learner_open", new_token)).status_code == 200


def test_expired_and_revoked_links_are_gone_with_a_way_back(setup):
    _, link, token = setup
    client = started(token)
    LearnerLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    response = client.get(url("learner_open", token))
    assert response.status_code == 410 and "Ce lien a expiré" in text(response)
    assert "nouveau lien" in text(response)
    response = client.get(url("learner_quiz", token))
    assert response.status_code == 410

    LearnerLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    response = client.get(url("learner_open", token))
    assert response.status_code == 410 and "Ce lien a été remplacé" in text(response)
    assert client.post(url("learner_start", token)).status_code == 410


def test_an_unknown_token_gets_the_generic_invalid_link_page(db):
    client = browser()
    for response in (
        client.get(url("learner_open", "pas-un-jeton")),
        client.get(url("learner_step", "pas-un-jeton", 1)),
        client.post(url("learner_start", "pas-un-jeton")),
        client.post(url("learner_new_link", "pas-un-jeton")),
    ):
        assert response.status_code == 404
        assert "Lien invalide" in text(response) and "nouveau lien" not in text(response)


def test_asking_for_new_links_is_throttled(setup):
    _, _, token = setup
    client = browser()
    statuses = [client.post(url("learner_new_link", token)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(mail.outbox) == 3
    response = client.post(url("learner_new_link", token))
    assert "Un lien a déjà été envoyé récemment" in text(response)


def test_pages_of_a_link_not_started_lead_to_its_welcome_page(setup):
    _, _, token = setup
    response = browser().get(url("learner_quiz", token))
    assert response.status_code == 302 and response["Location"] == url("learner_open", token)


def test_forms_need_the_csrf_token(setup):
    from django.test import Client

    _, _, token = setup
    assert Client(enforce_csrf_checks=True).post(url("learner_start", token)).status_code == 403


# Steps ------------------------------------------------------------------------------------------
def test_a_lesson_is_read_then_the_next_step_follows(setup):
    assignment, _, token = setup
    client = started(token)
    page = client.get(url("learner_step", token, 1))
    assert page.status_code == 200 and "chaque minute compte" in text(page)
    response = client.post(url("learner_step", token, 1))
    assert response["Location"] == url("learner_step", token, 2)
    assignment.refresh_from_db()
    assert assignment.steps_done == [0]


def test_spot_the_signs_shows_found_missed_and_false_alarms(setup):
    assignment, _, token = setup
    client = started(token)
    page = text(client.get(url("learner_step", token, 2)))
    assert "Résultats urgents à valider" in page and "support@resultats-en-ligne.com" in page
    assert "resultats.html" in page
    # Signs and decoys are offered alike; the e-mail's link leads nowhere.
    for label in ("Une urgence", "Un lien vers un domaine", "La signature du laboratoire"):
        assert label in page
    assert ' href="https://resultats-en-ligne.com/x"' not in page

    response = client.post(url("learner_step", token, 2), {"signes": ["urgence", "signature"]})
    body = text(response)
    assert response.status_code == 200
    assert "Vous avez repéré 1 signe(s) sur 2" in body
    found, missed = body.index("Bien vu"), body.index("Passés inaperçus")
    wrong = body.index("Fausses alertes")
    assert found < body.index("La pression du temps") < missed
    assert missed < body.index("pas celui de l'hôpital") < wrong
    assert 'data-sign="urgence" class="sign-found"' in body
    assert 'data-sign="lien" class="sign-missed"' in body
    assert 'data-sign="signature" class="decoy-ticked"' in body
    assignment.refresh_from_db()
    assert assignment.steps_done == [1]


def test_a_scenario_gives_feedback_and_the_better_choice(setup):
    _, _, token = setup
    client = started(token)
    response = client.post(url("learner_step", token, 3), {})
    assert "Choisissez une réponse" in text(response)
    response = client.post(url("learner_step", token, 3), {"choix": "brancher"})
    body = text(response)
    assert "Ce n'est pas le meilleur choix" in body
    assert "infecte le poste" in body and "C'est le bon réflexe" in body
    response = client.post(url("learner_step", token, 4), {"choix": "longue"})
    assert "Bonne réponse" in text(response)
    assert url("learner_quiz", token) in text(response)  # the last step leads to the quiz


def test_a_step_out_of_range_goes_back_home(setup):
    _, _, token = setup
    client = started(token)
    assert client.get(url("learner_step", token, 9))["Location"] == url("learner_open", token)


# Quiz, result, certificate ----------------------------------------------------------------------
def quiz_data(answers):
    return {f"q-{question}": choices for question, choices in answers.items()}


def through_steps(client, token):
    client.post(url("learner_step", token, 1))
    client.post(url("learner_step", token, 2), {"signes": ["urgence"]})
    client.post(url("learner_step", token, 3), {"choix": "remettre"})
    client.post(url("learner_step", token, 4), {"choix": "longue"})


def test_the_quiz_opens_after_the_steps(setup):
    _, _, token = setup
    client = started(token)
    assert client.get(url("learner_quiz", token))["Location"] == url("learner_open", token)
    through_steps(client, token)
    page = client.get(url("learner_quiz", token))
    assert page.status_code == 200
    body = text(page)
    assert body.count("<fieldset") == 4 and body.count("<legend>") == 4
    assert 'type="checkbox" name="q-q2"' in body and 'type="radio" name="q-q1"' in body


def test_a_quiz_with_unanswered_questions_names_them(setup):
    assignment, _, token = setup
    client = started(token)
    through_steps(client, token)
    response = client.post(url("learner_quiz", token), quiz_data({"q1": ["b"], "q3": ["a"]}))
    body = text(response)
    assert response.status_code == 200
    assert 'href="#q-q2">question 2' in body and 'href="#q-q4">question 4' in body
    assert 'value="b" id="q-q1-b" checked' in body  # what was answered is kept
    assignment.refresh_from_db()
    assert assignment.attempts == 0


def test_fail_retry_pass_and_download_the_certificate(setup, world):
    assignment, _, token = setup
    client = started(token)
    through_steps(client, token)
    refused = client.get(url("learner_certificate", token))
    assert refused.status_code == 409 and "pas encore disponible" in text(refused)

    response = client.post(url("learner_quiz", token), quiz_data(data.HALF))
    assert response["Location"] == url("learner_result", token)
    result = text(client.get(url("learner_result", token)))
    assert "Votre score : 50 %" in result and "seuil de réussite : 75 %" in result
    assert "Question 1" in result and "L'urgence est le premier indice" in result
    assert "Question 3" not in result  # answered right
    assert "Repasser le quiz" in result
    assignment.refresh_from_db()
    assert assignment.state == State.FAILED

    client.post(url("learner_quiz", token), quiz_data(data.RIGHT))
    result = text(client.get(url("learner_result", token)))
    assert "Votre score : 100 %" in result and "Quiz réussi" in result
    # A passed quiz is not offered again.
    assert client.get(url("learner_quiz", token))["Location"] == url("learner_result", token)

    pdf = client.get(url("learner_certificate", token))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert pdf.content.startswith(b"%PDF")
    home = text(client.get(url("learner_open", token)))
    assert "Réussi" in home and "Télécharger mon attestation" in home


def test_a_module_without_quiz_completes_and_certifies(world):
    _, _, token = data.learner_link(world.staff_a1, data.module(quiz=False))
    client = started(token)
    through_steps(client, token)
    home = text(client.get(url("learner_open", token)))
    assert "Terminé" in home and "Quiz" not in home
    assert client.get(url("learner_certificate", token)).status_code == 200


def test_a_logged_in_rssi_gets_nothing_more_without_the_bound_browser(setup, world):
    _, _, token = setup
    started(token)
    rssi = browser(world.editor)
    assert rssi.get(url("learner_open", token)).status_code == 403
    assert rssi.get(url("learner_certificate", token)).status_code == 403


def test_session_and_kit_links_are_handed_to_their_area(world):
    """Once started, a KIT link shows the kit's acknowledgement page and a SESSION link the
    session's page, through the same entry point and its checks."""
    from hygie.awareness import links, sessions
    from hygie.awareness.models import Kit, KitDistribution
    from tests.awareness.sessions_support import make_session

    kit = Kit.objects.create(organisation=world.est_a1, name="Cybervigilants 2026", year=2026)
    distribution = KitDistribution.objects.create(
        kit=kit, service=world.service_a1, contact_email="cadre@example.org"
    )
    _, token = links.issue_link(distribution=distribution)
    page = text(started(token).get(url("learner_open", token)))
    assert "Cybervigilants 2026" in page
    assert "Urgences A1" in page

    session = make_session(world.est_a1, title="Atelier cybersécurité du jeudi")
    [participant] = sessions.add_participants(session, [world.staff_a1])
    _, token = links.issue_link(participant=participant)
    client = started(token)
    page = text(client.get(url("learner_open", token)))
    assert "Atelier cybersécurité du jeudi" in page
    assert "Salle de formation, bâtiment B" in page
    # Another browser holding the same link gets the already-used page, not the session.
    assert browser().get(url("learner_open", token)).status_code == 403


def test_without_an_address_on_file_the_page_says_whom_to_ask(setup, world):
    _, _, token = setup
    started(token)
    world.staff_a1.email = ""
    world.staff_a1.save()
    response = browser().get(url("learner_open", token))
    assert response.status_code == 403
    assert "M&#x27;envoyer un nouveau lien" not in text(response)
    assert "M'envoyer un nouveau lien" not in text(response)
    assert "référent sécurité" in text(response)
    assert browser().post(url("learner_new_link", token)).status_code == 403
    assert not mail.outbox
