"""Permission-matrix routes of the access app's policy area.

An application of CHU A1 is seen by GHT A's reader (403 on every change) and managed by GHT A's
RSSI; GHT B's RSSI and the regional analyst get 404 on every page (the decision log and the
policies are nominative configuration, not aggregate figures).
"""

from __future__ import annotations

from django.urls import reverse

from hygie.access.models import ProtectedApplication
from tests.access import policy_fixtures as fx
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    REDIRECT,
    Call,
    Route,
    hides,
    shows,
    then,
)

NAME = "Dossier patient A1"


def _app(w):
    return fx.application(w)


def _read(**overrides):
    outcomes = {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": OK,
        "editor": OK,
        "analyst": NOT_FOUND,
    }
    outcomes.update(overrides)
    return outcomes


def _write(success=REDIRECT, **overrides):
    outcomes = {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": FORBIDDEN,
        "editor": success,
        "analyst": NOT_FOUND,
    }
    outcomes.update(overrides)
    return outcomes


def _app_url(name, *extra):
    return lambda w: reverse(f"access:{name}", args=[_app(w).pk, *extra])


def _org_url(name, *extra):
    return lambda w: reverse(f"access:{name}", args=[w.ght_a.pk, *extra])


_APPLICATION = {
    "name": "PACS",
    "slug": "pacs-matrix",
    "upstream": "http://10.1.2.9",
    "failure_mode": "closed",
    "identity_source": "headers",
    "user_header": "X-Remote-User",
    "mfa_header": "X-Auth-MFA",
    "default_sensitivity": 2,
    "log_retention_days": 365,
}
_TEST_CASE = {
    "name": "Cas matrice",
    "expected": "deny",
    "principal_id": "inf-durand",
    "action": "read",
    "resource_type": "Record",
    "resource_id": "P1",
    "sensitivity": "2",
    "zone": "care",
    "hour": "10",
    "weekday": "1",
}
_EMPTY_ROUTES = {
    "routes-TOTAL_FORMS": "0",
    "routes-INITIAL_FORMS": "0",
    "routes-MIN_NUM_FORMS": "0",
    "routes-MAX_NUM_FORMS": "200",
}
_ZONES = {
    "zones-TOTAL_FORMS": "1",
    "zones-INITIAL_FORMS": "0",
    "zones-MIN_NUM_FORMS": "0",
    "zones-MAX_NUM_FORMS": "200",
    "zones-0-cidr": "10.20.0.0/16",
    "zones-0-zone": "care",
    "zones-0-label": "",
}

ROUTES = [
    Route(
        "access:applications",
        url=_org_url("applications"),
        calls=[
            Call(
                "get",
                setup=_app,
                **_read(
                    reader=OK.but(shows(lambda w: [NAME])),
                    outsider=NOT_FOUND.but(hides(lambda w: [NAME])),
                ),
            )
        ],
    ),
    Route(
        "access:application_create",
        url=lambda w: reverse("access:application_create", args=[w.est_a1.pk]),
        calls=[
            Call("get", **_read(reader=FORBIDDEN)),
            Call(
                "post",
                data=_APPLICATION,
                **_write(
                    success=OK.but(
                        then(
                            lambda w: ProtectedApplication.objects.filter(
                                slug="pacs-matrix"
                            ).exists(),
                            "the application is created",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "access:zones",
        url=_org_url("zones"),
        calls=[Call("get", **_read()), Call("post", data=_ZONES, **_write())],
    ),
    Route(
        "access:decisions",
        url=_org_url("decisions"),
        calls=[Call("get", setup=fx.decision, **_read())],
    ),
    Route(
        "access:decisions_export",
        url=_org_url("decisions_export", "jsonl"),
        calls=[Call("get", setup=fx.decision, **_read())],
    ),
    Route(
        "access:application_detail",
        url=_app_url("application_detail"),
        calls=[Call("get", **_read())],
    ),
    Route(
        "access:application_edit",
        url=_app_url("application_edit"),
        calls=[
            Call("get", **_read(reader=FORBIDDEN)),
            Call("post", data={**_APPLICATION, "slug": "dpi-a1"}, **_write()),
        ],
    ),
    Route(
        "access:application_delete",
        url=_app_url("application_delete"),
        calls=[
            Call(
                "post",
                data={"confirm": "dpi-a1"},
                **_write(
                    success=REDIRECT.but(
                        then(
                            lambda w: (
                                not ProtectedApplication.objects.filter(slug="dpi-a1").exists()
                            ),
                            "the application is deleted",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "access:application_secret",
        url=_app_url("application_secret"),
        calls=[Call("post", **_write(success=OK))],
    ),
    Route(
        "access:application_mode",
        url=_app_url("application_mode"),
        calls=[Call("post", data={"mode": "enforce"}, **_write())],
    ),
    Route(
        "access:application_routes",
        url=_app_url("application_routes"),
        calls=[Call("get", **_read()), Call("post", data=_EMPTY_ROUTES, **_write())],
    ),
    Route(
        "access:policy",
        url=_app_url("policy"),
        calls=[
            Call("get", **_read()),
            Call("post", data={"text": "permit (principal, action, resource);"}, **_write()),
        ],
    ),
    Route("access:policy_history", url=_app_url("policy_history"), calls=[Call("get", **_read())]),
    Route(
        "access:policy_version", url=_app_url("policy_version", 1), calls=[Call("get", **_read())]
    ),
    Route(
        "access:policy_activate",
        url=_app_url("policy_activate", 1),
        calls=[Call("post", **_write())],
    ),
    Route(
        "access:policy_tests",
        url=_app_url("policy_tests"),
        calls=[
            Call("get", setup=fx.policy_test_case, **_read()),
            Call("post", data={"draft": "permit (principal, action, resource);"}, **_read()),
        ],
    ),
    Route(
        "access:policy_test_create",
        url=_app_url("policy_test_create"),
        calls=[Call("get", **_read(reader=FORBIDDEN)), Call("post", data=_TEST_CASE, **_write())],
    ),
    Route(
        "access:policy_test_edit",
        url=lambda w: reverse(
            "access:policy_test_edit", args=[_app(w).pk, fx.policy_test_case(w).pk]
        ),
        calls=[Call("get", **_read(reader=FORBIDDEN)), Call("post", data=_TEST_CASE, **_write())],
    ),
    Route(
        "access:policy_test_delete",
        url=lambda w: reverse(
            "access:policy_test_delete", args=[_app(w).pk, fx.policy_test_case(w).pk]
        ),
        calls=[Call("post", **_write())],
    ),
    Route(
        "access:what_if",
        url=_app_url("what_if"),
        calls=[Call("get", **_read()), Call("post", data=_TEST_CASE, **_read())],
    ),
    Route(
        "access:app_decisions",
        url=_app_url("app_decisions"),
        calls=[Call("get", setup=fx.decision, **_read())],
    ),
    Route(
        "access:app_decisions_export",
        url=_app_url("app_decisions_export", "syslog"),
        calls=[Call("get", setup=fx.decision, **_read())],
    ),
    Route("access:shadow_report", url=_app_url("shadow_report"), calls=[Call("get", **_read())]),
    Route(
        "access:decision",
        url=lambda w: reverse("access:decision", args=[fx.decision(w).pk]),
        calls=[Call("get", **_read())],
    ),
]
