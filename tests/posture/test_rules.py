"""Every rule of the AD audit fires on the objects planted for it, and only on them.

Each case plants its weakness in a clean snapshot (tests/posture/ad_builders.py, which raises
nothing) and expects exactly one finding, naming exactly the planted objects, sorted.
"""

from __future__ import annotations

import datetime as dt

import pytest

from hygie.posture import eol
from hygie.posture.ad import rules
from hygie.posture.ad import snapshot as ad
from tests.posture.ad_builders import BASE, NOW, SECURE_ADMIN, Builder, days_ago

N = ad.UAC_NORMAL_ACCOUNT


def _inactive_user(b):
    b.user("vieux.compte", logon=400)
    b.user("jamais.connecte", logon=None, created=365)
    b.user("nouveau", logon=None, created=20)  # too new to be stale
    b.user("desactive", logon=900, uac=N | ad.UAC_ACCOUNTDISABLE)
    return ["jamais.connecte", "vieux.compte"]


def _inactive_computer(b):
    b.computer("PC-OUBLIE", logon=300)
    b.computer("DC-ANCIEN", dc=True, logon=300)  # domain controllers are not judged here
    return ["PC-OUBLIE$"]


def _never_expires(b):
    b.user("svc-impression", uac=N | ad.UAC_DONT_EXPIRE_PASSWORD)
    return ["svc-impression"]


def _not_required(b):
    b.user("accueil", uac=N | ad.UAC_PASSWD_NOTREQD)
    b.computer("PC-PRESTAGE", uac=ad.UAC_WORKSTATION_TRUST_ACCOUNT | ad.UAC_PASSWD_NOTREQD)
    return ["PC-PRESTAGE$", "accueil"]


def _reversible(b):
    b.user("radius", uac=N | ad.UAC_ENCRYPTED_TEXT_PWD_ALLOWED)
    return ["radius"]


def _des(b):
    b.user("vieille-appli", uac=N | ad.UAC_USE_DES_KEY_ONLY)
    b.user("des-seul", encryption_types=0x3)
    b.user("aes", encryption_types=0x18)
    return ["des-seul", "vieille-appli"]


def _no_preauth(b):
    b.user("asrep", uac=N | ad.UAC_DONT_REQ_PREAUTH)
    return ["asrep"]


def _sid_history(b):
    b.user("migre", sid_history=("S-1-5-21-9-9-9-1234",))
    return ["migre"]


def _primary_group(b):
    b.user("cache", primary_group=1105)
    b.computer("PC-BIZARRE", primary_group_id=513)
    return ["PC-BIZARRE$", "cache"]


def _functional_level(b):
    b.domain.functional_level = 4
    return ["chu-exemple.local"]


def _too_many(b):
    names = [f"adm{i:02d}" for i in range(10)]
    for name in names:
        b.admin(name)
    return sorted(["Administrator", *names])


def _admin_inactive(b):
    b.admin("adm-dormant", logon=120)
    return ["adm-dormant"]


def _admin_pwd_old(b):
    b.admin("adm-ancien", pwd=4 * 365)
    b.user("utilisateur-ancien", pwd=4 * 365)  # not privileged
    return ["adm-ancien"]


def _admin_never_expires(b):
    b.admin("adm-sans-exp", uac=SECURE_ADMIN | ad.UAC_DONT_EXPIRE_PASSWORD)
    return ["adm-sans-exp"]


def _admin_spn(b):
    b.admin("svc-sql-adm", spns=("MSSQLSvc/sql01.chu-exemple.local:1433",))
    b.user("svc-sql", spns=("MSSQLSvc/sql02.chu-exemple.local:1433",))
    return ["svc-sql-adm"]


def _admin_no_preauth(b):
    b.admin("adm-asrep", uac=SECURE_ADMIN | ad.UAC_DONT_REQ_PREAUTH)
    return ["adm-asrep"]


def _unconstrained(b):
    b.computer("SRV-IIS", uac=ad.UAC_WORKSTATION_TRUST_ACCOUNT | ad.UAC_TRUSTED_FOR_DELEGATION)
    b.user("svc-web", uac=N | ad.UAC_TRUSTED_FOR_DELEGATION)
    return ["SRV-IIS$", "svc-web"]


