"""Permission-matrix routes of the posture app's exposure area.

CHU A1's remote-access points and exposure scans are seen by GHT A's reader (403 on every
change) and handled by GHT A's RSSI; GHT B's RSSI and the regional analyst get 404. The KEV
catalogue is read by every member and imported only by a platform administrator (403 here:
no persona of the matrix is one; tests/posture/test_kev.py covers the administrator).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.posture import exposure
from hygie.posture.models import AccessKind, ExposureScan, KevCatalogue, RemoteAccessPoint
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

FIXTURES = Path(__file__).parent / "fixtures"
POINT = "VPN des astreintes"


def _point(w) -> RemoteAccessPoint:
    return RemoteAccessPoint.objects.filter(name=POINT).first() or RemoteAccessPoint.objects.create(
        organisation=w.est_a1,
        name=POINT,
        kind=AccessKind.VPN_SSL,
        vendor="Fortinet",
        product="FortiGate 100F",
        last_patched_on=dt.date(2024, 1, 15),
    )


def _scan(w) -> ExposureScan:
    return ExposureScan.objects.filter(organisation=w.est_a1).first() or exposure.import_scan(
        w.est_a1, (FIXTURES / "nmap_chu_a1.xml").read_bytes(), filename="chu-a1.xml"
    )


def _rdp(w):
    return _scan(w).services.get(port=3389)


def url(name, *args):
    return lambda w: reverse(name, args=[arg(w) for arg in args])


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


def _change(data=None, *, done=None, message="", editor=REDIRECT):
    return Call(
        "post",
        data=data,
        anonymous=LOGIN,
        outsider=NOT_FOUND,
        reader=FORBIDDEN,
        editor=editor.but(then(done, message)) if done else editor,
        analyst=NOT_FOUND,
    )


def _point_form(name):
    return {
        "name": name,
        "kind": "vpn_ssl",
        "vendor": "Ivanti",
        "product": "Connect Secure",
        "mfa": "on",
        "last_patched_on": "2024-06-01",
    }


def _kev_upload(w):
    return {"file": SimpleUploadedFile("kev.json", (FIXTURES / "kev_2024-09-09.json").read_bytes())}


def _nmap_upload(w):
    return {"file": SimpleUploadedFile("scan.xml", (FIXTURES / "nmap_ch_a2.xml").read_bytes())}


ROUTES = [
    Route(
        "posture:remote_access",
        url=lambda w: (_point(w), reverse("posture:remote_access", args=[w.est_a1.pk]))[1],
        calls=[
            _page(editor=OK.but(shows(lambda w: [POINT])), reader=OK.but(shows(lambda w: [POINT])))
        ],
    ),
    Route(
        "posture:remote_access_create",
        url=url("posture:remote_access_create", lambda w: w.est_a1.pk),
        calls=[
            _page(reader=FORBIDDEN),
            _change(
                _point_form("Portail télétravail"),
                done=lambda w: RemoteAccessPoint.objects.filter(
                    name="Portail télétravail"
                ).exists(),
                message="the point is added",
            ),
        ],
    ),
    Route(
        "posture:remote_access_edit",
        url=url("posture:remote_access_edit", lambda w: _point(w).pk),
        calls=[
            _page(reader=FORBIDDEN),
            _change(
                _point_form("VPN renommé"),
                done=lambda w: RemoteAccessPoint.objects.filter(name="VPN renommé").exists(),
                message="the point is changed",
            ),
        ],
    ),
    Route(
        "posture:remote_access_delete",
        url=url("posture:remote_access_delete", lambda w: _point(w).pk),
        calls=[
            _page(reader=FORBIDDEN),
            _change(
                done=lambda w: not RemoteAccessPoint.objects.exists(),
                message="the point is deleted",
            ),
        ],
    ),
    Route(
        "posture:remote_access_action",
        url=url("posture:remote_access_action", lambda w: _point(w).pk),
        calls=[
            _change(
                done=lambda w: RemoteAccessPoint.objects.get().action_id is not None,
                message="the flagged point became an action",
            )
        ],
    ),
    Route(
        "posture:kev",
        url=lambda w: reverse("posture:kev"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK,
                reader=OK,
                editor=OK.but(shows(lambda w: ["known_exploited_vulnerabilities.json"])),
                analyst=OK,
            )
        ],
    ),
    Route(
        "posture:kev_import",
        url=lambda w: reverse("posture:kev_import"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=FORBIDDEN,
                reader=FORBIDDEN,
                editor=FORBIDDEN,
                analyst=FORBIDDEN,
            ),
            Call(
                "post",
                data=_kev_upload,
                anonymous=LOGIN,
                outsider=FORBIDDEN,
                reader=FORBIDDEN,
                editor=FORBIDDEN.but(
                    then(lambda w: not KevCatalogue.objects.exists(), "nothing is imported")
                ),
                analyst=FORBIDDEN,
            ),
        ],
    ),
    Route(
        "posture:exposure",
        url=lambda w: (_scan(w), reverse("posture:exposure", args=[w.est_a1.pk]))[1],
        calls=[_page(editor=OK.but(shows(lambda w: ["203.0.113.10", "à risque"])))],
    ),
    Route(
        "posture:exposure_upload",
        url=url("posture:exposure_upload", lambda w: w.est_a2.pk),
        calls=[
            _page(reader=FORBIDDEN),
            _change(
                _nmap_upload,
                done=lambda w: ExposureScan.objects.filter(organisation=w.est_a2).exists(),
                message="the scan is imported",
            ),
        ],
    ),
    Route(
        "posture:exposure_scan",
        url=url("posture:exposure_scan", lambda w: _scan(w).pk),
        calls=[_page(editor=OK.but(shows(lambda w: ["chu-a1.xml", "203.0.113.11"])))],
    ),
    Route(
        "posture:exposure_scan_delete",
        url=url("posture:exposure_scan_delete", lambda w: _scan(w).pk),
        calls=[
            _page(reader=FORBIDDEN),
            _change(
                done=lambda w: not ExposureScan.objects.exists(),
                message="the scan is deleted",
            ),
        ],
    ),
    Route(
        "posture:exposure_service_action",
        url=url("posture:exposure_service_action", lambda w: _rdp(w).pk),
        calls=[
            _change(
                done=lambda w: _rdp(w).action_id is not None,
                message="the risky service became an action",
            )
        ],
    ),
]
