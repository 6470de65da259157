"""Permission-matrix routes of the posture app's asset area.

CHU A1's inventory is seen by GHT A's reader and RSSI (also on GHT A's page, which covers its
members); GHT B's RSSI and the regional analyst get 404. Imports need MANAGE on the
establishment (the reader gets 403). The end-of-life dataset is read by every member of an
organisation; only platform administrators update it (403 for all five personas).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.posture.models import Asset, AssetKind, AssetSource
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    REDIRECT,
    Call,
    Route,
    shows,
    then,
)

ASSET = "PC-MATRICE-01"


def _asset(w) -> Asset:
    asset, _created = Asset.objects.get_or_create(
        organisation=w.est_a1,
        name=ASSET,
        defaults={
            "kind": AssetKind.WORKSTATION,
            "source": AssetSource.CSV,
            "os_name": "Windows 7 Professionnel",
        },
    )
    return asset


def _url(name, org):
    def build(w):
        _asset(w)
        return reverse(name, args=[org(w).pk])

    return build


def _page(**overrides):
    outcomes = {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": OK,
        "editor": OK,
        "analyst": NOT_FOUND,
    }
    outcomes.update(overrides)
    return Call("get", **outcomes)


def _csv(w):
    return {"file": SimpleUploadedFile("parc.csv", b"Nom;Systeme\nPC-IMPORT-01;Windows 11 Pro\n")}


ROUTES = [
    Route(
        "posture:assets",
        url=_url("posture:assets", lambda w: w.est_a1),
        calls=[_page(editor=OK.but(shows(lambda w: [ASSET])))],
    ),
    Route(
        "posture:assets_export",
        url=_url("posture:assets_export", lambda w: w.ght_a),
        calls=[_page(reader=OK.but(shows(lambda w: [ASSET, "CHU A1"])))],
    ),
    Route(
        "posture:assets_import",
        url=_url("posture:assets_import", lambda w: w.est_a1),
        calls=[
            _page(reader=FORBIDDEN),
            Call(
                "post",
                data=_csv,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Asset.objects.filter(
                            organisation=w.est_a1, name="PC-IMPORT-01"
                        ).exists(),
                        "the inventory is imported",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "posture:eol",
        url=lambda w: reverse("posture:eol"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK,
                reader=OK,
                editor=OK.but(shows(lambda w: ["Windows Server 2012 R2"])),
                analyst=OK,
            )
        ],
    ),
    Route(
        "posture:eol_import",
        url=lambda w: reverse("posture:eol_import"),
        calls=[
            Call(
                "post",
                data=lambda w: {"file": SimpleUploadedFile("debian.json", b'[{"cycle": "14"}]')},
                anonymous=LOGIN,
                outsider=FORBIDDEN,
                reader=FORBIDDEN,
                editor=FORBIDDEN,
                analyst=FORBIDDEN,
            )
        ],
    ),
]
