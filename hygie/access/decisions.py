"""The decision log as people read it: filters, exports for a SIEM (JSON lines, RFC 5424 syslog)
and the shadow-mode report (what enforcement would have denied, per route and policy)."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections import Counter
from collections.abc import Iterator

from django.db.models import QuerySet

# RFC 5424: facility authpriv (10); severity warning (4) for a denial, informational (6) else.
FACILITY = 10
# The structured-data id carries an enterprise number; 32473 is the one RFC 5612 reserves for
# documentation, replaced by the operator's own in the SIEM mapping if they have one.
SD_ID = "hygieDecision@32473"
EXPORT_CHUNK = 2000


def filter_decisions(queryset: QuerySet, params: dict) -> QuerySet:
    """Apply the viewer's filters (already cleaned by DecisionFilterForm)."""
    outcome = params.get("outcome")
    if outcome == "allowed":
        queryset = queryset.filter(allowed=True)
    elif outcome == "denied":
        queryset = queryset.filter(allowed=False, enforced=True)
    elif outcome == "shadow":
        queryset = queryset.filter(allowed=False, enforced=False)
    elif outcome == "all_denied":
        queryset = queryset.filter(allowed=False)
    if params.get("break_glass"):
        queryset = queryset.filter(break_glass=True)
    if params.get("application"):
        queryset = queryset.filter(application=params["application"])
    if params.get("principal"):
        queryset = queryset.filter(principal__icontains=params["principal"])
    if params.get("resource"):
        queryset = queryset.filter(resource__icontains=params["resource"])
    if params.get("start"):
        queryset = queryset.filter(at__gte=params["start"])
    if params.get("end"):
        queryset = queryset.filter(at__lt=params["end"])
    return queryset


def as_dict(decision) -> dict:
    return {
        "id": decision.id,
        "at": decision.at.isoformat(),
        "application": decision.application.slug,
        "request_id": decision.request_id,
        "principal": decision.principal,
        "action": decision.action,
        "resource": decision.resource,
        "allowed": decision.allowed,
        "enforced": decision.enforced,
        "break_glass": decision.break_glass,
        "policies": list(decision.policies),
        "policy_version": decision.policy_version,
        "errors": list(decision.errors),
        "inputs": decision.inputs,
        "micros": decision.micros,
    }


def _rows(queryset: QuerySet):
    return queryset.select_related("application").iterator(chunk_size=EXPORT_CHUNK)


def export_jsonl(queryset: QuerySet) -> Iterator[str]:
    """One JSON object per line (UTF-8, `\\n`-terminated), oldest decisions last as listed."""
    for decision in _rows(queryset):
        yield json.dumps(as_dict(decision), ensure_ascii=False, separators=(",", ":")) + "\n"


def _sd_value(value) -> str:
    # RFC 5424 §6.3.3: '"', '\' and ']' are escaped inside PARAM-VALUE.
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _syslog_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def export_syslog(queryset: QuerySet, *, hostname: str | None = None) -> Iterator[str]:
    """RFC 5424 lines (`<PRI>1 TIMESTAMP HOST hygie - access-decision [SD] MSG`)."""
    host = (hostname or socket.gethostname() or "-").split(".")[0][:255] or "-"
    for decision in _rows(queryset):
        severity = 6 if decision.allowed else 4
        params = {
            "id": decision.id,
            "app": decision.application.slug,
            "principal": decision.principal,
            "action": decision.action,
            "resource": decision.resource,
            "allowed": "true" if decision.allowed else "false",
            "enforced": "true" if decision.enforced else "false",
            "breakGlass": "true" if decision.break_glass else "false",
            "policies": ",".join(decision.policies),
            "version": decision.policy_version if decision.policy_version is not None else "",
        }
        sd = " ".join(f'{key}="{_sd_value(str(value))}"' for key, value in params.items())
        verdict = "allow" if decision.allowed else "deny"
        if not decision.allowed and not decision.enforced:
            verdict = "deny (shadow, not enforced)"
        message = f"{verdict} {decision.principal} {decision.action} {decision.resource}"
        yield (
            f"<{FACILITY * 8 + severity}>1 {_syslog_time(decision.at)} {host} hygie - "
            f"access-decision [{SD_ID} {sd}] {message}\n"
        )


def shadow_report(queryset: QuerySet, routes=()) -> dict:
    """What would have been denied in shadow mode, per action/resource type and per policy.

    `routes` (the application's Route rows) name each action with the path patterns using it,
    so the RSSI reads "GET /dossiers/<patient>/" rather than "read".
    """
    shadow = queryset.filter(allowed=False, enforced=False)
    total = queryset.count()
    denied = shadow.count()
    per_action = Counter()
    per_policy = Counter()
    principals = Counter()
    for action, policies, principal in shadow.values_list("action", "policies", "principal"):
        per_action[action] += 1
        for policy in policies or ["(aucune règle ne permet)"]:
            per_policy[policy] += 1
        principals[principal] += 1
    patterns: dict[str, list[str]] = {}
    for route in routes:
        patterns.setdefault(route.action, []).append(f"{route.methods} {route.pattern}")
    return {
        "total": total,
        "denied": denied,
        "share": round(100 * denied / total, 1) if total else 0.0,
        "per_action": [
            {"action": a, "count": n, "routes": patterns.get(a, [])}
            for a, n in per_action.most_common()
        ],
        "per_policy": per_policy.most_common(),
        "principals": len(principals),
        "top_principals": principals.most_common(10),
    }
