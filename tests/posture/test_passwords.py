"""Password policy analysis: ANSSI's figures, the establishment's policy, password ages."""

from __future__ import annotations

import datetime as dt
import json

from hygie.posture.ad import passwords
from hygie.posture.ad import snapshot as ad
from hygie.posture.models import PasswordPolicyTarget
from tests.posture.ad_builders import NOW, Builder


def _checks(analysis):
    return {c["key"]: c for c in analysis["checks"]}


def test_a_policy_following_anssi_passes_every_anssi_check():
    b = Builder()
    b.snapshot.password_settings.append(
        ad.PasswordSettings(
            name="PSO-Admins",
            precedence=1,
            min_length=16,
            complexity=True,
            history=24,
            lockout_threshold=5,
            applies_to=(b.groups["Domain Admins"].dn,),
        )
    )
    analysis = passwords.analyse(b.snapshot, now=NOW)
    json.dumps(analysis)  # stored in a JSONField
    checks = _checks(analysis)
    assert {k: c["anssi_ok"] for k, c in checks.items() if c["anssi_ok"] is not None} == {
        "min_length": True,
        "admin_min_length": True,
        "complexity": True,
        "max_age_days": True,
        "lockout_threshold": True,
        "reversible": True,
    }
    assert checks["admin_min_length"]["pso"] == "PSO-Admins"
    assert analysis["compliance"]["anssi"] == {"ok": 6, "total": 6}
    assert analysis["compliance"]["target"] == {"ok": 0, "total": 0}
    assert analysis["psos"][0]["covers_admins"] is True


def test_a_weak_domain_policy_fails_the_anssi_checks():
    b = Builder()
    b.domain.min_pwd_length = 7
    b.domain.pwd_properties = ad.DOMAIN_PASSWORD_STORE_CLEARTEXT
    b.domain.max_pwd_age = dt.timedelta(days=42)
    b.domain.lockout_threshold = 0
    checks = _checks(passwords.analyse(b.snapshot, now=NOW))
    failing = {k for k, c in checks.items() if c["anssi_ok"] is False}
    assert failing == {
        "min_length",
        "admin_min_length",
        "complexity",
        "max_age_days",
        "lockout_threshold",
        "reversible",
    }
    assert checks["min_length"]["domain"] == 7
    assert checks["max_age_days"]["domain"] == 42


def test_the_establishment_policy_is_compared_on_its_filled_fields_only():
    b = Builder()  # min 12, history 24, no expiry, lockout 10 for 15 minutes
    target = PasswordPolicyTarget(
        min_length=14, history=12, max_age_days=0, lockout_threshold=5, very_old_days=365
    )
    analysis = passwords.analyse(b.snapshot, now=NOW, target=target)
    checks = _checks(analysis)
    compared = {k: c["target_ok"] for k, c in checks.items() if c["target_ok"] is not None}
    assert compared == {
        "min_length": False,
        "history": True,
        "max_age_days": True,
        "lockout_threshold": False,
    }
    assert checks["min_length"]["target"] == 14
    assert analysis["compliance"]["target"] == {"ok": 2, "total": 4}


def test_password_ages_are_distributed_over_enabled_users():
    b = Builder()  # Administrator and jmartin: 30 days; krbtgt, Guest disabled
    for sam, pwd in (("a", 100), ("b", 400), ("c", 800), ("d", 1200), ("e", 2000)):
        b.user(sam, pwd=pwd)
    b.user("jamais", pwd=None)
    b.user("eteint", pwd=3000, uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_ACCOUNTDISABLE)
    ages = passwords.analyse(b.snapshot, now=NOW)["ages"]
    assert ages["enabled_users"] == 8
    assert {x["key"]: x["count"] for x in ages["buckets"]} == {
        "lt_90d": 2,
        "90d_1y": 1,
        "1y_2y": 1,
        "2y_3y": 1,
        "gt_3y": 2,
        "never": 1,
    }


def test_very_old_passwords_list_admins_first_then_the_oldest():
    b = Builder()
    b.user("agent-ancien", pwd=3000)
    b.user("agent-moins-ancien", pwd=1500)
    b.admin("adm-ancien", pwd=1200)
    b.user("recent", pwd=100)
    very_old = passwords.analyse(b.snapshot, now=NOW)["very_old"]
    assert [a["name"] for a in very_old["accounts"]] == [
        "adm-ancien",
        "agent-ancien",
        "agent-moins-ancien",
    ]
    assert very_old["accounts"][0]["admin"] is True
    assert very_old["accounts"][1]["age_days"] == 3000
    assert (very_old["count"], very_old["admins"], very_old["threshold_days"]) == (3, 1, 1095)


def test_the_threshold_of_very_old_comes_from_the_establishment():
    b = Builder()
    b.user("agent", pwd=400)
    target = PasswordPolicyTarget(very_old_days=365)
    very_old = passwords.analyse(b.snapshot, now=NOW, target=target)["very_old"]
    assert [a["name"] for a in very_old["accounts"]] == ["agent"]


def test_fact_summary_gives_the_share_of_compliant_checks():
    b = Builder()
    b.domain.min_pwd_length = 8
    b.user("agent-ancien", pwd=3000)
    target = PasswordPolicyTarget(min_length=12, history=24)
    analysis = passwords.analyse(b.snapshot, now=NOW, target=target)
    summary, value = passwords.fact_summary(analysis)
    # ANSSI: 4/6 (lengths fail), establishment: 1/2 → 5/8
    assert value == 62.5
    assert "chu-exemple.local" in summary and "4/6" in summary and "1/2" in summary
    assert "comptes actifs au mot de passe de plus de 1095 jours : 1, dont 0" in summary
    assert passwords.fact_summary({}) == ("", None)
