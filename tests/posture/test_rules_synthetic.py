"""Synthetic hospital domains: deterministic, realistic, every kind of weakness, ldapdomaindump files."""

from __future__ import annotations

import json

from hygie.posture.ad import rules, synthetic


def test_same_seed_same_domain_other_seed_other_domain():
    a = synthetic.generate(users=300, computers=100, seed=7)
    b = synthetic.generate(users=300, computers=100, seed=7)
    c = synthetic.generate(users=300, computers=100, seed=8)
    assert [u.sam for u in a.users] == [u.sam for u in b.users]
    assert [u.pwd_last_set for u in a.users] == [u.pwd_last_set for u in b.users]
    assert [u.sam for u in a.users] != [u.sam for u in c.users]
    assert (len(a.users), len(a.computers)) == (300, 100)


def test_a_generated_domain_looks_like_a_hospital_and_has_weaknesses():
    snap = synthetic.generate(users=5000, computers=1500, seed=3)
    assert any("OU=Urgences,OU=" in u.dn for u in snap.users)
    assert any(u.spns for u in snap.users)
    assert any(c.os.startswith("Windows XP") for c in snap.computers)
    found = {f.rule.id: f for f in rules.evaluate(snap)}
    for rule_id in (
        "S-INACTIVE-USER",
        "S-INACTIVE-COMPUTER",
        "S-PWD-NEVER-EXPIRES",
        "S-PWD-NOT-REQUIRED",
        "S-NO-PREAUTH",
        "P-ADMIN-SPN",
        "P-ADMIN-PWD-NEVER-EXPIRES",
        "P-PROTECTED-USERS",
        "P-UNCONSTRAINED-DELEGATION",
        "P-OPERATORS",
        "A-LAPS-MISSING",
        "A-MACHINE-ACCOUNT-QUOTA",
    ):
        assert rule_id in found, rule_id
    # Administrators reached through nested groups are found.
    assert "svc-sql-adm" in found["P-ADMIN-SPN"].objects


def test_write_ldapdomaindump_writes_the_five_files_in_the_tool_format(tmp_path):
    snap = synthetic.generate(users=50, computers=20, seed=1)
    paths = synthetic.write_ldapdomaindump(snap, tmp_path)
    assert sorted(p.name for p in paths) == sorted(synthetic.FILES)
    users = json.loads((tmp_path / "domain_users.json").read_text(encoding="utf-8"))
    assert len(users) == 50
    admin = next(u for u in users if u["attributes"]["sAMAccountName"] == ["Administrator"])
    assert admin["dn"] == admin["attributes"]["distinguishedName"][0]
    assert admin["attributes"]["objectSid"][0].endswith("-500")
    assert isinstance(admin["attributes"]["userAccountControl"][0], int)
    assert all(isinstance(v, list) for v in admin["attributes"].values())
    policy = json.loads((tmp_path / "domain_policy.json").read_text(encoding="utf-8"))
    assert policy[0]["attributes"]["minPwdLength"] == [snap.domain.min_pwd_length]
    groups = json.loads((tmp_path / "domain_groups.json").read_text(encoding="utf-8"))
    domain_admins = next(
        g for g in groups if g["attributes"]["sAMAccountName"] == ["Domain Admins"]
    )
    assert domain_admins["attributes"]["member"]


def test_generate_write_and_load_give_the_same_findings(tmp_path):
    from hygie.posture.ad import exports

    snap = synthetic.generate(users=400, computers=150, seed=5)
    paths = synthetic.write_ldapdomaindump(snap, tmp_path)
    loaded = exports.load_export([(p.name, p.read_bytes()) for p in paths])
    assert [u.sam for u in loaded.users] == [u.sam for u in snap.users]
    assert [c.os for c in loaded.computers] == [c.os for c in snap.computers]
    assert loaded.domain.min_pwd_length == snap.domain.min_pwd_length
    assert loaded.domain.max_pwd_age == snap.domain.max_pwd_age
    assert loaded.domain.lockout_duration == snap.domain.lockout_duration

    def summary(s):
        # An ldapdomaindump export carries no date: both judged as of the generated domain's.
        return {f.rule.id: f.objects for f in rules.evaluate(s, now=snap.collected_at, releases=[])}

    assert summary(loaded) == summary(snap)
