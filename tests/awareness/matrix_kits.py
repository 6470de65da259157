"""Permission-matrix routes of the awareness app: kits (national campaign relay)."""

from __future__ import annotations

from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hygie.awareness.models import Kit, KitDistribution, KitItem, KitItemKind
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

POSTER_BYTES = b"%PDF-1.4\n% affiche Tous cybervigilants\n"


def make_kit(organisation, *, name="Tous cybervigilants 2026", with_poster=True) -> Kit:
    kit = Kit.objects.create(
        organisation=organisation,
        name=name,
        publisher="Cybermalveillance.gouv.fr",
        year=2026,
        description="Le kit annuel de sensibilisation.",
    )
    KitItem.objects.create(
        kit=kit,
        kind=KitItemKind.MESSAGE,
        title="Message d'équipe",
        text="Avant de cliquer sur un lien, vérifiez l'expéditeur.",
        position=1,
    )
    if with_poster:
        stored = default_storage.save(f"kits/{organisation.pk}/matrix", ContentFile(POSTER_BYTES))
        KitItem.objects.create(
            kit=kit,
            kind=KitItemKind.POSTER,
            title="Affiche hameçonnage",
            file_name="affiche.pdf",
            stored_name=stored,
            content_type="application/pdf",
            size=len(POSTER_BYTES),
            position=2,
        )
    return kit


def kit_a(w) -> Kit:
    """A kit relayed by CHU A1 (GHT A), sent to its emergency service, made once per test."""
    if not hasattr(w, "kit_a"):
        w.kit_a = make_kit(w.est_a1)
        KitDistribution.objects.create(
            kit=w.kit_a,
            service=w.service_a1,
            contact_email="cadre.urgences@chu-a1.example",
            sent_at=timezone.now(),
            acknowledged_at=timezone.now(),
            acknowledged_by="Paule Ménard",
        )
    return w.kit_a


def poster_a(w) -> KitItem:
    return kit_a(w).items.get(kind=KitItemKind.POSTER)


def _kit_url(name, *extra):
    return lambda w: reverse(name, args=[kit_a(w).pk, *(e(w) for e in extra)])


def _attachment(response, world):
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")


NO_PAGE_FOR_ANALYSTS = "analysts see aggregates only: who relayed a kit is nominative"

ROUTES = [
    Route(
        "awareness:kit_list",
        url=lambda w: (kit_a(w), reverse("awareness:kit_list", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Tous cybervigilants 2026", "1 / 1"])),
                editor=OK.but(shows(lambda w: ["Tous cybervigilants 2026"])),
                analyst=NOT_FOUND,
                note=NO_PAGE_FOR_ANALYSTS,
            )
        ],
    ),
    Route(
        "awareness:kit_create",
        url=lambda w: reverse("awareness:kit_create", args=[w.est_a2.pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data={"name": "Cybermois 2026", "publisher": "ANS", "year": "2026"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Kit.objects.filter(
                            organisation=w.est_a2, name="Cybermois 2026"
                        ).exists(),
                        "the kit is created",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "awareness:kit_detail",
        url=_kit_url("awareness:kit_detail"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(
                    shows(lambda w: ["Affiche hameçonnage"]),
                    hides(lambda w: ["Ajouter un support"]),
                ),
                editor=OK.but(shows(lambda w: ["Affiche hameçonnage", "Ajouter un support"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:kit_edit",
        url=_kit_url("awareness:kit_edit"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data={"name": "Tous cybervigilants 2026 (v2)", "publisher": "ANS", "year": "2026"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Kit.objects.get(pk=w.kit_a.pk).name.endswith("(v2)"),
                        "the kit is renamed",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "awareness:kit_item_add",
        url=_kit_url("awareness:kit_item_add"),
        calls=[
            Call(
                "post",
                data=lambda w: {
                    "kind": "poster",
                    "title": "Affiche mots de passe",
                    "file": SimpleUploadedFile("mdp.png", b"\x89PNG\r\n\x1a\nimage"),
                },
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: w.kit_a.items.filter(file_name="mdp.png").exists(),
                        "the poster is kept",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:kit_item_download",
        url=_kit_url("awareness:kit_item_download", lambda w: poster_a(w).pk),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(_attachment),
                editor=OK.but(_attachment),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:kit_item_delete",
        url=_kit_url("awareness:kit_item_delete", lambda w: poster_a(w).pk),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: not w.kit_a.items.filter(kind=KitItemKind.POSTER).exists(),
                        "the poster is removed",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:kit_distribute",
        url=_kit_url("awareness:kit_distribute"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(shows(lambda w: ["cadre.urgences@chu-a1.example"])),
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=lambda w: {"contacts_csv": "Urgences A1;nouveau.cadre@chu-a1.example"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            KitDistribution.objects.filter(
                                kit=w.kit_a, contact_email="nouveau.cadre@chu-a1.example"
                            ).exists()
                            and not mail.outbox
                        ),  # already confirmed: the address changes, no resend
                        "the new address is kept",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "awareness:kit_status",
        url=_kit_url("awareness:kit_status"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Urgences A1", "Paule Ménard"])),
                editor=OK.but(shows(lambda w: ["Paule Ménard"])),
                analyst=NOT_FOUND,
                note=NO_PAGE_FOR_ANALYSTS,
            )
        ],
    ),
    Route(
        "awareness:kit_status_csv",
        url=_kit_url("awareness:kit_status_csv"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Urgences A1;cadre.urgences@chu-a1.example"])),
                editor=OK,
                analyst=NOT_FOUND,
                note=NO_PAGE_FOR_ANALYSTS,
            )
        ],
    ),
]
