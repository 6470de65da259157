"""Permission-matrix routes of the awareness app: tracking (campaigns, progress, exports, xAPI)."""

from __future__ import annotations

from django.urls import reverse

from hygie.awareness.models import Campaign, CampaignKind, CampaignStatus, LearningRecordStore
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

LRS_SECRET = "secret-du-lrs-a"


def module_a(w):
    from tests.awareness.tracking_data import module

    if not hasattr(w, "module_a"):
        w.module_a = module("matrice-hameconnage", title="Repérer l'hameçonnage")
    return w.module_a


def campaign_a(w, status=CampaignStatus.DRAFT) -> Campaign:
    """A campaign of CHU A1 for everyone (created once per world, in the status asked)."""
    if not hasattr(w, "campaign_a"):
        from tests.awareness.tracking_data import campaign

        w.campaign_a = campaign(
            w.est_a1,
            module_a(w),
            name="CaRE A1",
            kind=CampaignKind.ANNUAL,
            due_date="2030-01-31",
        )
    if w.campaign_a.status != status:
        Campaign.objects.filter(pk=w.campaign_a.pk).update(status=status)
        w.campaign_a.refresh_from_db()
    return w.campaign_a


def _url(name, status=CampaignStatus.DRAFT):
    return lambda w: reverse(f"awareness:{name}", args=[campaign_a(w, status).pk])


def _form(w):
    return {
        "name": "Ciblée urgences",
        "kind": CampaignKind.TARGETED,
        "modules": [module_a(w).pk],
        "target_services": [w.service_a1.pk],
        "due_date": "2030-03-01",
        "due_days": 30,
        "reminder_days": "7, 1",
    }


def _assigned(w):
    from hygie.awareness.models import Assignment

    return Assignment.objects.filter(campaign=w.campaign_a, staff=w.staff_a1).exists()


def lrs_a(w) -> LearningRecordStore:
    if not hasattr(w, "lrs_a"):
        w.lrs_a = LearningRecordStore.objects.create(
            organisation=w.est_a1,
            endpoint="https://lrs.chu-a.example/xapi/",
            username="hygie",
            password=LRS_SECRET,
        )
    return w.lrs_a


def _staff_names(w):
    return [w.staff_a1.last_name]


ROUTES = [
    Route(
        "awareness:campaigns",
        url=lambda w: (campaign_a(w), reverse("awareness:campaigns", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["CaRE A1"])),
                editor=OK.but(shows(lambda w: ["CaRE A1", "Nouvelle campagne"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:campaign_create",
        url=lambda w: reverse("awareness:campaign_create", args=[w.est_a1.pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),  # fmt: skip
            Call(
                "post",
                data=_form,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Campaign.objects.filter(
                            name="Ciblée urgences", organisation=w.est_a1, status="draft"
                        ).exists(),
                        "created as a draft",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "awareness:campaign",
        url=_url("campaign"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["CaRE A1", "Personnes visées"])),
                editor=OK.but(shows(lambda w: ["Ouvrir et attribuer"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:campaign_edit",
        url=_url("campaign_edit"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),  # fmt: skip
            Call(
                "post",
                data=lambda w: {**_form(w), "name": "CaRE A1 renommée"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Campaign.objects.filter(name="CaRE A1 renommée").exists(), "saved"
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "awareness:campaign_open",
        url=_url("campaign_open"),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(then(_assigned, "opening assigns the module")),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:campaign_assign",
        url=_url("campaign_assign", CampaignStatus.OPEN),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(then(_assigned, "assigned")),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:campaign_close",
        url=_url("campaign_close", CampaignStatus.OPEN),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Campaign.objects.get(pk=w.campaign_a.pk).status == "closed",
                        "closed",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:progress",
        url=lambda w: reverse("awareness:progress", args=[w.est_a1.pk]),
        why="analysts see aggregate figures only: no name, no CSV link, small groups masked",
        calls=[
            Call(
                "get",
                setup=lambda w: campaign_a(w) and _open(w),
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Progression", "En retard"])),
                editor=OK.but(shows(lambda w: ["Export pour les dossiers"])),
                analyst=OK.but(
                    shows(lambda w: ["Vue agrégée"]),
                    hides(lambda w: [*_staff_names(w), "progression/export.csv"]),
                ),
            )
        ],
    ),
    Route(
        "awareness:progress_csv",
        url=lambda w: reverse("awareness:progress_csv", args=[w.est_a1.pk]),
        calls=[
            Call(
                "get",
                setup=lambda w: campaign_a(w) and _open(w),
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(_staff_names)),
                editor=OK.but(shows(_staff_names)),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "awareness:xapi_settings",
        url=lambda w: (lrs_a(w), reverse("awareness:xapi_settings", args=[w.est_a1.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(
                    shows(lambda w: ["https://lrs.chu-a.example/xapi/"]),
                    hides(lambda w: [LRS_SECRET]),
                ),
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data={
                    "endpoint": "https://lrs2.chu-a.example/xapi/",
                    "username": "k",
                    "password": "",
                },
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            LearningRecordStore.objects.get(pk=w.lrs_a.pk).password == LRS_SECRET
                        ),
                        "an empty secret keeps the stored one",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "awareness:statements_json",
        url=lambda w: reverse("awareness:statements_json", args=[w.est_a1.pk]),
        calls=[
            Call(
                "get",
                setup=lambda w: _statement(w),
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["http://adlnet.gov/expapi/verbs/passed"])),
                editor=OK.but(hides(lambda w: [w.staff_a1.email])),
                analyst=NOT_FOUND,
            )
        ],
    ),
]


def _open(w):
    from hygie.awareness import services

    if w.campaign_a.status == CampaignStatus.DRAFT:
        services.open_campaign(w.campaign_a)
    return True


def _statement(w):
    from hygie.awareness import services
    from hygie.awareness.models import Assignment

    campaign_a(w)
    _open(w)
    assignment = Assignment.objects.get(campaign=w.campaign_a, staff=w.staff_a1)
    assignment.best_score = 90
    services.record_statement(assignment, "passed")
