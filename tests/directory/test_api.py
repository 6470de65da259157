"""The read-only directory API: same visibility and filters as the pages."""

from __future__ import annotations

from tests.clients import browser
from tests.directory.helpers import actor


def test_api_filters_by_region_code_and_competence(world):
    actor("Réponse Normandie", regions=[world.region_b], competences=["reponse_incident"])
    actor("Contrat du GHT B", owner=world.ght_b, competences=["reponse_incident"])
    client = browser(world.editor)
    payload = client.get("/api/v1/actors/", {"region": "28", "competence": "reponse_incident"})
    names = [row["name"] for row in payload.json()["results"]]
    assert names[0] == "Réponse Normandie"
    assert "Contrat du GHT B" not in names  # GHT B's own entry stays in GHT B
    assert "CERT Santé (ANS)" in names  # national entries follow the regional ones
    row = payload.json()["results"][0]
    assert row["regions"] == ["28"] and row["is_stale"] is True and row["is_reference"] is True


def test_api_refuses_unknown_filter_values(world):
    client = browser(world.reader)
    response = client.get("/api/v1/actors/", {"kind": "plombier"})
    assert response.status_code == 400 and "kind" in response.json()
    assert client.get("/api/v1/actors/", {"region": "99"}).status_code == 400
