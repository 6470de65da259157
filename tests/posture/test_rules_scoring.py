"""Privileged membership through nested groups and primaryGroupID, scores, maturity, speed."""

from __future__ import annotations

from hygie.posture.ad import rules
from hygie.posture.ad import snapshot as ad
from tests.posture.ad_builders import NOW, Builder, days_ago


def _admin_names(b):
    found = {f.rule.id: f for f in rules.evaluate(b.snapshot, now=NOW)}
    return found.get("P-ADMIN-PWD-OLD").objects if "P-ADMIN-PWD-OLD" in found else []


def test_members_of_nested_groups_are_privileged():
    b = Builder()
    b.user("helpdesk-n2", pwd=2000)
    b.user("hors-groupe", pwd=2000)
    b.group("Support N2", members=[b.user_named("helpdesk-n2").dn])
    b.group("Admins postes", members=[b.groups["Support N2"].dn])
    b.add_members("Domain Admins", b.groups["Admins postes"].dn)
    assert _admin_names(b) == ["helpdesk-n2"]


def test_cyclic_groups_are_resolved_once():
    b = Builder()
    b.user("boucle", pwd=2000)
    b.group("Cycle A", members=[b.user_named("boucle").dn])
    b.group("Cycle B", members=[b.groups["Cycle A"].dn])
    b.add_members("Cycle A", b.groups["Cycle B"].dn)
    b.add_members("Administrators", b.groups["Cycle B"].dn)
    assert _admin_names(b) == ["boucle"]


def test_membership_given_by_member_of_only_counts_too():
    b = Builder()
    b.user("via-memberof", pwd=2000, member_of=(b.groups["Backup Operators"].dn,))
    assert _admin_names(b) == ["via-memberof"]


def test_primary_group_of_an_admin_group_makes_an_account_privileged():
    b = Builder()
    b.user("cache-da", pwd=2000, primary_group=512)
    nested = b.group("Admins cachés", rid=1500)
    b.add_members("Domain Admins", nested.dn)
    b.user("cache-imbrique", pwd=2000, primary_group=1500)
    b.user("simple", pwd=2000, primary_group=513)
    assert _admin_names(b) == ["cache-da", "cache-imbrique"]


def test_groups_found_by_name_when_the_export_has_no_sids():
    b = Builder()
    for group in b.snapshot.groups:
        group.sid = ""
    b.groups["Domain Admins"].sam = "Admins du domaine"
    b.user("adm-fr", pwd=2000, groups=["Domain Admins"])
    assert _admin_names(b) == ["adm-fr"]


# Scores and maturity -----------------------------------------------------------------------------
def test_per_object_points_are_capped_and_categories_at_100():
    b = Builder()
    for i in range(40):
        b.user(f"inactif{i:02d}", logon=400)  # 1 point each, capped at 15
    for i in range(3):
        b.admin(f"adm-spn{i}", spns=(f"HTTP/web{i}",))  # 20 each, capped at 40
    for i in range(4):
        b.admin(f"adm-vieux{i}", pwd=2000)  # 10 each, capped at 30
    b.user_named("krbtgt").pwd_last_set = days_ago(900)  # 20
    b.user("membre-schema", groups=["Schema Admins"])  # 10, and privileged
    findings = rules.evaluate(b.snapshot)
    by_id = {f.rule.id: f for f in findings}
    assert by_id["S-INACTIVE-USER"].points == 15
    assert by_id["P-ADMIN-SPN"].points == 40
    assert by_id["P-ADMIN-PWD-OLD"].points == 30
    scores = rules.category_scores(findings)
    assert scores == {"stale": 15, "privileged": 100, "trusts": 0, "anomalies": 0}
    assert rules.overall_score(findings) == 100


def test_overall_score_is_the_worst_category():
    b = Builder()
    b.domain.machine_account_quota = 10  # anomalies: 5
    b.domain.lockout_threshold = 0  # anomalies: +10
    b.user("asrep", uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_DONT_REQ_PREAUTH)  # stale: 5
    findings = rules.evaluate(b.snapshot)
    assert rules.category_scores(findings) == {
        "stale": 5,
        "privileged": 0,
        "trusts": 0,
        "anomalies": 15,
    }
    assert rules.overall_score(findings) == 15


def test_maturity_is_the_lowest_level_triggered_and_5_when_clean():
    b = Builder()
    assert rules.maturity(rules.evaluate(b.snapshot)) == 5
    b.domain.machine_account_quota = 10  # level 4
    assert rules.maturity(rules.evaluate(b.snapshot)) == 4
    b.user("svc", uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_DONT_EXPIRE_PASSWORD)  # level 3
    assert rules.maturity(rules.evaluate(b.snapshot)) == 3
    b.admin("adm-spn", spns=("HTTP/intranet",))  # level 1
    assert rules.maturity(rules.evaluate(b.snapshot)) == 1


def test_catalogue_is_complete_and_described():
    catalogue = rules.catalogue()
    assert len({r.id for r in catalogue}) == len(catalogue) == 34
    for rule in catalogue:
        assert rule.category in rules.CATEGORIES
        assert 1 <= rule.level <= 5
        assert rule.points > 0 and rule.max_points >= rule.points
        assert str(rule.title) and str(rule.description) and str(rule.remediation)
        assert rule.reference


def test_evaluate_counts_right_on_a_large_domain():
    # Timings are measured in benchmarks/posture_ad.py, not asserted here.
    b = Builder()
    users, computers = b.snapshot.users, b.snapshot.computers
    domain_users = b.groups["Domain Users"]
    for i in range(20_000):
        users.append(
            ad.User(
                dn=f"CN=u{i},OU=Utilisateurs,{b.domain.dn}",
                sam=f"u{i}",
                sid=f"{b.domain.sid}-{10_000 + i}",
                created=days_ago(1000),
                last_logon=days_ago(i % 400),
                pwd_last_set=days_ago(i % 1500),
                primary_group_id=513,
                uac=ad.UAC_NORMAL_ACCOUNT | (ad.UAC_DONT_EXPIRE_PASSWORD if i % 50 == 0 else 0),
                member_of=(domain_users.dn,) if i % 3 else (),
            )
        )
    for i in range(10_000):
        computers.append(
            ad.Computer(
                dn=f"CN=PC{i},OU=Postes,{b.domain.dn}",
                sam=f"PC{i}$",
                uac=ad.UAC_WORKSTATION_TRUST_ACCOUNT,
                created=days_ago(1000),
                last_logon=days_ago(i % 300),
                primary_group_id=515,
                os=("Windows 10 Entreprise", "Windows 11 Entreprise", "Windows 7")[i % 3],
                laps_expiry=None if i % 7 == 0 else NOW,
            )
        )
    findings = rules.evaluate(b.snapshot)
    by_id = {f.rule.id: f for f in findings}
    assert by_id["S-PWD-NEVER-EXPIRES"].count == 400
    assert by_id["A-LAPS-MISSING"].count == len(range(0, 10_000, 7))
