"""Permission-matrix routes of the awareness app: the module catalogue (shared content)."""

from django.urls import reverse

from tests.permission_matrix import LOGIN, OK, Call, Route, shows

ROUTES = [
    Route(
        "awareness:catalogue",
        url=lambda w: reverse("awareness:catalogue") + "?public=admin_si",
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK,
                reader=OK,
                editor=OK.but(shows(lambda w: ["Administrateurs : comptes à privilèges"])),
                analyst=OK,
            )
        ],
        why="modules are content shared by every organisation, not tenant data",
    ),
    Route(
        "awareness:catalogue_module",
        url=lambda w: reverse("awareness:catalogue_module", args=["cle-usb-trouvee"]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK,
                reader=OK.but(shows(lambda w: ["La clé USB trouvée sur le parking"])),
                editor=OK,
                analyst=OK,
            )
        ],
    ),
]
