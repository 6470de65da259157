"""Acceptance: the audit of the Samba test domain finds every planted weakness with the right
rule, nothing else than what a fresh domain raises by itself, and never the clean accounts."""

from __future__ import annotations

from hygie.posture.ad import collect as live
from hygie.posture.ad import rules
from hygie.posture.ad.exports import load_export
from tests.posture import samba
from tests.posture.test_exports import dump_dir, dump_files  # noqa: F401


def check(snapshot):
    findings = {finding.rule.id: finding for finding in rules.evaluate(snapshot)}
    expected = set(samba.PLANTED) | set(samba.DEFAULT_FINDINGS)
    assert set(findings) == expected, (
        f"missing {sorted(expected - set(findings))}, unexpected {sorted(set(findings) - expected)}"
    )
    accounts = {a.sam.lower() for a in [*snapshot.users, *snapshot.computers]}
    for rule_id, finding in findings.items():
        named = {name.lower() for name in finding.objects}
        wanted = samba.PLANTED.get(rule_id, set()) | samba.DEFAULT_OBJECTS.get(rule_id, set())
        if wanted:  # exactly the planted accounts: none missed, none more
            assert {name.lower() for name in wanted} == named, rule_id
        else:  # a domain-wide finding (policy, quota, group content) names no account
            assert named and not named & accounts, rule_id
        assert not named & {name.lower() for name in samba.CLEAN}, rule_id
        if rule_id != "A-LAPS-MISSING":  # names every computer without a managed password
            assert samba.CLEAN_COMPUTER.lower() not in named, rule_id


def test_live_audit_finds_exactly_the_planted_weaknesses(samba_dc):
    check(live.collect(samba_dc.connection()))


def test_ldapdomaindump_audit_finds_exactly_the_planted_weaknesses(dump_dir):  # noqa: F811
    check(load_export(dump_files(dump_dir)))


def test_the_snapshot_holds_every_planted_object(samba_dc):
    """Without the rules: every account PLANTED names is in the snapshot, as a user or computer."""
    snapshot = live.collect(samba_dc.connection())
    names = {u.sam for u in snapshot.users} | {c.sam for c in snapshot.computers}
    for rule_id, accounts in samba.PLANTED.items():
        assert accounts <= names, rule_id
    assert samba.CLEAN <= names and samba.CLEAN_COMPUTER in names
    assert len(samba.PRIVILEGED) > 10
