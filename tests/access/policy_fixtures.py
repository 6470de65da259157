"""Builders shared by the policy-area tests and permission matrix."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hygie.access import policies
from hygie.access.models import Decision, PolicyTest, ProtectedApplication, Route

NURSE_REQUEST = {
    "principal": {
        "id": "inf-durand",
        "role": "infirmier",
        "job_family": "soignant",
        "service": "Cardiologie",
        "admin": False,
        "units": ["CARDIO"],
    },
    "action": "read",
    "resource": {"type": "Record", "id": "P0001", "patient": "P0001", "unit": "CARDIO"},
    "context": {
        "mfa": True,
        "zone": "care",
        "care_relationship": True,
        "device_managed": True,
        "device_compliant": True,
    },
}


def application(w, *, slug="dpi-a1", org=None, mode="shadow") -> ProtectedApplication:
    existing = ProtectedApplication.objects.filter(slug=slug).first()
    if existing:
        return existing
    app = ProtectedApplication.objects.create(
        organisation=org or w.est_a1,
        name="Dossier patient A1",
        slug=slug,
        upstream="http://10.1.2.3:8080",
        proxy_secret="secret-initial-0123456789",
        mode=mode,
    )
    policies.save_version(app, policies.starter_policy(), user=w.editor, comment="départ")
    Route.objects.create(application=app, pattern="/dossiers/<patient>/", action="read")
    return app


def policy_test_case(w) -> PolicyTest:
    app = application(w)
    return PolicyTest.objects.filter(application=app).first() or PolicyTest.objects.create(
        application=app, name="Infirmière de l'unité", request=NURSE_REQUEST, expected="allow"
    )


def decision(w, *, allowed=False, enforced=False, principal="inf-durand", **extra) -> Decision:
    return Decision.objects.create(
        application=application(w),
        at=extra.pop("at", timezone.now() - dt.timedelta(minutes=5)),
        principal=principal,
        action=extra.pop("action", "read"),
        resource=extra.pop("resource", 'Record::"P0002"'),
        allowed=allowed,
        enforced=enforced,
        policies=extra.pop("policies", ["soins-relation"]),
        inputs=extra.pop("inputs", {"context": {"zone": "care", "mfa": True}}),
        policy_version=1,
        **extra,
    )