def _delegable(b):
    b.admin("adm-delegable", uac=N, protected=False)
    b.admin("adm-sensible", uac=SECURE_ADMIN, protected=False)  # P-PROTECTED-USERS only
    return ["adm-delegable"]


def _protected_users(b):
    b.admin("adm-hors-pu", protected=False)
    return ["adm-hors-pu"]


def _krbtgt(b):
    b.user_named("krbtgt").pwd_last_set = days_ago(800)
    return ["krbtgt"]


def _schema_admins(b):
    b.user("adm-schema", groups=["Schema Admins"])
    b.add_members("Protected Users", b.user_named("adm-schema").dn)
    b.user_named("adm-schema").uac = SECURE_ADMIN
    return ["adm-schema"]


def _operators(b):
    b.admin("sauvegarde", groups=["Backup Operators"])
    b.admin("imprimeur", groups=["Print Operators"])
    return ["imprimeur", "sauvegarde"]


def _trust(b, **kw):
    kw.setdefault("direction", ad.TRUST_DIRECTION_INBOUND | ad.TRUST_DIRECTION_OUTBOUND)
    kw.setdefault("attributes", ad.TRUST_ATTRIBUTE_QUARANTINED_DOMAIN)
    kw.setdefault("changed", days_ago(5))
    trust = ad.Trust(**kw)
    b.snapshot.trusts.append(trust)
    return trust


def _sid_filtering(b):
    _trust(b, partner="clinique.local", attributes=0)
    _trust(
        b,
        partner="foret-sans-filtre.local",
        attributes=ad.TRUST_ATTRIBUTE_FOREST_TRANSITIVE | ad.TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL,
    )
    _trust(b, partner="foret-ok.local", attributes=ad.TRUST_ATTRIBUTE_FOREST_TRANSITIVE)
    _trust(b, partner="entrant-seul.local", attributes=0, direction=ad.TRUST_DIRECTION_INBOUND)
    _trust(b, partner="enfant.chu-exemple.local", attributes=ad.TRUST_ATTRIBUTE_WITHIN_FOREST)
    return ["clinique.local", "foret-sans-filtre.local"]


def _trust_inactive(b):
    _trust(b, partner="ancien-ght.local", changed=days_ago(200))
    return ["ancien-ght.local"]


def _downlevel(b):
    _trust(b, partner="NT4DOM", trust_type=ad.TRUST_TYPE_DOWNLEVEL)
    return ["NT4DOM"]


def _tgt_delegation(b):
    _trust(
        b,
        partner="partenaire.local",
        attributes=ad.TRUST_ATTRIBUTE_FOREST_TRANSITIVE
        | ad.TRUST_ATTRIBUTE_CROSS_ORGANIZATION_ENABLE_TGT_DELEGATION,
    )
    return ["partenaire.local"]


def _min_length(b):
    b.domain.min_pwd_length = 7
    return ["chu-exemple.local"]


def _no_lockout(b):
    b.domain.lockout_threshold = 0
    return ["chu-exemple.local"]


def _reversible_policy(b):
    b.domain.pwd_properties |= ad.DOMAIN_PASSWORD_STORE_CLEARTEXT
    b.snapshot.password_settings.append(ad.PasswordSettings(name="PSO-Wifi", reversible=True))
    b.snapshot.password_settings.append(ad.PasswordSettings(name="PSO-Admins", min_length=16))
    return ["PSO-Wifi", "chu-exemple.local"]


def _quota(b):
    b.domain.machine_account_quota = 10
    return ["chu-exemple.local"]


def _laps(b):
    b.computer("PC-SANS-LAPS", laps=False)
    b.computer(
        "PC-ETEINT", laps=False, uac=ad.UAC_WORKSTATION_TRUST_ACCOUNT | ad.UAC_ACCOUNTDISABLE
    )
    return ["PC-SANS-LAPS$"]


def _guest(b):
    b.user_named("Guest").uac = N
    b.user_named("Guest").primary_group_id = 514
    return ["Guest"]


