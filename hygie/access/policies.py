"""Protected applications and their policies: versions (validated, numbered, activated only when
valid), rollback, test cases and the "what if" tool, the proxy secret, the Zero Trust evidence.

The views (policy_views.py) are thin; the rules live here so the API, the demo and the tests use
the same ones.
"""

from __future__ import annotations

import difflib
import secrets

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.access.models import Mode, PolicyTest, PolicyVersion, ProtectedApplication
from hygie.access.pdp import engine
from hygie.core.audit import record_event


def starter_policy() -> str:
    """The hospital starter policy a new application is offered (engine.DEFAULT_POLICY)."""
    return engine.DEFAULT_POLICY


def generate_secret() -> str:
    """A new proxy secret: 256 random bits, URL-safe (it travels in an HTTP header)."""
    return secrets.token_urlsafe(32)


# Versions -----------------------------------------------------------------------------------------
def save_version(
    application: ProtectedApplication, text: str, *, user, comment: str = ""
) -> PolicyVersion:
    """Validate `text`, store it as the next version and activate it.

    An invalid text raises `engine.PolicyError` (each problem with its line and column) and
    nothing is stored: the previous version stays active.
    """
    text = text.replace("\r\n", "\n")
    problems = engine.validate(text)
    if problems:
        raise engine.PolicyError(list(problems))
    with transaction.atomic():
        locked = ProtectedApplication.objects.select_for_update().get(pk=application.pk)
        last = locked.policy_versions.aggregate(n=Max("number"))["n"] or 0
        version = PolicyVersion.objects.create(
            application=locked,
            number=last + 1,
            text=text,
            comment=comment[:300],
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        locked.active_policy = version
        locked.save(update_fields=["active_policy", "updated_at"])
        application.active_policy = version
        record_event(
            "access.policy.activated",
            actor=user,
            target=application,
            organisation=application.organisation,
            details={"version": version.number, "comment": version.comment},
        )
    return version


def activate(application: ProtectedApplication, version: PolicyVersion, *, user) -> None:
    """Make an existing version active again (rollback); re-validated first, as the schema may
    have changed since it was written."""
    if version.application_id != application.pk:
        raise ValueError("version of another application")
    problems = engine.validate(version.text)
    if problems:
        raise engine.PolicyError(list(problems))
    previous = application.active_policy.number if application.active_policy else None
    application.active_policy = version
    application.save(update_fields=["active_policy", "updated_at"])
    record_event(
        "access.policy.rollback",
        actor=user,
        target=application,
        organisation=application.organisation,
        details={"version": version.number, "previous": previous},
    )


def diff(older: PolicyVersion | None, newer: PolicyVersion) -> list[tuple[str, str]]:
    """A unified diff of two versions as (kind, line) pairs: kind is add, del, hunk or same."""
    before = older.text.splitlines() if older else []
    lines = difflib.unified_diff(
        before,
        newer.text.splitlines(),
        fromfile=f"v{older.number}" if older else "—",
        tofile=f"v{newer.number}",
        lineterm="",
    )
    out = []
    for line in lines:
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out


def annotate(text: str, problems) -> list[dict]:
    """The policy text line by line, each with the problems found on it (for the error view)."""
    by_line: dict[int, list] = {}
    unplaced = []
    for problem in problems:
        if problem.line:
            by_line.setdefault(problem.line, []).append(problem)
        else:
            unplaced.append(problem)
    rows = [
        {"number": n, "text": line, "problems": by_line.get(n, [])}
        for n, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1)
    ]
    if unplaced:
        rows.append({"number": None, "text": "", "problems": unplaced})
    return rows


# Requests: the document stored in a test case and filled in the "what if" page ------------------
CONTEXT_DEFAULTS = {
    "mfa": False,
    "zone": "internet",
    "hour": 10,
    "weekday": 1,
    "device_managed": False,
    "device_compliant": False,
    "break_glass": False,
    "care_relationship": False,
}


