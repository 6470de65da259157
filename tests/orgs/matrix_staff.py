"""Permission matrix entries for the staff directory feeds: CSV import and LDAP directory."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from hygie.orgs.models import DirectorySource, StaffMember
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    REDIRECT,
    Call,
    Route,
    shows,
    then,
)

REFUSED = FORBIDDEN.but(shows(lambda w: ["rôle de gestion"]))


def est_a1(name):
    return lambda w: reverse(name, args=[w.est_a1.pk])


def csv_upload(w):
    return {
        "file": SimpleUploadedFile(
            "personnels.csv",
            "nom;prénom;e-mail;famille de métiers\nMatrice;Lou;lou.matrice@ch.example;soignant\n".encode(),
            content_type="text/csv",
        )
    }


def imported(w):
    return StaffMember.objects.filter(last_name="Matrice").exists()


def not_imported(w):
    return not imported(w)


def plant_source(w):
    # An unreachable server: a sync, if one ran, would fail fast without a directory.
    DirectorySource.objects.create(
        establishment=w.est_a1, server_url="ldap://127.0.0.1:1", base_dn="dc=ch,dc=example"
    )


SOURCE_FORM = {
    "server_url": "ldaps://annuaire.ch.example:636",
    "bind_dn": "cn=hygie,ou=services,dc=ch,dc=example",
    "new_bind_password": "matrix-secret",
    "base_dn": "ou=people,dc=ch,dc=example",
    "search_filter": "(objectClass=inetOrgPerson)",
    "map_external_id": "uid",
    "map_first_name": "givenName",
    "map_last_name": "sn",
}


def source_saved(w):
    return DirectorySource.objects.filter(establishment=w.est_a1).exists()


def no_source(w):
    return not source_saved(w)


def sync_queued(w):
    return DBTaskResult.objects.filter(task_path__endswith="sync_directory_source").exists()


def no_sync_queued(w):
    return not sync_queued(w)


STAFF_ROUTES = [
    Route(
        "orgs:staff_import",
        url=est_a1("orgs:staff_import"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=REFUSED,
                editor=OK.but(shows(lambda w: ["Importer des personnels"])),
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=csv_upload,
                anonymous=LOGIN,
                outsider=NOT_FOUND.but(then(not_imported, "an outsider imported staff")),
                reader=REFUSED.but(then(not_imported, "a reader imported staff")),
                editor=OK.but(then(imported, "the manager's import wrote nothing")),
                analyst=NOT_FOUND.but(then(not_imported, "an analyst imported staff")),
            ),
            Call(
                "get",
                url=lambda w: reverse("orgs:staff_import", args=[w.est_b1.pk]),
                note="the other way round: GHT B's establishment",
                anonymous=LOGIN,
                outsider=OK,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "orgs:directory_source",
        url=est_a1("orgs:directory_source"),
        calls=[
            Call(
                "get",
                setup=plant_source,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=REFUSED,
                editor=OK.but(shows(lambda w: ["ldap://127.0.0.1:1"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "orgs:directory_source_edit",
        url=est_a1("orgs:directory_source_edit"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=REFUSED,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=SOURCE_FORM,
                anonymous=LOGIN,
                outsider=NOT_FOUND.but(then(no_source, "an outsider configured a directory")),
                reader=REFUSED.but(then(no_source, "a reader configured a directory")),
                editor=REDIRECT.but(then(source_saved, "the directory was not saved")),
                analyst=NOT_FOUND.but(then(no_source, "an analyst configured a directory")),
            ),
        ],
    ),
    Route(
        "orgs:directory_sync",
        url=est_a1("orgs:directory_sync"),
        calls=[
            Call(
                "post",
                setup=plant_source,
                anonymous=LOGIN,
                outsider=NOT_FOUND.but(then(no_sync_queued, "an outsider launched a sync")),
                reader=REFUSED.but(then(no_sync_queued, "a reader launched a sync")),
                editor=REDIRECT.but(then(sync_queued, "no sync was queued")),
                analyst=NOT_FOUND.but(then(no_sync_queued, "an analyst launched a sync")),
            ),
            Call(
                "get",
                setup=plant_source,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=REFUSED,
                editor=NOT_ALLOWED,
                analyst=NOT_FOUND,
            ),
        ],
    ),
]