def _pre_win2000(b):
    b.add_members(
        "Pre-Windows 2000 Compatible Access",
        f"CN=S-1-1-0,CN=ForeignSecurityPrincipals,{BASE}",
        f"CN=S-1-5-7,CN=ForeignSecurityPrincipals,{BASE}",
    )
    return ["Anonyme (S-1-5-7)", "Tout le monde (S-1-1-0)"]


CASES = {
    "S-INACTIVE-USER": _inactive_user,
    "S-INACTIVE-COMPUTER": _inactive_computer,
    "S-PWD-NEVER-EXPIRES": _never_expires,
    "S-PWD-NOT-REQUIRED": _not_required,
    "S-REVERSIBLE-PWD": _reversible,
    "S-DES-ONLY": _des,
    "S-NO-PREAUTH": _no_preauth,
    "S-SID-HISTORY": _sid_history,
    "S-PRIMARY-GROUP": _primary_group,
    "S-FUNCTIONAL-LEVEL": _functional_level,
    "P-ADMINS-TOO-MANY": _too_many,
    "P-ADMIN-INACTIVE": _admin_inactive,
    "P-ADMIN-PWD-OLD": _admin_pwd_old,
    "P-ADMIN-PWD-NEVER-EXPIRES": _admin_never_expires,
    "P-ADMIN-SPN": _admin_spn,
    "P-ADMIN-NO-PREAUTH": _admin_no_preauth,
    "P-UNCONSTRAINED-DELEGATION": _unconstrained,
    "P-KRBTGT-PWD-OLD": _krbtgt,
    "P-SCHEMA-ADMINS": _schema_admins,
    "T-SID-FILTERING": _sid_filtering,
    "T-INACTIVE": _trust_inactive,
    "T-DOWNLEVEL": _downlevel,
    "T-TGT-DELEGATION": _tgt_delegation,
    "A-MIN-PWD-LENGTH": _min_length,
    "A-NO-LOCKOUT": _no_lockout,
    "A-REVERSIBLE-POLICY": _reversible_policy,
    "A-MACHINE-ACCOUNT-QUOTA": _quota,
    "A-LAPS-MISSING": _laps,
    "A-GUEST-ENABLED": _guest,
    "A-PRE-WIN2000": _pre_win2000,
}
# Rules that necessarily come with another (expected alongside, objects asserted separately).
COMPANIONS = {
    "P-ADMIN-DELEGABLE": _delegable,
    "P-PROTECTED-USERS": _protected_users,
    "P-OPERATORS": _operators,
}


def _by_id(findings):
    return {f.rule.id: f for f in findings}


def test_the_clean_snapshot_raises_nothing():
    assert rules.evaluate(Builder().snapshot) == []


def test_every_rule_of_the_catalogue_has_a_case():
    assert {r.id for r in rules.catalogue()} - {"S-OBSOLETE-OS"} == set(CASES) | set(COMPANIONS)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_the_planted_objects_only(rule_id):
    b = Builder()
    expected = CASES[rule_id](b)
    found = _by_id(rules.evaluate(b.snapshot, now=NOW))
    assert set(found) == {rule_id}, f"{rule_id}: unexpected {sorted(set(found) - {rule_id})}"
    assert found[rule_id].objects == expected
    assert found[rule_id].count == len(expected)


def test_an_admin_outside_protected_users_and_delegable_raises_both_rules():
    b = Builder()
    _delegable(b)
    found = _by_id(rules.evaluate(b.snapshot))
    assert set(found) == {"P-ADMIN-DELEGABLE", "P-PROTECTED-USERS"}
    assert found["P-ADMIN-DELEGABLE"].objects == ["adm-delegable"]
    assert found["P-PROTECTED-USERS"].objects == ["adm-delegable", "adm-sensible"]


def test_an_admin_outside_protected_users_but_sensitive_raises_only_protected_users():
    b = Builder()
    expected = _protected_users(b)
    found = _by_id(rules.evaluate(b.snapshot))
    assert set(found) == {"P-PROTECTED-USERS"}
    assert found["P-PROTECTED-USERS"].objects == expected


