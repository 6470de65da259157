"""Permission-matrix routes of self-assessment: campaigns, answers, evidence."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.assessments.models import Answer, Campaign, CampaignStatus, Evidence, Result
from tests.governance import campaign, mini_framework
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
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


def campaign_a(w) -> Campaign:
    """A campaign of CHU A1 (GHT A), made once per test."""
    if not hasattr(w, "campaign_a"):
        w.campaign_a = campaign(
            w.est_a1, name="Campagne CHU A1", results={"GOV.1": Result.COMPLIANT}
        )
    return w.campaign_a


def answer_a(w) -> Answer:
    return campaign_a(w).answers.get(node__ref_id="TECH.1")


def evidence_a(w) -> Evidence:
    if not hasattr(w, "evidence_a"):
        item = Evidence(
            answer=answer_a(w), original_name="pssi.pdf", content_type="application/pdf", size=9
        )
        item.file.save("pssi.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
        item.save()
        w.evidence_a = item
    return w.evidence_a


def _answer_url(name):
    return lambda w: reverse(name, args=[campaign_a(w).pk, answer_a(w).pk])


NO_PAGE_FOR_ANALYSTS = "analysts see aggregates only: answers are not theirs to open"

ROUTES = [
    Route(
        "assessments:campaigns",
        url=lambda w: (campaign_a(w), reverse("assessments:campaigns", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Campagne CHU A1"])),
                editor=OK.but(shows(lambda w: ["Campagne CHU A1"])),
                analyst=NOT_FOUND,
                note=NO_PAGE_FOR_ANALYSTS,
            )
        ],
    ),
    Route(
        "assessments:campaign_create",
        url=lambda w: (
            mini_framework(),
            reverse("assessments:campaign_create", args=[w.est_a2.pk]),
        )[1],
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
                data=lambda w: {
                    "framework": mini_framework().pk,
                    "name": "Campagne 2026 CH A2",
                    "starts_on": "2026-02-01",
                    "due_on": "2026-05-01",
                    "implementation_groups": "",
                    "reminder_days": "14, 3",
                },
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Campaign.objects.filter(
                            organisation=w.est_a2, name="Campagne 2026 CH A2"
                        ).exists(),
                        "the campaign is created",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "assessments:campaign",
        url=lambda w: reverse("assessments:campaign", args=[campaign_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["GOV.1"]), hides(lambda w: ["CH B1"])),
                editor=OK.but(shows(lambda w: ["GOV.1", "Politique de sécurité signée"])),
                analyst=NOT_FOUND,
                note=NO_PAGE_FOR_ANALYSTS,
            )
        ],
    ),
    Route(
        "assessments:campaign_close",
        url=lambda w: reverse("assessments:campaign_close", args=[campaign_a(w).pk]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            Campaign.objects.get(pk=w.campaign_a.pk).status == CampaignStatus.CLOSED
                        ),
                        "the campaign is closed",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "assessments:answer",
        url=_answer_url("assessments:answer"),
        calls=[
            Call(
                "get", anonymous=LOGIN, outsider=NOT_FOUND, reader=OK, editor=OK, analyst=NOT_FOUND
            ),
            Call(
                "post",
                data={
                    "status": "in_progress",
                    "result": "partially_compliant",
                    "maturity": "2",
                    "comment": "MFA sur le VPN seulement",
                },
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(lambda w: answer_a(w).result == Result.PARTIAL, "the answer is saved")
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "assessments:evidence_upload",
        url=_answer_url("assessments:evidence_upload"),
        calls=[
            Call(
                "post",
                data=lambda w: {"file": SimpleUploadedFile("charte.pdf", b"%PDF-1.4 charte")},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: answer_a(w).evidence.filter(original_name="charte.pdf").exists(),
                        "the file is kept",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "assessments:answer_review",
        url=_answer_url("assessments:answer_review"),
        calls=[
            Call(
                "post",
                data={"decision": "approve", "note": "vu"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(lambda w: answer_a(w).review == "approved", "the answer is approved")
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "assessments:evidence_download",
        url=lambda w: reverse("assessments:evidence_download", args=[evidence_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "assessments:evidence_delete",
        url=lambda w: reverse("assessments:evidence_delete", args=[evidence_a(w).pk]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: not Evidence.objects.filter(pk=w.evidence_a.pk).exists(),
                        "the file is gone",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
]


def answer_ids(w):
    return list(campaign_a(w).answers.values_list("pk", flat=True))


def _plant_b(w):
    campaign_a(w)
    w.campaign_b = campaign(w.est_b1, name="Campagne CH B1")


API_ROUTES = [
    Route(
        "api:framework-list",
        url=lambda w: (mini_framework(), reverse("api:framework-list"))[1],
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=OK,
                reader=OK,
                editor=OK.but(shows(lambda w: ["MINI"])),
                analyst=OK,
            )
        ],
    ),
    Route(
        "api:framework-detail",
        url=lambda w: reverse("api:framework-detail", args=[mini_framework().pk]),
        api=True,
        calls=[Call("get", anonymous=UNAUTHORIZED, outsider=OK, reader=OK, editor=OK, analyst=OK)],
    ),
    Route(
        "api:campaign-list",
        url=lambda w: reverse("api:campaign-list"),
        api=True,
        calls=[
            Call(
                "get",
                setup=_plant_b,
                anonymous=UNAUTHORIZED,
                outsider=OK.but(result_ids(lambda w: [w.campaign_b.pk])),
                reader=OK.but(result_ids(lambda w: [w.campaign_a.pk])),
                editor=OK.but(result_ids(lambda w: [w.campaign_a.pk])),
                analyst=OK.but(result_ids(lambda w: [])),
            )
        ],
    ),
    Route(
        "api:campaign-detail",
        url=lambda w: reverse("api:campaign-detail", args=[campaign_a(w).pk]),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "api:answer-list",
        url=lambda w: reverse("api:answer-list"),
        api=True,
        calls=[
            Call(
                "get",
                setup=_plant_b,
                anonymous=UNAUTHORIZED,
                outsider=OK.but(
                    result_ids(lambda w: w.campaign_b.answers.values_list("pk", flat=True))
                ),
                reader=OK.but(result_ids(answer_ids)),
                editor=OK.but(result_ids(answer_ids)),
                analyst=OK.but(result_ids(lambda w: [])),
            )
        ],
    ),
    Route(
        "api:answer-detail",
        url=lambda w: reverse("api:answer-detail", args=[answer_a(w).pk]),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=NOT_FOUND,
            )
        ],
    ),
]
ROUTES += API_ROUTES
