"""Permission-matrix routes of the dashboards app (see tests/permission_matrix.py)."""

from django.urls import reverse

from tests.permission_matrix import LOGIN, NOT_FOUND, OK, Call, Route, body_text


def names_no_establishment(response, world):
    """The dashboard's content (not the layout's tree switcher) names no establishment."""
    body = body_text(response)
    content = body[body.index("<main") : body.index("</main>")]
    for name in ("CHU A1", "CH A2", "Clinique hors GHT"):
        assert name not in content, f"the aggregate dashboard names {name!r}"


def dashboard(node_name):
    return lambda w: reverse("dashboards:dashboard", args=[getattr(w, node_name).pk])


ROUTES: list = [
    Route(
        "dashboards:dashboard",
        url=dashboard("ght_a"),
        why="GHT and establishment dashboards name establishments: 'view' needed; region and "
        "national are aggregate only.",
        calls=[
            Call(
                "get",
                note="GHT A's dashboard",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "get",
                url=dashboard("est_a1"),
                note="an establishment's dashboard",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "get",
                url=dashboard("region_a"),
                note="region A's aggregate dashboard",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=OK.but(names_no_establishment),
            ),
            Call(
                "get",
                url=dashboard("national"),
                note="the national dashboard (no persona holds 'aggregate' at France)",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
        ],
    ),
]
