"""Permission-matrix routes of the access app's review area.

CHU A1's review is GHT A's: its reader sees the pages (403 on import, run and decision), its
RSSI does everything; GHT B's RSSI and the regional analyst (aggregates only: the review is
nominative) get 404 on every page, and a case of CHU A1 answers 404 through GHT B's node too.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hygie.access.models import CaseStatus, ReviewCase, ReviewRun
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

PERSON = "Agnès Vigneron"


def review_case(w) -> ReviewCase:
    existing = ReviewCase.objects.filter(organisation=w.est_a1).first()
    if existing:
        return existing
    now = timezone.now()
    run = ReviewRun.objects.create(
        organisation=w.est_a1,
        period_start=now - dt.timedelta(days=7),
        period_end=now,
        events=1000,
        explained=990,
        flagged=1,
    )
    return ReviewCase.objects.create(
        run=run,
        organisation=w.est_a1,
        user_id="u00042",
        user_label=PERSON,
        service="Cardiologie",
        patient_id="P0000123",
        patterns=["vip"],
        score=80,
        first_at=now - dt.timedelta(days=2),
        last_at=now - dt.timedelta(days=2),
    )


def _org(name):
    return lambda w: reverse(name, args=[w.est_a1.pk])


def _decided(status):
    return lambda w: ReviewCase.objects.get(pk=review_case(w).pk).status == status


def _undecided(w):
    return ReviewCase.objects.get(pk=review_case(w).pk).status == CaseStatus.OPEN


def _upload(w):
    return {
        "kind": "stays",
        "file": SimpleUploadedFile("sejours.csv", b"patient_id,unit,start,end\n", "text/csv"),
    }


def _decision(w):
    return {"status": CaseStatus.LEGITIMATE, "note": "Prise en charge confirmée par le cadre"}


ROUTES = [
    Route(
        "access:review",
        url=_org("access:review"),
        calls=[
            Call(
                "get",
                setup=review_case,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(
                    shows(lambda w: ["Cardiologie"]), hides(lambda w: ["Lancer la revue"])
                ),
                editor=OK.but(shows(lambda w: ["Lancer la revue", "Importer", "<svg"])),
                analyst=NOT_FOUND,
            ),
            Call(
                "get",
                url=lambda w: reverse("access:review", args=[w.region_a.pk]),
                note="a region has no review",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "access:review_import",
        url=_org("access:review_import"),
        calls=[
            Call(
                "post",
                data=_upload,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT,
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "access:review_run",
        url=_org("access:review_run"),
        calls=[
            Call(
                "post",
                data={"start": "2024-01-08", "end": "2024-02-04"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT,
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "access:review_queue",
        url=_org("access:review_queue"),
        calls=[
            Call(
                "get",
                setup=review_case,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: [PERSON])),
                editor=OK.but(shows(lambda w: [PERSON, "Dossier VIP"])),
                analyst=NOT_FOUND,
            ),
            Call(
                "get",
                setup=review_case,
                url=lambda w: reverse("access:review_queue", args=[w.ght_b.pk]),
                note="GHT B's queue never lists GHT A's cases",
                anonymous=LOGIN,
                outsider=OK.but(hides(lambda w: [PERSON])),
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "access:review_case",
        url=lambda w: reverse("access:review_case", args=[review_case(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(
                    shows(lambda w: [PERSON, "P0000123"]), hides(lambda w: ["Enregistrer"])
                ),
                editor=OK.but(shows(lambda w: ["Enregistrer", "personnalité"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "access:review_case_decide",
        url=lambda w: reverse("access:review_case_decide", args=[review_case(w).pk]),
        calls=[
            Call(
                "post",
                data=_decision,
                anonymous=LOGIN.but(then(_undecided, "an anonymous visitor decided a case")),
                outsider=NOT_FOUND.but(then(_undecided, "GHT B's RSSI decided GHT A's case")),
                reader=FORBIDDEN.but(then(_undecided, "a reader decided a case")),
                editor=REDIRECT.but(
                    then(_decided(CaseStatus.LEGITIMATE), "the decision was not recorded")
                ),
                analyst=NOT_FOUND.but(then(_undecided, "the analyst decided a case")),
            )
        ],
    ),
]
