"""The OpenAPI schema generates cleanly and its documentation page works offline."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from tests.clients import browser


def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    # --fail-on-warn turns any unresolvable view, serializer or authenticator into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["components"]["securitySchemes"]["jeton"]["scheme"] == "bearer"
    assert {"/api/v1/me/", "/api/v1/staff/", "/api/v1/staff/{id}/"} <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/staff/{id}/"]) >= {"get", "put", "patch", "delete"}
    assert "post" not in schema["paths"]["/api/v1/memberships/"]


def test_docs_page_loads_for_a_logged_in_user_with_local_assets_only(world):
    client = browser(world.reader)
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    assert all(a.startswith("/") for a in assets), f"external assets: {assets}"
    # No inline script: the start-up script is a separate file, allowed by the CSP.
    assert "<script>" not in page
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        if asset.startswith("/api/"):
            assert "schema" in served.content.decode()
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "Hygie API"


@pytest.mark.parametrize("suffix", ["staff.json", "staff.api", "organisations.json"])
def test_format_suffix_urls_are_not_served(world, suffix):
    assert browser(world.reader).get(f"/api/v1/{suffix}").status_code == 404