def to_request(document: dict) -> engine.Request:
    """The engine's request from a request document:

    {"principal": {"id", "role", "job_family", "service", "admin", "units": [...]},
     "action": "read",
     "resource": {"type": "Record"|"Page", "id", "sensitivity", "patient", "unit", "vip"},
     "context": {mfa, zone, hour, weekday, device_managed, device_compliant, break_glass,
                 care_relationship}}
    """
    p = document.get("principal", {})
    units = [u for u in p.get("units", []) if u]
    principal = engine.Entity(
        "User",
        str(p.get("id", "")),
        {
            "role": str(p.get("role", "")),
            "job_family": str(p.get("job_family", "")),
            "service": str(p.get("service", "")),
            "admin": bool(p.get("admin", False)),
        },
        tuple(("Unit", u) for u in units),
    )
    r = document.get("resource", {})
    others = [engine.Entity("Unit", u) for u in units]
    sensitivity = int(r.get("sensitivity") or 0)
    if r.get("type", "Record") == "Record":
        patient_id = str(r.get("patient") or r.get("id", ""))
        unit = r.get("unit") or ""
        patient = engine.Entity(
            "Patient",
            patient_id,
            {"vip": bool(r.get("vip", False))},
            (("Unit", unit),) if unit else (),
        )
        others.append(patient)
        if unit and unit not in units:
            others.append(engine.Entity("Unit", unit))
        resource = engine.Entity(
            "Record",
            str(r.get("id") or patient_id),
            {"patient": patient, "sensitivity": sensitivity},
        )
    else:
        resource = engine.Entity("Page", str(r.get("id", "")), {"sensitivity": sensitivity})
    context = {**CONTEXT_DEFAULTS, **document.get("context", {})}
    return engine.Request(
        principal=principal,
        action=str(document.get("action", "read")),
        resource=resource,
        context=context,
        entities=tuple(others),
    )


def decide_document(text: str, document: dict) -> engine.Result:
    """Decide a request document with a policy text (raises PolicyError when the text is bad)."""
    return engine.Engine(text).decide(to_request(document))


def run_tests(
    application: ProtectedApplication, version: PolicyVersion | None = None, *, text=None
) -> list[tuple[PolicyTest, engine.Result]]:
    """Every test case of the application decided by `version` (default: the active one), or
    by a draft `text`. Raises PolicyError when the text is invalid."""
    if text is None:
        version = version or application.active_policy
        text = version.text if version else ""
    compiled = engine.Engine(text)
    return [
        (test, compiled.decide(to_request(test.request)))
        for test in application.policy_tests.order_by("name", "pk")
    ]


def passed(test: PolicyTest, result: engine.Result) -> bool:
    return result.allowed == (test.expected == "allow")


# Mode and evidence ----------------------------------------------------------------------------------
def set_mode(application: ProtectedApplication, mode: str, *, user, request=None) -> bool:
    """Switch shadow/enforce (journalled); returns whether it changed."""
    if mode not in Mode.values or mode == application.mode:
        return False
    previous = application.mode
    application.mode = mode
    application.save(update_fields=["mode", "updated_at"])
    record_event(
        "access.application.mode",
        request=request,
        actor=user,
        target=application,
        organisation=application.organisation,
        details={"from": previous, "to": mode},
    )
    record_zero_trust(application.organisation)
    return True


def record_zero_trust(organisation, today=None):
    """Evidence `access.zero_trust`: the share of the organisation's protected applications
    that are enforced (value, %), with the counts in the summary."""
    from hygie.assessments.services import record_fact

    apps = ProtectedApplication.objects.filter(organisation=organisation)
    total = apps.count()
    enforced = apps.filter(mode=Mode.ENFORCE).count()
    share = round(100 * enforced / total, 1) if total else 0.0
    return record_fact(
        organisation,
        "access.zero_trust",
        source_key="applications",
        occurred_on=today or timezone.localdate(),
        summary=_(
            "%(total)s applications protégées par le point de décision, dont %(enforced)s en "
            "application (%(share)s %%) et %(shadow)s en observation."
        )
        % {"total": total, "enforced": enforced, "share": share, "shadow": total - enforced},
        value=share,
        url=reverse("access:applications", args=[organisation.pk]),
        details={"total": total, "enforced": enforced},
    )
