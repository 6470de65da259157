"""Recording an Active Directory audit: figures, evidence, action-plan items, trend, journal."""

from __future__ import annotations

import datetime as dt

import pytest

from hygie.actions.models import ActionItem, ActionStatus, Priority
from hygie.assessments.models import Fact
from hygie.core.models import AuditEvent
from hygie.frameworks.models import Framework
from hygie.posture.ad import audits, rules
from hygie.posture.ad.snapshot import key
from hygie.posture.models import ADFinding, EolGroupAction
from tests.governance import campaign
from tests.posture.snapshots import NOW, weak_domain

pytestmark = pytest.mark.django_db


def finding(audit, rule_id="P-ADMIN-SPN", *, level=1, points=30, names=("adm-sql",)):
    """A finding row as the rules would have produced it (their texts copied into details)."""
    return ADFinding.objects.create(
        audit=audit,
        rule_id=rule_id,
        category="privileged",
        points=points,
        level=level,
        count=len(names),
        sample=list(names),
        details={
            "title": "Compte à privilèges avec un SPN (Kerberoasting)",
            "description": "Un administrateur porte un SPN.",
            "remediation": "Retirer le SPN du compte d'administration.",
        },
    )


def test_an_audit_keeps_the_domain_figures_and_the_collection_warnings(world):
    audit = audits.record_audit(world.est_a1, weak_domain(), user=world.editor, filename="x.zip")
    assert audit.domain == "chu-exemple.local"
    assert audit.collected_at == NOW
    assert audit.source == "ldapdomaindump"
    assert audit.filename == "x.zip"
    stats = audit.stats
    assert (stats["users"], stats["enabled_users"]) == (7, 6)  # krbtgt is disabled
    assert (stats["computers"], stats["enabled_computers"]) == (3, 3)
    assert stats["groups"] == 4
    # Administrator and adm-sql directly, adm-backup through the nested "Admins IT".
    assert stats["privileged"] == 3
    assert stats["domain_controllers"] == 1
    assert stats["trusts"] == 0
    assert stats["warnings"] == ["1 objet illisible ignoré : CN=Objet cassé"]
    assert "passwords" in stats
    event = AuditEvent.objects.get(action="posture.ad_audit_recorded")
    assert event.details["domain"] == "chu-exemple.local"


def test_nested_groups_and_primary_group_make_an_account_privileged():
    snapshot = weak_domain()
    snapshot.users[6].primary_group_id = 512  # marie.curie's primary group: Domain Admins
    privileged = rules.privileged_accounts(snapshot)
    assert {u.sam for u in snapshot.users if key(u.dn) in privileged} == {
        "Administrator",
        "adm-sql",
        "adm-backup",
        "marie.curie",
    }


def test_each_audit_is_evidence_on_the_measures_naming_posture_ad_audit(world):
    framework = Framework.objects.get(ref_id="ANSSI-HYGIENE")
    c = campaign(world.est_a1, framework, starts_on=dt.date(2025, 1, 1))
    audit = audits.record_audit(world.est_a1, weak_domain())
    fact = Fact.objects.get(organisation=world.est_a1, source="posture.ad_audit")
    assert (
        fact.summary
        == f"Audit AD chu-exemple.local : score {audit.score}/100, maturité {audit.maturity}"
    )
    assert fact.value == audit.score
    assert fact.occurred_on == dt.date(2025, 3, 1)
    assert fact.url == f"/audits/ad/{audit.pk}/"
    answers = [
        a for a in c.answers.select_related("node") if "posture.ad_audit" in a.node.evidence_sources
    ]
    assert answers
    for answer in answers:
        assert answer.evidence.filter(fact=fact).exists()


def test_a_finding_gets_one_action_item_reused_while_it_is_open(world):
    first = audits.record_audit(world.est_a1, weak_domain())
    row = first.findings.get(rule_id="P-ADMIN-SPN")
    item = row.action  # created with the audit
    assert audits.create_action(row, actor=world.editor) == item
    assert item.origin == "audit"
    assert item.organisation == world.est_a1
    assert item.priority == Priority.CRITICAL  # ANSSI level 1
    assert "Retirer le SPN" in item.description
    assert f"/audits/ad/{first.pk}/" in item.description
    assert "adm-sql" in item.description
    # Clicking twice links the same item.
    assert audits.create_action(row, actor=world.editor) == item
    # The next audit of the organisation finds the rule again: same item.
    spn_items = ActionItem.objects.filter(origin="audit", title__contains="SPN")
    second = audits.record_audit(world.est_a1, weak_domain(now=NOW + dt.timedelta(days=30)))
    assert second.findings.get(rule_id="P-ADMIN-SPN").action == item
    assert spn_items.count() == 1
    # Once the item is done, a finding that comes back opens a new one.
    item.status = ActionStatus.DONE
    item.save()
    third = audits.record_audit(world.est_a1, weak_domain(now=NOW + dt.timedelta(days=60)))
    again = third.findings.get(rule_id="P-ADMIN-SPN").action
    assert again != item and again.is_open
    assert spn_items.count() == 2
    # Another organisation's finding never lands on this item.
    other = audits.record_audit(world.est_b1, weak_domain())
    assert other.findings.get(rule_id="P-ADMIN-SPN").action.organisation == world.est_b1


