"""Permission-matrix routes of the access app's enforce area.

The decision endpoints and the break-the-glass page are for the proxy: without its secret
every persona, logged in or not, gets 403 (404 for an unknown application). The review of
break-the-glass accesses follows the organisation's visibility: GHT A's reader sees it, only
its RSSI (or DPO) reviews, GHT B's RSSI and the analyst get 404.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from hygie.access.models import BreakGlass, ProtectedApplication
from tests.permission_matrix import FORBIDDEN, LOGIN, NOT_FOUND, OK, REDIRECT, Call, Route, then


def _app(w) -> ProtectedApplication:
    return ProtectedApplication.objects.filter(slug="dpi").first() or (
        ProtectedApplication.objects.create(
            organisation=w.est_a1,
            name="DPI",
            slug="dpi",
            upstream="http://127.0.0.1:9",
            proxy_secret="secret-du-mandataire",
        )
    )


def _glass(w) -> BreakGlass:
    now = timezone.now()
    return BreakGlass.objects.first() or BreakGlass.objects.create(
        application=_app(w),
        principal="inf.dupont",
        resource='Patient::"P200"',
        reason="Urgence vitale au déchocage",
        started_at=now,
        expires_at=now + dt.timedelta(hours=4),
    )


NO_SECRET = dict.fromkeys(("anonymous", "outsider", "reader", "editor", "analyst"), FORBIDDEN)
UNKNOWN = dict.fromkeys(("anonymous", "outsider", "reader", "editor", "analyst"), NOT_FOUND)

ROUTES = [
    Route(
        "access:authz_nginx",
        url=lambda w: (_app(w), reverse("access:authz_nginx", args=["dpi"]))[1],
        calls=[
            Call("get", note="no proxy secret", **NO_SECRET),
            Call("get", url=lambda w: reverse("access:authz_nginx", args=["inconnue"]), **UNKNOWN),
        ],
        public=True,
        why="called by nginx, authenticated by the application's proxy secret",
    ),
    Route(
        "access:authz_envoy",
        url=lambda w: (_app(w), "/acces/authz/envoy/dpi/dossiers/P1/")[1],
        calls=[Call("get", **NO_SECRET), Call("post", **NO_SECRET)],
        public=True,
        why="called by Envoy, authenticated by the application's proxy secret",
    ),
    Route(
        "access:break_glass",
        url=lambda w: (_app(w), reverse("access:break_glass", args=["dpi"]))[1],
        calls=[
            Call("get", **NO_SECRET),
            Call(
                "post",
                data={"patient": "P1", "reason": "x" * 30, "token": "t"},
                **{
                    p: FORBIDDEN.but(then(lambda w: not BreakGlass.objects.exists(), "no grant"))
                    for p in ("anonymous", "outsider", "reader", "editor", "analyst")
                },
            ),
        ],
        public=True,
        why="reached through the proxy, which authenticates the person",
    ),
    Route(
        "access:break_glass_list",
        url=lambda w: (_glass(w), reverse("access:break_glass_list", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get", anonymous=LOGIN, outsider=NOT_FOUND, reader=OK, editor=OK, analyst=NOT_FOUND
            ),
        ],
    ),
    Route(
        "access:break_glass_review",
        url=lambda w: reverse("access:break_glass_review", args=[_glass(w).pk]),
        calls=[
            Call(
                "post",
                data={"review": "justified", "note": "vu"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(lambda w: BreakGlass.objects.get().review == "justified", "reviewed")
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
]
