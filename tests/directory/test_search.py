"""search_actors, the service the action plan uses to suggest actors for an action item."""

from __future__ import annotations

from hygie.directory.models import Actor
from hygie.directory.services import search_actors
from tests.directory.helpers import actor


def test_suggestions_for_an_establishment_put_its_region_first(world):
    Actor.objects.all().delete()
    actor("Réponse Hauts-de-France", regions=[world.region_a], competences=["reponse_incident"])
    actor("Réponse nationale", competences=["reponse_incident"])
    actor("Réponse Normandie", regions=[world.region_b], competences=["reponse_incident"])
    actor("Audit Hauts-de-France", regions=[world.region_a], competences=["audit"])
    actor("Contrat GHT B", owner=world.ght_b, competences=["reponse_incident"])
    found = search_actors(world.editor, region=world.est_a1, competence="reponse_incident")
    assert [a.name for a in found] == ["Réponse Hauts-de-France", "Réponse nationale"]
    by_code = search_actors(world.outsider, region="28", competence="reponse_incident")
    assert [a.name for a in by_code] == ["Réponse Normandie", "Contrat GHT B", "Réponse nationale"]


def test_search_text_and_kind_and_no_region(world):
    found = search_actors(world.analyst, q="crise", kind="guide")
    assert [a.seed_key for a in found] == ["guide-exercice-crise-anssi"]
    assert search_actors(None).count() == 0
