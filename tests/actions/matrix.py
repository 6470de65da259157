"""Permission-matrix routes of the actions app (see tests/permission_matrix.py).

Readers of GHT A see the plan and its exports but change nothing (403); GHT B's RSSI and the
regional analyst (aggregate figures only) get 404 on every nominative page.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.actions import exchange
from hygie.actions.models import ActionItem, ActionMember
from hygie.assessments.models import Result
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

B_NAMES = lambda w: ["GHT B", "CH B1"]  # noqa: E731


def _item(w) -> ActionItem:
    item = ActionItem.objects.filter(organisation=w.est_a1).order_by("pk").first()
    return item or ActionItem.objects.create(
        organisation=w.est_a1, title="Action de CHU A1", priority="p2"
    )


def _share(w) -> ActionMember:
    pooled, _created = ActionItem.objects.get_or_create(
        organisation=w.ght_a, title="Action mutualisée du GHT A"
    )
    share, _created = ActionMember.objects.get_or_create(action=pooled, member=w.est_a1)
    return share


def _campaign(w):
    from tests.governance import campaign

    existing = w.__dict__.get("gap_campaign")
    if existing is None:
        existing = w.gap_campaign = campaign(w.est_a1, results={"GOV.1": Result.NON_COMPLIANT})
    return existing


def url(name, arg):
    return lambda w: reverse(name, args=[arg(w)])


def est_a1(w):
    return w.est_a1.pk


def ght_a(w):
    return w.ght_a.pk


def _upload(w):
    content = exchange.export_xlsx(w.est_a1, [])
    return {"file": SimpleUploadedFile("plan.xlsx", content)}


def _private(**overrides):
    """Nominative page: GHT A's readers see it, the outsider and the analyst do not."""
    outcomes = {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": OK,
        "editor": OK,
        "analyst": NOT_FOUND,
    }
    outcomes.update(overrides)
    return outcomes


def _write(editor=REDIRECT, **overrides):
    outcomes = {
        "anonymous": LOGIN,
        "outsider": NOT_FOUND,
        "reader": FORBIDDEN,
        "editor": editor,
        "analyst": NOT_FOUND,
    }
    outcomes.update(overrides)
    return outcomes


def title_of(w):
    return ActionItem.objects.get(pk=_item(w).pk).title


ROUTES = [
    Route(
        "actions:plan",
        url=url("actions:plan", est_a1),
        calls=[
            Call(
                "get",
                setup=_item,
                **_private(
                    reader=OK.but(shows(lambda w: ["Action de CHU A1"])),
                    editor=OK.but(shows(lambda w: ["Action de CHU A1"]), hides(B_NAMES)),
                ),
            )
        ],
    ),
    Route(
        "actions:generate",
        url=url("actions:generate", est_a1),
        calls=[
            Call(
                "post",
                data=lambda w: {"campaign": _campaign(w).pk},
                **_write(
                    editor=REDIRECT.but(
                        then(
                            lambda w: ActionItem.objects.filter(
                                organisation=w.est_a1, origin="gap"
                            ).exists(),
                            "the gap should have become an action",
                        )
                    )
                ),
            )
        ],
    ),
    Route(
        "actions:create",
        url=url("actions:create", est_a1),
        calls=[
            Call("get", **_write(editor=OK)),
            Call(
                "post",
                data={
                    "title": "Nouvelle action",
                    "priority": "p3",
                    "status": "to_do",
                    "progress": 0,
                },
                **_write(
                    editor=REDIRECT.but(
                        then(
                            lambda w: ActionItem.objects.filter(title="Nouvelle action").exists(),
                            "the action should be created",
                        )
                    ),
                    reader=FORBIDDEN.but(
                        then(
                            lambda w: (
                                not ActionItem.objects.filter(title="Nouvelle action").exists()
                            ),
                            "a reader created an action",
                        )
                    ),
                ),
            ),
        ],
    ),
    Route(
        "actions:edit",
        url=url("actions:edit", lambda w: _item(w).pk),
        calls=[
            Call("get", **_write(editor=OK)),
            Call(
                "post",
                data={"title": "Renommée", "priority": "p1", "status": "to_do", "progress": 0},
                **_write(
                    editor=REDIRECT.but(then(lambda w: title_of(w) == "Renommée", "not saved")),
                    reader=FORBIDDEN.but(
                        then(lambda w: title_of(w) == "Action de CHU A1", "a reader renamed it")
                    ),
                ),
            ),
        ],
    ),
    Route(
        "actions:pool",
        url=url("actions:pool", lambda w: _item(w).pk),
        calls=[
            Call("get", **_write(editor=OK)),
            Call(
                "post",
                data=lambda w: {"members": [w.est_a1.pk, w.est_a2.pk]},
                **_write(
                    editor=REDIRECT.but(
                        then(
                            lambda w: ActionMember.objects.filter(member=w.est_a2).exists(),
                            "the action should be pooled for CH A2",
                        )
                    )
                ),
            ),
        ],
    ),
    Route(
        "actions:share",
        url=url("actions:share", lambda w: _share(w).pk),
        calls=[
            Call("get", **_write(editor=OK)),
            Call(
                "post",
                data={"status": "in_progress", "progress": 60, "note": ""},
                **_write(
                    editor=REDIRECT.but(
                        then(lambda w: _share(w).progress == 60, "the share was not updated")
                    ),
                    reader=FORBIDDEN.but(
                        then(lambda w: _share(w).progress == 0, "a reader updated a share")
                    ),
                ),
            ),
        ],
    ),
    Route(
        "actions:timeline",
        url=url("actions:timeline", est_a1),
        calls=[Call("get", setup=_item, **_private())],
    ),
    Route(
        "actions:coherence",
        url=url("actions:coherence", ght_a),
        calls=[
            Call(
                "get",
                setup=_share,
                **_private(editor=OK.but(shows(lambda w: ["Action mutualisée du GHT A"]))),
            )
        ],
    ),
    Route(
        "actions:export_xlsx",
        url=url("actions:export_xlsx", est_a1),
        calls=[Call("get", setup=_item, **_private())],
    ),
    Route(
        "actions:export_pdf",
        url=url("actions:export_pdf", est_a1),
        calls=[Call("get", setup=_item, **_private())],
    ),
    Route(
        "actions:import",
        url=url("actions:import", est_a1),
        calls=[
            Call("get", **_write(editor=OK)),
            Call("post", data=_upload, **_write()),
        ],
    ),
]
