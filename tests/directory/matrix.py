"""Permission-matrix routes of the directory app (see tests/permission_matrix.py).

GHT A keeps an own entry ("Prestataire du GHT A"), GHT B another; both must stay inside their
GHT. The shared reference entry is readable by every signed-in persona, analysts included, and
changeable by none of them (platform administrators only, tests/directory/test_pages.py).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.directory.models import Actor
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    REDIRECT,
    UNAUTHORIZED,
    Call,
    Route,
    hides,
    result_ids,
    shows,
    then,
)

A_ENTRY = "Prestataire du GHT A"
B_ENTRY = "Prestataire du GHT B"
REF_ENTRY = "Référence de la matrice"

REFUSED = FORBIDDEN.but(shows(lambda w: ["Action réservée"]))


def entry_a(w) -> Actor:
    return Actor.objects.get_or_create(name=A_ENTRY, owner=w.ght_a, kind="expert")[0]


def entry_b(w) -> Actor:
    return Actor.objects.get_or_create(name=B_ENTRY, owner=w.ght_b, kind="expert")[0]


def reference(w) -> Actor:
    return Actor.objects.get_or_create(name=REF_ENTRY, owner=None, kind="guide")[0]


def plant(w):
    entry_a(w), entry_b(w), reference(w)


def url(name, entry=None):
    if entry is None:
        return lambda w: reverse(name)
    return lambda w: reverse(name, args=[entry(w).pk])


SEES_A = OK.but(shows(lambda w: [A_ENTRY, REF_ENTRY]), hides(lambda w: [B_ENTRY]))
SEES_B = OK.but(shows(lambda w: [B_ENTRY, REF_ENTRY]), hides(lambda w: [A_ENTRY]))
REFERENCE_ONLY = OK.but(shows(lambda w: [REF_ENTRY]), hides(lambda w: [A_ENTRY, B_ENTRY]))


def csv_upload(w):
    return {
        "target": str(w.ght_a.pk),
        "file": SimpleUploadedFile(
            "acteurs.csv",
            "nom;type;régions\nImporté par la matrice;Expert;32\n".encode(),
            content_type="text/csv",
        ),
    }


def imported(w):
    return Actor.objects.filter(name="Importé par la matrice", owner=w.ght_a).exists()


def not_imported(w):
    return not Actor.objects.filter(name="Importé par la matrice").exists()


def new_entry(w):
    return {"owner": str(w.ght_a.pk), "name": "Nouvel expert", "kind": "expert"}


def created(w):
    return Actor.objects.filter(name="Nouvel expert", owner=w.ght_a).exists()


def not_created(w):
    return not Actor.objects.filter(name="Nouvel expert").exists()


def renamed_entry(w):
    return {"owner": str(w.ght_a.pk), "name": "Prestataire renommé", "kind": "expert"}


def renamed(w):
    return Actor.objects.filter(name="Prestataire renommé").exists()


def not_renamed(w):
    return not renamed(w)


def verified(w):
    return entry_a(w).last_verified_on is not None


def not_verified(w):
    return Actor.objects.get(name=A_ENTRY).last_verified_on is None


def deleted(w):
    return not Actor.objects.filter(name=A_ENTRY).exists()


def kept(w):
    return Actor.objects.filter(name=A_ENTRY).exists()


ROUTES = [
    Route(
        "directory:list",
        url=url("directory:list"),
        calls=[
            Call(
                "get",
                setup=plant,
                anonymous=LOGIN,
                outsider=SEES_B,
                reader=SEES_A,
                editor=SEES_A,
                analyst=REFERENCE_ONLY,
            )
        ],
    ),
    Route(
        "directory:export",
        url=url("directory:export"),
        calls=[
            Call(
                "get",
                setup=plant,
                anonymous=LOGIN,
                outsider=SEES_B,
                reader=SEES_A,
                editor=SEES_A,
                analyst=REFERENCE_ONLY,
            )
        ],
    ),
    Route(
        "directory:import",
        url=url("directory:import"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK.but(hides(lambda w: ["GHT A"])),
                reader=REFUSED,
                editor=OK,
                analyst=REFUSED,
            ),
            Call(
                "post",
                data=csv_upload,
                note="into GHT A's own entries: only its manager may",
                anonymous=LOGIN.but(then(not_imported, "imported anonymously")),
                outsider=OK.but(then(not_imported, "GHT B imported into GHT A")),
                reader=REFUSED.but(then(not_imported, "a reader imported")),
                editor=OK.but(then(imported, "the RSSI's import was not written")),
                analyst=REFUSED.but(then(not_imported, "an analyst imported")),
            ),
        ],
    ),
    Route(
        "directory:create",
        url=url("directory:create"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK.but(hides(lambda w: ["GHT A"])),
                reader=REFUSED,
                editor=OK,
                analyst=REFUSED,
            ),
            Call(
                "post",
                data=new_entry,
                anonymous=LOGIN.but(then(not_created, "created anonymously")),
                outsider=OK.but(then(not_created, "GHT B created an entry for GHT A")),
                reader=REFUSED.but(then(not_created, "a reader created an entry")),
                editor=REDIRECT.but(then(created, "the RSSI's entry was not created")),
                analyst=REFUSED.but(then(not_created, "an analyst created an entry")),
            ),
        ],
    ),
    Route(
        "directory:detail",
        url=url("directory:detail", entry_a),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: [A_ENTRY])),
                editor=OK.but(shows(lambda w: [A_ENTRY, "Vérifié aujourd"])),
                analyst=NOT_FOUND,
            ),
            Call(
                "get",
                url=url("directory:detail", reference),
                note="the shared reference list is readable by every signed-in person",
                anonymous=LOGIN,
                outsider=OK.but(hides(lambda w: ["Vérifié aujourd"])),
                reader=OK,
                editor=OK.but(hides(lambda w: ["Vérifié aujourd"])),
                analyst=OK.but(shows(lambda w: [REF_ENTRY])),
            ),
        ],
    ),
    Route(
        "directory:edit",
        url=url("directory:edit", entry_a),
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
                data=renamed_entry,
                anonymous=LOGIN.but(then(not_renamed, "renamed anonymously")),
                outsider=NOT_FOUND.but(then(not_renamed, "GHT B renamed GHT A's entry")),
                reader=REFUSED.but(then(not_renamed, "a reader renamed an entry")),
                editor=REDIRECT.but(then(renamed, "the RSSI's change was not saved")),
                analyst=NOT_FOUND.but(then(not_renamed, "an analyst renamed an entry")),
            ),
            Call(
                "get",
                url=url("directory:edit", reference),
                note="reference entries: platform administrators only",
                anonymous=LOGIN,
                outsider=REFUSED.but(shows(lambda w: ["référentiel partagé"])),
                reader=REFUSED,
                editor=REFUSED.but(shows(lambda w: ["référentiel partagé"])),
                analyst=REFUSED,
            ),
        ],
    ),
    Route(
        "directory:verify",
        url=url("directory:verify", entry_a),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND.but(then(not_verified, "GHT B verified GHT A's entry")),
                reader=REFUSED.but(then(not_verified, "a reader verified an entry")),
                editor=REDIRECT.but(then(verified, "the verification was not recorded")),
                analyst=NOT_FOUND.but(then(not_verified, "an analyst verified an entry")),
            ),
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_ALLOWED,
                reader=NOT_ALLOWED,
                editor=NOT_ALLOWED,
                analyst=NOT_ALLOWED,
            ),
        ],
    ),
    Route(
        "directory:delete",
        url=url("directory:delete", entry_a),
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
                anonymous=LOGIN.but(then(kept, "deleted anonymously")),
                outsider=NOT_FOUND.but(then(kept, "GHT B deleted GHT A's entry")),
                reader=REFUSED.but(then(kept, "a reader deleted an entry")),
                editor=REDIRECT.but(then(deleted, "the RSSI could not delete")),
                analyst=NOT_FOUND.but(then(kept, "an analyst deleted an entry")),
            ),
        ],
    ),
]


def visible_ids(*entries):
    return lambda w: (
        [e(w).pk for e in entries]
        + list(Actor.objects.filter(seed_key__gt="").values_list("pk", flat=True))
    )


ROUTES += [
    Route(
        "api:actor-list",
        url=url("api:actor-list"),
        api=True,
        calls=[
            Call(
                "get",
                setup=plant,
                anonymous=UNAUTHORIZED,
                outsider=OK.but(result_ids(visible_ids(entry_b, reference))),
                reader=OK.but(result_ids(visible_ids(entry_a, reference))),
                editor=OK.but(result_ids(visible_ids(entry_a, reference))),
                analyst=OK.but(result_ids(visible_ids(reference))),
            )
        ],
    ),
    Route(
        "api:actor-detail",
        url=url("api:actor-detail", entry_a),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "get",
                url=url("api:actor-detail", reference),
                anonymous=UNAUTHORIZED,
                outsider=OK,
                reader=OK,
                editor=OK,
                analyst=OK,
            ),
        ],
    ),
]
