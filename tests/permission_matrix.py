"""The permission matrix registry: every URL pattern, how to call it, what each persona gets.

Each app contributes a module `tests/<app label>/matrix.py` defining `ROUTES`, a list of
`Route`; this module finds them by name (`collect_routes`) and adds the project-wide ones below.
`tests/test_permission_matrix.py` then

- walks `django.urls.get_resolver()` and fails, naming the pattern, when one has no `Route`;
- runs every `Call` of every `Route` as each persona of the `world` fixture, on a fresh
  database, and checks the declared `Outcome`.

A `Route` is keyed by the pattern's namespaced name (`orgs:staff`, `api:staff-detail`), or by
its route string when it has no name. Personas: `anonymous`, `outsider` (RSSI of GHT B, looking
at GHT A), `reader` and `editor` (reader and RSSI of GHT A), `analyst` (regional analyst of
GHT A's region, aggregate figures only). Logged-in personas have passed the second factor and
are in sudo mode, so the matrix tests the visibility rules, not the re-authentication prompt
(tests/accounts/test_sudo.py covers that).

Adding a view: add a `Route` to your app's `tests/<app>/matrix.py`, e.g.

    Route(
        "orgs:staff",
        url=lambda w: reverse("orgs:staff", args=[w.ght_a.pk]),
        calls=[Call("get", anonymous=LOGIN, outsider=NOT_FOUND, reader=OK, editor=OK,
                    analyst=NOT_FOUND)],
    )
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PERSONAS = ("anonymous", "outsider", "reader", "editor", "analyst")

World = Any  # the SimpleNamespace built by the `world` fixture
Check = Callable[[Any, World], None]  # (response, world) -> raises AssertionError


# Outcomes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    label: str
    statuses: tuple[int, ...]
    # For redirects: True = must go to the login page, False = must not.
    to_login: bool | None = None
    checks: tuple[Check, ...] = ()

    def but(self, *checks: Check) -> Outcome:
        """The same outcome with extra assertions on the response or the database."""
        return replace(self, checks=self.checks + checks)

    def verify(self, response, world: World, where: str) -> None:
        status = response.status_code
        location = response.headers.get("Location", "")
        assert status in self.statuses, f"{where}: expected {self.label}, got HTTP {status}" + (
            f" to {location}" if location else ""
        )
        if self.to_login is not None:
            login = reverse(settings.LOGIN_URL)
            assert (urlsplit(location).path == login) == self.to_login, (
                f"{where}: expected {self.label}, redirected to {location}"
            )
        for check in self.checks:
            check(response, world)


OK = Outcome("200 OK", (200,))
CREATED = Outcome("201 Created", (201,))
NO_CONTENT = Outcome("204 No Content", (204,))
REDIRECT = Outcome("a redirect (success)", (302,), to_login=False)
LOGIN = Outcome("a redirect to the login page", (302,), to_login=True)
UNAUTHORIZED = Outcome("401 Unauthorized", (401,))
FORBIDDEN = Outcome("403 Forbidden", (403,))
NOT_FOUND = Outcome("404 Not Found", (404,))
BAD_REQUEST = Outcome("400 Bad Request", (400,))
NOT_ALLOWED = Outcome("405 Method Not Allowed", (405,))


# Reusable checks --------------------------------------------------------------------------------
def result_ids(expected: Callable[[World], Iterable[int]]) -> Check:
    """An API list answers exactly these ids: nothing from another tenant leaks in."""

    def check(response, world):
        payload = response.json()
        rows = payload["results"] if isinstance(payload, dict) else payload
        got = {row["id"] for row in rows}
        want = set(expected(world))
        assert got == want, (
            f"API list returned ids {sorted(got)}, expected {sorted(want)}; "
            f"unexpected {sorted(got - want)}, missing {sorted(want - got)}"
        )

    return check


def body_text(response) -> str:
    """The response body as text; a streamed body (CSV export) is read once and kept."""
    if not hasattr(response, "_matrix_body"):
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        response._matrix_body = raw.decode("utf-8-sig")
    return response._matrix_body


def shows(texts: Callable[[World], Iterable[str]]) -> Check:
    def check(response, world):
        body = body_text(response)
        for text in texts(world):
            assert text in body, f"the page should show {text!r}"

    return check


def hides(texts: Callable[[World], Iterable[str]]) -> Check:
    """None of these strings (another tenant's names, say) appear in the response."""

    def check(response, world):
        body = body_text(response)
        for text in texts(world):
            assert text not in body, f"the response leaks {text!r}"

    return check


def then(assertion: Callable[[World], Any], message: str) -> Check:
    """A database state after the call (`assertion(world)` must be truthy)."""

    def check(response, world):
        assert assertion(world), message

    return check


# Registry entries -------------------------------------------------------------------------------
@dataclass
class Call:
    """One request to a route, with the outcome expected for each persona."""

    method: str = "get"
    data: dict | Callable[[World], dict] | None = None
    # Overrides the route's URL (e.g. to mix one tenant's node with another's object).
    url: Callable[[World], str] | None = None
    # Runs before the request (e.g. to plant an audit event that must stay hidden).
    setup: Callable[[World], Any] | None = None
    note: str = ""
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def __init__(self, method="get", *, data=None, url=None, setup=None, note="", **outcomes):
        self.method = method.lower()
        self.data = data
        self.url = url
        self.setup = setup
        self.note = note
        unknown = set(outcomes) - set(PERSONAS)
        missing = set(PERSONAS) - set(outcomes)
        if unknown or missing:
            raise ValueError(
                f"Call({method!r}): personas must be exactly {PERSONAS}; "
                f"unknown {sorted(unknown)}, missing {sorted(missing)}"
            )
        self.outcomes = outcomes

    def build_data(self, world):
        return self.data(world) if callable(self.data) else self.data


@dataclass
class Route:
    name: str
    url: Callable[[World], str] | None = None
    calls: list[Call] = field(default_factory=list)
    # JSON bodies for writes (API routes).
    api: bool = False
    # Reachable without logging in (login, language switch, SSO start...): declared on purpose.
    public: bool = False
    # The pattern only exists under some settings (e.g. OpenID Connect on): no failure if absent.
    optional: bool = False
    why: str = ""


# Discovery --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pattern:
    key: str  # namespaced name, or the route string for an unnamed pattern
    route: str
    callback: Any


def url_patterns(resolver=None, prefix: str = "", namespace: str = "") -> list[Pattern]:
    """Every URL pattern of the project, recursively, with its full route and namespaced name."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            found.extend(url_patterns(entry, route, inner))
        elif isinstance(entry, URLPattern):
            if entry.name:
                key = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                key = route
            found.append(Pattern(key, route, entry.callback))
    return found


def app_modules() -> list[str]:
    """`tests.<label>.matrix` for every Hygie app, in INSTALLED_APPS order."""
    return [
        f"tests.{config.label}.matrix"
        for config in apps.get_app_configs()
        if config.name.startswith("hygie.")
    ]


def collect_routes() -> dict[str, Route]:
    routes: dict[str, Route] = {}
    sources = [(__name__, PROJECT_ROUTES)]
    for module_name in app_modules():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        sources.append((module_name, module.ROUTES))
    for module_name, entries in sources:
        for route in entries:
            if route.name in routes:
                raise ValueError(f"{route.name} is declared twice (again in {module_name})")
            routes[route.name] = route
    return routes


def allowed_api_methods(callback) -> set[str] | None:
    """HTTP methods a DRF route answers (None for a plain Django view)."""
    implicit = {"options", "head"}  # answered by every DRF view, never with data
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.lower() for method in actions} - implicit
    cls = getattr(callback, "cls", None)
    if cls is None:
        return None
    return {method.lower() for method in cls().allowed_methods} - implicit


def json_body(data) -> str:
    return json.dumps(data)


# Project-wide routes (not owned by one app) -----------------------------------------------------
def _api(name: str, *args) -> Callable[[World], str]:
    return lambda w: reverse(f"api:{name}", args=[a(w) for a in args])


def _language_cookie(code: str) -> Check:
    def check(response, world):
        cookie = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
        assert cookie is not None and cookie.value == code, "the language choice is not kept"

    return check


_READ_FOR_ALL_LOGGED_IN = {
    "anonymous": UNAUTHORIZED,
    "outsider": OK,
    "reader": OK,
    "editor": OK,
    "analyst": OK,
}

PROJECT_ROUTES = [
    Route(
        "set_language",
        url=lambda w: reverse("set_language"),
        public=True,
        why="the language switch is offered on the login page",
        calls=[
            Call(
                "post",
                data={"language": "en", "next": "/"},
                anonymous=REDIRECT.but(_language_cookie("en")),
                outsider=REDIRECT,
                reader=REDIRECT,
                editor=REDIRECT,
                analyst=REDIRECT,
            )
        ],
    ),
    Route(
        "api:api-root",
        url=_api("api-root"),
        api=True,
        calls=[Call("get", **_READ_FOR_ALL_LOGGED_IN)],
    ),
    Route(
        "api:schema",
        url=_api("schema"),
        api=True,
        calls=[Call("get", **_READ_FOR_ALL_LOGGED_IN)],
    ),
    Route(
        "api:docs",
        url=_api("docs"),
        why="a page for people: anonymous visitors go to the login page",
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK,
                reader=OK,
                editor=OK,
                analyst=OK.but(shows(lambda w: ["swagger-ui-bundle.js"])),
            )
        ],
    ),
    Route(
        "api:me",
        url=_api("me"),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=OK.but(shows(lambda w: [w.outsider.username]), hides(lambda w: ["GHT A"])),
                reader=OK.but(shows(lambda w: [w.reader.username])),
                editor=OK.but(shows(lambda w: [w.editor.username])),
                analyst=OK.but(shows(lambda w: [w.analyst.username])),
            )
        ],
    ),
    # Single sign-on: always routed, 404 while HYGIE_OIDC_ENABLED is off (as in these tests).
    # tests/accounts/test_oidc.py runs them on, against a real provider.
    *[
        Route(
            name,
            url=lambda w, name=name: reverse(name),
            public=True,
            why="single sign-on: the identity provider authenticates",
            calls=[Call("get", **dict.fromkeys(PERSONAS, NOT_FOUND))],
        )
        for name in ("oidc_authentication_init", "oidc_authentication_callback")
    ],
]
