"""Error pages are in French and friendly; those rendered without a request never touch the database."""

import pytest
from django.test import Client, RequestFactory
from django.views import defaults
from django.views.csrf import csrf_failure


def test_server_error_page_renders_without_the_database():
    # No `db` fixture: any query here would fail the test.
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur interne" in page
    assert 'href="/static/hygie/hygie.css"' in page


def test_bad_host_gets_the_french_400_page():
    response = Client().get("/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert "Requête invalide" in response.content.decode()


def test_csrf_failure_explains_the_expired_form():
    response = csrf_failure(RequestFactory().post("/"), reason="CSRF token missing.")
    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()


@pytest.mark.django_db
def test_unknown_page_gets_the_french_404_page_with_a_way_back(client_for, world):
    response = client_for(world.editor).get("/nulle-part/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page introuvable" in page
    assert "Retour au tableau de bord" in page
