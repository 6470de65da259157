"""Every URL pattern is declared in the permission matrix and behaves as declared for each persona.

See tests/permission_matrix.py for the registry and how an app adds its routes.
"""

from __future__ import annotations

import pytest

from tests.clients import browser
from tests.permission_matrix import (
    LOGIN,
    PERSONAS,
    UNAUTHORIZED,
    allowed_api_methods,
    collect_routes,
    json_body,
    url_patterns,
)

ROUTES = collect_routes()
PATTERNS = url_patterns()
PRESENT = {pattern.key for pattern in PATTERNS}

CASES = [
    pytest.param(name, index, persona, id=f"{name}|{call.method.upper()}#{index}|{persona}")
    for name, route in ROUTES.items()
    if name in PRESENT
    for index, call in enumerate(route.calls)
    for persona in PERSONAS
]


def test_every_url_pattern_has_a_matrix_entry():
    missing = sorted({(p.key, p.route) for p in PATTERNS if p.key not in ROUTES})
    assert not missing, (
        "URL patterns without a permission-matrix entry (add a Route to tests/<app>/matrix.py):\n"
        + "\n".join(f"  {key}  (/{route})" for key, route in missing)
    )


def test_no_entry_for_a_pattern_that_does_not_exist():
    stale = sorted(
        name for name, route in ROUTES.items() if name not in PRESENT and not route.optional
    )
    assert not stale, f"matrix entries without a URL pattern: {stale}"


def test_every_entry_is_exercised():
    idle = sorted(name for name, route in ROUTES.items() if not route.calls or route.url is None)
    assert not idle, f"matrix entries with no URL builder or no call: {idle}"


def test_api_entries_exercise_every_method_the_route_answers():
    gaps = []
    for pattern in PATTERNS:
        allowed = allowed_api_methods(pattern.callback)
        route = ROUTES.get(pattern.key)
        if allowed is None or route is None:
            continue
        undeclared = allowed - {call.method for call in route.calls}
        if undeclared:
            gaps.append(f"{pattern.key}: {sorted(undeclared)}")
    assert not gaps, "API methods answered but not in the matrix:\n  " + "\n  ".join(gaps)


def test_only_declared_public_routes_let_anonymous_visitors_in():
    refusals = {LOGIN, UNAUTHORIZED}
    open_doors = [
        f"{name} {call.method.upper()}"
        for name, route in ROUTES.items()
        if not route.public
        for call in route.calls
        if call.outcomes["anonymous"].label not in {r.label for r in refusals}
    ]
    assert not open_doors, f"reachable anonymously but not declared public=True: {open_doors}"


def test_static_files_are_public(client):
    response = client.get("/static/hygie/hygie.css")
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "index", "persona"), CASES)
def test_matrix(world, name, index, persona):
    route = ROUTES[name]
    call = route.calls[index]
    if call.setup is not None:
        call.setup(world)
    client = browser(None if persona == "anonymous" else getattr(world, persona), sudo=True)
    url = (call.url or route.url)(world)
    data = call.build_data(world)
    send = getattr(client, call.method)
    if call.method == "get":
        response = send(url, data or {})
    elif route.api:
        response = send(url, json_body(data or {}), content_type="application/json")
    else:
        response = send(url, data or {})
    call.outcomes[persona].verify(
        response, world, where=f"{name} {call.method.upper()} {url} as {persona}"
    )