@pytest.mark.parametrize(
    ("level", "points", "priority"),
    [
        (1, 10, Priority.CRITICAL),
        (2, 10, Priority.HIGH),
        (2, 50, Priority.CRITICAL),
        (3, 10, Priority.MEDIUM),
        (4, 10, Priority.LOW),
        (5, 60, Priority.MEDIUM),
    ],
)
def test_priority_follows_the_anssi_level_and_the_weight(level, points, priority):
    assert audits.priority_for(level, points) == priority


def test_the_trend_compares_with_the_previous_audit_of_the_same_domain(world):
    first = audits.record_audit(world.est_a1, weak_domain())
    # Another domain of the same establishment is not part of this trend.
    audits.record_audit(world.est_a1, weak_domain(domain="labo.local", fixed=("spn",)))
    fixed = weak_domain(now=NOW + dt.timedelta(days=30), fixed=("spn",))
    fixed.domain.lockout_threshold = 10  # A-NO-LOCKOUT resolved as well
    fixed.users.append(
        fixed.users[-1].__class__(
            **{
                **{f: getattr(fixed.users[-1], f) for f in fixed.users[-1].__slots__},
                "dn": "CN=asrep.new,CN=Users,DC=chu-exemple,DC=local",
                "sam": "asrep.new",
                "sid": fixed.users[-1].sid + "9",
                "uac": fixed.users[-1].uac | 0x400000,
            }
        )
    )
    second = audits.record_audit(world.est_a1, fixed)
    trend = audits.trend(second)
    assert trend.previous == first
    assert trend.delta == second.score - first.score < 0
    assert trend.resolved_rules == ["A-NO-LOCKOUT", "P-ADMIN-SPN"]
    assert trend.new_rules == []
    assert "asrep.new" in second.findings.get(rule_id="S-NO-PREAUTH").sample
    assert audits.trend(first).previous is None
    # An older export recorded afterwards slots in before, by the date of its data.
    older = audits.record_audit(world.est_a1, weak_domain(now=NOW - dt.timedelta(days=30)))
    assert audits.trend(first).previous == older


# With the real rules (ad-rules area) --------------------------------------------------------------
def test_a_kerberoastable_admin_becomes_one_action_not_two_on_re_audit(world):
    first = audits.record_audit(world.est_a1, weak_domain(), user=world.editor)
    spn = first.findings.get(rule_id="P-ADMIN-SPN")
    assert spn.sample == ["adm-sql"]
    assert spn.action is not None and spn.action.origin == "audit"
    assert {"S-INACTIVE-USER", "S-NO-PREAUTH", "A-MIN-PWD-LENGTH", "A-NO-LOCKOUT"} <= set(
        first.findings.values_list("rule_id", flat=True)
    )
    assert not any("marie.curie" in f.sample for f in first.findings.all())
    assert first.score > 0 and first.maturity < 5
    second = audits.record_audit(world.est_a1, weak_domain(now=NOW + dt.timedelta(days=7)))
    assert second.findings.get(rule_id="P-ADMIN-SPN").action == spn.action
    # One item per finding, except obsolete systems: the inventory opens one replacement item
    # per site and release for those (no second, domain-wide item).
    obsolete = first.findings.get(rule_id="S-OBSOLETE-OS")
    assert obsolete.action is None
    assert EolGroupAction.objects.filter(organisation=world.est_a1, action__isnull=False).exists()
    assert (
        ActionItem.objects.filter(origin="audit", ad_findings__isnull=False).distinct().count()
        == first.findings.count() - 1
    )


def test_removing_the_spn_shows_the_rule_resolved(world):
    audits.record_audit(world.est_a1, weak_domain())
    fixed = audits.record_audit(
        world.est_a1, weak_domain(now=NOW + dt.timedelta(days=30), fixed=("spn",))
    )
    trend = audits.trend(fixed)
    assert "P-ADMIN-SPN" in trend.resolved_rules
    assert trend.delta <= 0


def test_the_password_analysis_becomes_password_policy_evidence(world):
    audit = audits.record_audit(world.est_a1, weak_domain())
    assert audit.stats["passwords"]
    fact = Fact.objects.get(organisation=world.est_a1, source="posture.password_policy")
    assert fact.url == f"/audits/ad/{audit.pk}/"
