"""Permission-matrix routes of the posture app's ad area.

An audit of CHU A1's domain is seen by GHT A's reader (403 on every change) and handled by GHT
A's RSSI; GHT B's RSSI and the regional analyst get 404 on every page (nominative data: account
names). Connection settings, imports and collections need MANAGE.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.posture.ad import audits
from hygie.posture.models import ADAudit, ADFinding, DirectoryConnection
from tests.permission_matrix import (
    BAD_REQUEST,
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
from tests.posture.snapshots import weak_domain

CONNECTION = "DC du CHU A1"
SECRET = "Lecture-2025!"


def _audit(w) -> ADAudit:
    existing = ADAudit.objects.filter(organisation=w.est_a1).first()
    if existing:
        return existing
    audit = audits.record_audit(w.est_a1, weak_domain(), user=w.editor)
    # The Kerberoastable admin's item was deleted from the plan since: the finding has none, so
    # "Créer l'action" has something to do.
    spn = audit.findings.get(rule_id="P-ADMIN-SPN")
    spn.action.delete()
    return audit


def _finding(w) -> ADFinding:
    return _audit(w).findings.get(rule_id="P-ADMIN-SPN")


def _connection(w) -> DirectoryConnection:
    return DirectoryConnection.objects.filter(
        organisation=w.est_a1
    ).first() or DirectoryConnection.objects.create(
        organisation=w.est_a1,
        name=CONNECTION,
        host="dc01.chu-a1.local",
        bind_user="audit-hygie@chu-a1.local",
        bind_password=SECRET,
    )


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


def _connection_data(w):
    return {
        "name": "DC secours",
        "host": "dc02.chu-a1.local",
        "security": "ldaps",
        "bind_user": "audit-hygie@chu-a1.local",
        "bind_password": "Autre-secret-1",
        "page_size": 500,
    }


ROUTES = [
    Route(
        "posture:ad_audits",
        url=lambda w: (_audit(w), _connection(w), reverse("posture:ad_audits", args=[w.est_a1.pk]))[
            2
        ],
        calls=[
            _page(
                reader=OK.but(shows(lambda w: ["chu-exemple.local", CONNECTION])),
                editor=OK.but(
                    shows(lambda w: ["Collecter maintenant", "Auditer"]), hides(lambda w: [SECRET])
                ),
            )
        ],
    ),
    Route(
        "posture:ad_upload",
        url=url("posture:ad_upload", lambda w: w.est_a1.pk),
        calls=[
            _change(
                lambda w: {"files": SimpleUploadedFile("export.exe", b"MZ\x90\x00")},
                editor=BAD_REQUEST,
                done=lambda w: not ADAudit.objects.exists(),
                message="a refused file records nothing",
            )
        ],
    ),
    Route(
        "posture:ad_audit",
        url=url("posture:ad_audit", lambda w: _audit(w).pk),
        calls=[_page(reader=OK.but(shows(lambda w: ["P-ADMIN-SPN", "adm-sql"])))],
    ),
    Route(
        "posture:ad_report",
        url=url("posture:ad_report", lambda w: _audit(w).pk),
        calls=[_page(reader=OK.but(shows(lambda w: ["Retirer le SPN du compte privilégié"])))],
    ),
    Route(
        "posture:ad_report_pdf",
        url=url("posture:ad_report_pdf", lambda w: _audit(w).pk),
        calls=[_page()],
    ),
    Route(
        "posture:ad_finding_action",
        url=url("posture:ad_finding_action", lambda w: _finding(w).pk),
        calls=[
            _change(
                done=lambda w: _finding(w).action_id is not None,
                message="the finding became an action",
            )
        ],
    ),
    Route(
        "posture:ad_connection_create",
        url=url("posture:ad_connection_create", lambda w: w.est_a1.pk),
        calls=[
            _page(reader=FORBIDDEN),
            _change(
                _connection_data,
                done=lambda w: DirectoryConnection.objects.filter(name="DC secours").exists(),
                message="the connection is saved",
            ),
        ],
    ),
    Route(
        "posture:ad_connection_edit",
        url=url("posture:ad_connection_edit", lambda w: _connection(w).pk),
        calls=[
            _page(reader=FORBIDDEN, editor=OK.but(hides(lambda w: [SECRET]))),
            _change(
                lambda w: {**_connection_data(w), "bind_password": ""},
                done=lambda w: DirectoryConnection.objects.get().bind_password == SECRET,
                message="the connection is changed, its password kept",
            ),
        ],
    ),
    Route(
        "posture:ad_connection_delete",
        url=url("posture:ad_connection_delete", lambda w: _connection(w).pk),
        calls=[
            _change(
                done=lambda w: not DirectoryConnection.objects.exists(),
                message="the connection is deleted",
            )
        ],
    ),
    Route(
        "posture:ad_connection_collect",
        url=url("posture:ad_connection_collect", lambda w: _connection(w).pk),
        calls=[_change()],
    ),
]
