"""Password policy and password ages of a domain, against ANSSI and the establishment's policy.

`analyse` returns plain JSON (stored as `ADAudit.stats["passwords"]`): the default domain policy
and each fine-grained policy (PSO) compared with ANSSI's figures (decision 0711) and with the
establishment's own `PasswordPolicyTarget` (blank fields are not compared), the distribution of
the password ages of enabled users, and the accounts whose password is very old, privileged ones
first. Labels are not stored: `LABELS` and `BUCKET_LABELS` name the keys for the pages.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hygie.posture.ad import rules
from hygie.posture.ad.snapshot import (
    DOMAIN_PASSWORD_COMPLEX,
    DOMAIN_PASSWORD_STORE_CLEARTEXT,
    PasswordSettings,
    Snapshot,
    key,
)

# ANSSI's figures (decision 0711). None: ANSSI gives no figure, only the establishment compares.
ANSSI = {
    "min_length": 12,
    "admin_min_length": 16,
    "complexity": True,
    "reversible": False,
    "max_age_days": "none",  # no forced periodic renewal of strong passwords
    "lockout_threshold": 10,  # at most this many failures before the account locks
}
ANSSI_SOURCES = (
    "ANSSI, Recommandations relatives à l'authentification multifacteur et aux mots de passe "
    "(ANSSI-PA-093, 2021) ; MonServiceSécurisé (ANSSI) : 12 caractères pour les utilisateurs, "
    "16 pour les administrateurs ; CNIL, délibération 2022-100 : verrouillage après 10 échecs"
)

LABELS = {
    "min_length": _("Longueur minimale"),
    "admin_min_length": _("Longueur minimale des comptes à privilèges"),
    "complexity": _("Complexité exigée"),
    "history": _("Historique des mots de passe"),
    "max_age_days": _("Durée de validité maximale (jours)"),
    "min_age_days": _("Durée de validité minimale (jours)"),
    "lockout_threshold": _("Seuil de verrouillage"),
    "lockout_duration_minutes": _("Durée de verrouillage (minutes)"),
    "lockout_window_minutes": _("Fenêtre d'observation (minutes)"),
    "reversible": _("Chiffrement réversible"),
}
BUCKETS = (
    ("lt_90d", 0, 90),
    ("90d_1y", 90, 365),
    ("1y_2y", 365, 2 * 365),
    ("2y_3y", 2 * 365, 3 * 365),
    ("gt_3y", 3 * 365, None),
)
BUCKET_LABELS = {
    "lt_90d": _("moins de 90 jours"),
    "90d_1y": _("90 jours à 1 an"),
    "1y_2y": _("1 à 2 ans"),
    "2y_3y": _("2 à 3 ans"),
    "gt_3y": _("plus de 3 ans"),
    "never": _("jamais défini"),
}
DEFAULT_VERY_OLD_DAYS = 3 * 365


def _days(value: dt.timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() // 86400)


def _minutes(value: dt.timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() // 60)


def _domain_policy(snapshot: Snapshot) -> dict:
    domain = snapshot.domain
    return {
        "min_length": domain.min_pwd_length,
        "complexity": bool(domain.pwd_properties & DOMAIN_PASSWORD_COMPLEX),
        "history": domain.pwd_history,
        "max_age_days": _days(domain.max_pwd_age),
        "min_age_days": _days(domain.min_pwd_age),
        "lockout_threshold": domain.lockout_threshold,
        "lockout_duration_minutes": _minutes(domain.lockout_duration),
        "lockout_window_minutes": _minutes(domain.lockout_window),
        "reversible": bool(domain.pwd_properties & DOMAIN_PASSWORD_STORE_CLEARTEXT),
    }


def _pso_policy(pso: PasswordSettings) -> dict:
    return {
        "min_length": pso.min_length,
        "complexity": pso.complexity,
        "history": pso.history,
        "max_age_days": _days(pso.max_age),
        "min_age_days": _days(pso.min_age),
        "lockout_threshold": pso.lockout_threshold,
        "lockout_duration_minutes": _minutes(pso.lockout_duration),
        "lockout_window_minutes": _minutes(pso.lockout_window),
        "reversible": pso.reversible,
    }


# Comparisons: (policy value, expected) -> bool --------------------------------------------------
def _anssi_ok(field: str, value) -> bool | None:
    if field in ("min_length", "admin_min_length"):
        return value >= ANSSI[field]
    if field == "complexity":
        return bool(value)
    if field == "reversible":
        return not value
    if field == "max_age_days":
        # Expiry is not required; a forced renewal of less than a year is what ANSSI advises
        # against for strong passwords.
        return value is None or value >= 365
    if field == "lockout_threshold":
        return 0 < value <= ANSSI["lockout_threshold"]
    return None


def _target_ok(field: str, value, wanted) -> bool | None:
    if wanted is None:
        return None
    if field in ("min_length", "admin_min_length", "history"):
        return value >= wanted
    if field == "complexity":
        return bool(value) or not wanted
    if field == "max_age_days":
        if wanted == 0:
            return value is None
        return value is not None and value <= wanted
    if field == "lockout_threshold":
        return 0 < value <= wanted
    if field == "lockout_duration_minutes":
        return value is None or value >= wanted  # None: locked until an administrator unlocks
    return None


def _anssi_display(field: str):
    wanted = ANSSI.get(field)
    if field == "max_age_days":
        return "none"
    if field == "lockout_threshold":
        return f"1–{wanted}"
    return wanted


def _checks(policy: dict, target, fields) -> list[dict]:
    rows = []
    for field in fields:
        value = policy[field]
        wanted = getattr(target, field, None) if target is not None else None
        rows.append(
            {
                "key": field,
                "domain": value,
                "anssi": _anssi_display(field) if field in ANSSI else None,
                "anssi_ok": _anssi_ok(field, value),
                "target": wanted,
                "target_ok": _target_ok(field, value, wanted),
            }
        )
    return rows


POLICY_FIELDS = (
    "min_length",
    "complexity",
    "history",
    "max_age_days",
    "min_age_days",
    "lockout_threshold",
    "lockout_duration_minutes",
    "lockout_window_minutes",
    "reversible",
)


def analyse(snapshot: Snapshot, *, now: dt.datetime, target=None) -> dict:
    """JSON-serialisable figures stored in ADAudit.stats["passwords"]."""
    membership = rules.Membership(snapshot)
    privileged_groups = set(rules.privileged_groups(membership))
    admin_keys, admin_group_keys = membership.members(*privileged_groups)
    admin_targets = admin_keys | admin_group_keys

    policy = _domain_policy(snapshot)
    checks = _checks(policy, target, POLICY_FIELDS)

    psos = []
    admin_length = policy["min_length"]
    admin_pso = ""
    for pso in sorted(snapshot.password_settings, key=lambda p: (p.precedence, p.name)):
        pso_policy = _pso_policy(pso)
        applies = {key(dn) for dn in pso.applies_to}
        covers_admins = bool(applies & admin_targets)
        if covers_admins and pso.min_length > admin_length:
            admin_length, admin_pso = pso.min_length, pso.name
        psos.append(
            {
                "name": pso.name,
                "precedence": pso.precedence,
                "applies_to": len(pso.applies_to),
                "covers_admins": covers_admins,
                "policy": pso_policy,
                "checks": _checks(pso_policy, target, POLICY_FIELDS),
            }
        )
    admin_check = {
        "key": "admin_min_length",
        "domain": admin_length,
        "anssi": ANSSI["admin_min_length"],
        "anssi_ok": _anssi_ok("admin_min_length", admin_length),
        "target": getattr(target, "admin_min_length", None) if target is not None else None,
        "pso": admin_pso,
    }
    admin_check["target_ok"] = _target_ok("admin_min_length", admin_length, admin_check["target"])
    checks.insert(1, admin_check)

    very_old_days = getattr(target, "very_old_days", None) or DEFAULT_VERY_OLD_DAYS
    very_old_limit = now - dt.timedelta(days=very_old_days)
    counts = dict.fromkeys([b[0] for b in BUCKETS] + ["never"], 0)
    limits = [(name, now - dt.timedelta(days=low)) for name, low, _high in BUCKETS]
    very_old = []
    enabled = 0
    for user in snapshot.users:
        if not user.enabled:
            continue
        enabled += 1
        when = user.pwd_last_set
        if when is None:
            counts["never"] += 1
            continue
        bucket = limits[0][0]
        for name, limit in limits:
            if when <= limit:
                bucket = name
        counts[bucket] += 1
        if when < very_old_limit:
            very_old.append((key(user.dn) in admin_keys, when, rules.name_of(user)))
    very_old.sort(key=lambda row: (not row[0], row[1], row[2]))
    anssi_ok = [c["anssi_ok"] for c in checks if c["anssi_ok"] is not None]
    target_ok = [c["target_ok"] for c in checks if c["target_ok"] is not None]
    return {
        "domain": snapshot.domain.dns_name,
        "computed_at": now.isoformat(),
        "anssi_sources": ANSSI_SOURCES,
        "policy": policy,
        "checks": checks,
        "psos": psos,
        "compliance": {
            "anssi": {"ok": sum(anssi_ok), "total": len(anssi_ok)},
            "target": {"ok": sum(target_ok), "total": len(target_ok)},
        },
        "ages": {
            "enabled_users": enabled,
            "buckets": [{"key": name, "count": counts[name]} for name in counts],
        },
        "very_old": {
            "threshold_days": very_old_days,
            "count": len(very_old),
            "admins": sum(1 for row in very_old if row[0]),
            "accounts": [
                {
                    "name": name,
                    "admin": is_admin,
                    "pwd_last_set": when.isoformat(),
                    "age_days": (now - when).days,
                }
                for is_admin, when, name in very_old[: rules.MAX_LISTED]
            ],
        },
    }


def fact_summary(analysis: dict) -> tuple[str, float | None]:
    """(summary, value) of the posture.password_policy evidence fact.

    The value is the share of compliant checks (ANSSI and the establishment's policy) in %.
    """
    if not analysis:
        return "", None
    anssi = analysis["compliance"]["anssi"]
    target = analysis["compliance"]["target"]
    total = anssi["total"] + target["total"]
    value = round(100 * (anssi["ok"] + target["ok"]) / total, 1) if total else None
    parts = [
        gettext(
            "Politique de mot de passe du domaine %(domain)s : %(ok)s/%(total)s points conformes aux recommandations de l'ANSSI"
        )
        % {"domain": analysis["domain"], "ok": anssi["ok"], "total": anssi["total"]}
    ]
    if target["total"]:
        parts.append(
            gettext("%(ok)s/%(total)s à la politique de l'établissement")
            % {"ok": target["ok"], "total": target["total"]}
        )
    very_old = analysis["very_old"]
    parts.append(
        gettext(
            "comptes actifs au mot de passe de plus de %(days)s jours : %(count)s, dont %(admins)s à privilèges"
        )
        % {
            "count": very_old["count"],
            "admins": very_old["admins"],
            "days": very_old["threshold_days"],
        }
    )
    return " ; ".join(parts) + ".", value
