"""Permission-matrix routes of the posture app's password area.

CHU A1's password figures are seen by GHT A (reader and RSSI); GHT B's RSSI and the regional
analyst (aggregate figures only) get 404. Only GHT A's RSSI edits the establishment's policy.
"""

from __future__ import annotations

from django.urls import reverse

from hygie.posture.models import ADAudit, PasswordPolicyTarget
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
from tests.posture.password_fixtures import audit_with_passwords


def _overview(w):
    if not ADAudit.objects.filter(organisation=w.est_a1).exists():
        audit_with_passwords(w.est_a1)
    return reverse("posture:passwords", args=[w.est_a1.pk])


ROUTES = [
    Route(
        "posture:passwords",
        url=_overview,
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["agent-ancien", "adm-ancien"])),
                editor=OK.but(shows(lambda w: ["chu-exemple.local"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "posture:password_policy",
        url=lambda w: reverse("posture:password_policy", args=[w.est_a1.pk]),
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
                data={"min_length": "14", "complexity": "true", "very_old_days": "1095"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            PasswordPolicyTarget.objects.get(organisation=w.est_a1).min_length == 14
                        ),
                        "the establishment's policy is saved",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
]
