"""The module catalogue as the staff preparing a campaign see it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hygie.awareness.models import Module

pytestmark = pytest.mark.django_db


def test_the_list_filters_by_audience_and_by_lure(world, client_for):
    client = client_for(world.editor)
    page = client.get(reverse("awareness:catalogue")).content.decode()
    for title in ("Repérer un courriel piégé", "La clé USB trouvée sur le parking"):
        assert title in page

    admins = client.get(reverse("awareness:catalogue"), {"public": "admin_si"}).content.decode()
    assert "Administrateurs : comptes à privilèges" in admins
    assert "Encadrement : faire vivre la cybersécurité" not in admins

    invoice = client.get(
        reverse("awareness:catalogue"), {"leurre": "facture-fournisseur"}
    ).content.decode()
    assert "L&#x27;appel qui demande un mot de passe" in invoice
    assert "La clé USB trouvée sur le parking" not in invoice
    assert "Facture fournisseur impayée" in invoice  # the lure's name, not its slug


def test_withdrawn_modules_are_hidden_unless_asked_and_stay_readable(world, client_for):
    Module.objects.filter(slug="cle-usb-trouvee").update(active=False)
    client = client_for(world.reader)
    assert "La clé USB trouvée" not in client.get(reverse("awareness:catalogue")).content.decode()
    listed = client.get(reverse("awareness:catalogue"), {"retires": "on"}).content.decode()
    assert "La clé USB trouvée" in listed and "retiré" in listed
    preview = client.get(reverse("awareness:catalogue_module", args=["cle-usb-trouvee"]))
    assert preview.status_code == 200
    assert b'data-testid="module-withdrawn"' in preview.content


def test_the_preview_shows_steps_signs_and_correct_answers(world, client_for):
    response = client_for(world.outsider).get(
        reverse("awareness:catalogue_module", args=["courriel-piege"])
    )
    page = response.content.decode()
    assert page.count('data-kind="spot_signs"') == 2
    assert '<mark data-sign="expediteur">resultats@labo-ch-exemple.com</mark>' in page
    assert "Fausses pistes (normales)" in page
    assert page.count('data-testid="correct-answer"') == 3 + 1 + 1 + 1 + 1
    assert "réussi à partir de 80 % de bonnes réponses" in page


def test_someone_without_any_membership_is_refused(world, client_for):
    client = client_for(world.nobody)
    assert client.get(reverse("awareness:catalogue")).status_code == 403
    url = reverse("awareness:catalogue_module", args=["courriel-piege"])
    assert client.get(url).status_code == 403


def test_an_unknown_module_answers_404(world, client_for):
    url = reverse("awareness:catalogue_module", args=["inconnu"])
    assert client_for(world.editor).get(url).status_code == 404
