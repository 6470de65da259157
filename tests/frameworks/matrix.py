"""Permission-matrix routes of the framework library (shared reference data)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.governance import MINI, mini_framework
from tests.permission_matrix import FORBIDDEN, LOGIN, OK, Call, Route, shows

ALL_SIGNED_IN = {"outsider": OK, "reader": OK, "editor": OK, "analyst": OK}

ROUTES = [
    Route(
        "frameworks:list",
        url=lambda w: reverse("frameworks:list"),
        calls=[Call("get", anonymous=LOGIN, **ALL_SIGNED_IN)],
        why="frameworks are reference data shared by every organisation",
    ),
    Route(
        "frameworks:detail",
        url=lambda w: reverse("frameworks:detail", args=[mini_framework().pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK,
                reader=OK,
                editor=OK.but(shows(lambda w: ["GOV.1", "Politique de sécurité signée"])),
                analyst=OK,
            )
        ],
    ),
    Route(
        "frameworks:import",
        url=lambda w: reverse("frameworks:import"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=FORBIDDEN,
                reader=FORBIDDEN,
                editor=FORBIDDEN,
                analyst=FORBIDDEN,
                note="only platform administrators load frameworks",
            ),
            Call(
                "post",
                data=lambda w: {"file": SimpleUploadedFile("mini.yaml", MINI.read_bytes())},
                anonymous=LOGIN,
                outsider=FORBIDDEN,
                reader=FORBIDDEN,
                editor=FORBIDDEN,
                analyst=FORBIDDEN,
            ),
        ],
    ),
]