def test_privileged_accounts_fall_under_the_privileged_rules_not_the_stale_ones():
    b = Builder()
    b.admin(
        "adm-sans-exp", uac=SECURE_ADMIN | ad.UAC_DONT_EXPIRE_PASSWORD | ad.UAC_DONT_REQ_PREAUTH
    )
    found = _by_id(rules.evaluate(b.snapshot))
    assert set(found) == {"P-ADMIN-PWD-NEVER-EXPIRES", "P-ADMIN-NO-PREAUTH"}
    assert found["P-ADMIN-PWD-NEVER-EXPIRES"].objects == ["adm-sans-exp"]


def test_operators_are_listed_per_group():
    b = Builder()
    expected = _operators(b)
    found = _by_id(rules.evaluate(b.snapshot))
    assert set(found) == {"P-OPERATORS"}
    assert found["P-OPERATORS"].objects == expected
    assert found["P-OPERATORS"].details["groups"] == {
        "Backup Operators": ["sauvegarde"],
        "Print Operators": ["imprimeur"],
    }


def test_details_give_the_oldest_date_and_threshold():
    b = Builder()
    b.admin("adm-ancien", pwd=4 * 365)
    b.admin("adm-tres-ancien", pwd=6 * 365)
    finding = _by_id(rules.evaluate(b.snapshot))["P-ADMIN-PWD-OLD"]
    assert finding.details == {
        "oldest_password": days_ago(6 * 365).isoformat(),
        "threshold_days": 3 * 365,
    }
    assert finding.objects == ["adm-ancien", "adm-tres-ancien"]


def test_now_defaults_to_the_collection_time_of_the_snapshot():
    b = Builder()
    b.user("vieux.compte", logon=400)
    b.snapshot.collected_at = NOW - dt.timedelta(days=300)  # then, it was seen 100 days ago
    assert rules.evaluate(b.snapshot) == []


# Obsolete operating systems ----------------------------------------------------------------------
XP = eol.ReleaseSpec(
    product="windows",
    cycle="xp",
    label="Windows XP",
    patterns=(r"windows xp",),
    released_on=dt.date(2001, 10, 25),
    support_ends_on=dt.date(2009, 4, 14),
    eol_on=dt.date(2014, 4, 8),
    extended_until=None,
)
W11 = eol.ReleaseSpec(
    product="windows",
    cycle="11-23h2",
    label="Windows 11 23H2",
    patterns=(r"windows 11",),
    released_on=dt.date(2023, 10, 31),
    support_ends_on=None,
    eol_on=dt.date(2026, 11, 10),
    extended_until=None,
)
_STAND_IN = eol.match("Windows XP Professional", "5.1 (2600)", [XP]) is None


@pytest.mark.skipif(_STAND_IN, reason="MERGE: needs assets (eol.match)")
def test_obsolete_os_fires_on_enabled_computers_past_their_end_of_security_fixes():
    b = Builder()
    b.computer("PC-RADIO-XP", os="Windows XP Professional", os_version="5.1 (2600)")
    b.computer(
        "PC-XP-ETEINT",
        os="Windows XP Professional",
        os_version="5.1 (2600)",
        uac=ad.UAC_WORKSTATION_TRUST_ACCOUNT | ad.UAC_ACCOUNTDISABLE,
    )
    found = _by_id(rules.evaluate(b.snapshot, releases=[XP, W11]))
    assert set(found) == {"S-OBSOLETE-OS"}
    assert found["S-OBSOLETE-OS"].objects == ["PC-RADIO-XP$"]
    assert found["S-OBSOLETE-OS"].details == {"by_release": {"Windows XP": 1}}


def test_obsolete_os_is_silent_without_an_end_of_life_dataset():
    b = Builder()
    b.computer("PC-RADIO-XP", os="Windows XP Professional", os_version="5.1 (2600)")
    assert rules.evaluate(b.snapshot, releases=[]) == []


def test_obsolete_os_uses_the_releases_given(monkeypatch):
    """Whatever eol.match answers is judged by its end of security fixes against `now`."""
    monkeypatch.setattr(eol, "match", lambda name, version, releases: XP if "XP" in name else W11)
    b = Builder()
    b.computer("PC-RADIO-XP", os="Windows XP Professional", os_version="5.1 (2600)")
    found = _by_id(rules.evaluate(b.snapshot, releases=[XP, W11]))
    assert found["S-OBSOLETE-OS"].objects == ["PC-RADIO-XP$"]
    assert set(found) == {"S-OBSOLETE-OS"}
