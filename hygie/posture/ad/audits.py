"""Recording an Active Directory audit: scores, findings, action-plan items, evidence, trend.

`record_audit` turns a `Snapshot` (from a live collection or an export) into an `ADAudit` with
its `ADFinding` rows, in one transaction: either everything is recorded or nothing is.

Action-plan items (decision 0720): one item per rule and organisation, reused by every audit
while it is open, so re-auditing a domain never duplicates the plan; once the item is done or
abandoned, a finding that comes back opens a new one. Each finding links to its item.

Evidence: each audit publishes the facts `posture.ad_audit` (value = score) and, when the
password analysis says something, `posture.password_policy`, keyed by the audit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.actions.models import CLOSED_STATUSES, ActionItem, Priority
from hygie.actions.services import HORIZON_DAYS
from hygie.assessments.services import record_fact
from hygie.core.audit import record_event
from hygie.posture import eol, inventory
from hygie.posture.ad import passwords, rules
from hygie.posture.ad.snapshot import Snapshot, key
from hygie.posture.models import (
    ADAudit,
    ADFinding,
    AuditSource,
    Category,
    DirectoryConnection,
    PasswordPolicyTarget,
)

# Findings whose remedy the asset inventory carries: the AD computers go into the inventory with
# the audit, and it opens one replacement item per site and release (decision 0745) — a second,
# domain-wide item here would duplicate them in the plan.
INVENTORY_RULES = frozenset({"S-OBSOLETE-OS"})


def snapshot_stats(snapshot: Snapshot) -> dict:
    privileged = rules.privileged_accounts(snapshot)
    enabled_users = [u for u in snapshot.users if u.enabled]
    return {
        "users": len(snapshot.users),
        "enabled_users": len(enabled_users),
        "computers": len(snapshot.computers),
        "enabled_computers": sum(1 for c in snapshot.computers if c.enabled),
        "groups": len(snapshot.groups),
        "privileged": sum(1 for u in enabled_users if key(u.dn) in privileged),
        "domain_controllers": sum(1 for c in snapshot.computers if c.is_dc),
        "trusts": len(snapshot.trusts),
        "warnings": list(snapshot.warnings),
    }


# Action plan ------------------------------------------------------------------------------------
def priority_for(level: int, points: int) -> str:
    """ANSSI level 1 is the most urgent; a heavy finding (50 points or more) moves up a step."""
    order = [Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW]
    index = {1: 0, 2: 1, 3: 2}.get(level, 3)
    if points >= 50:
        index = max(0, index - 1)
    return order[index]


def open_action_for(organisation, rule_id: str) -> ActionItem | None:
    """The open item an earlier audit of this organisation created for this rule."""
    finding = (
        ADFinding.objects.filter(
            audit__organisation=organisation, rule_id=rule_id, action__isnull=False
        )
        .exclude(action__status__in=CLOSED_STATUSES)
        .select_related("action")
        .order_by("-audit__collected_at", "-pk")
        .first()
    )
    return finding.action if finding else None


def _action_description(finding: ADFinding, audit: ADAudit) -> str:
    details = finding.details
    lines = [
        _("Constat de l'audit Active Directory du domaine %(domain)s du %(date)s : règle %(rule)s.")
        % {
            "domain": audit.domain,
            "date": timezone.localtime(audit.collected_at).strftime("%d/%m/%Y"),
            "rule": finding.rule_id,
        }
    ]
    if details.get("description"):
        lines.append(str(details["description"]))
    if finding.count:
        lines.append(
            _("Objets concernés (%(count)s) : %(names)s")
            % {
                "count": finding.count,
                "names": ", ".join(finding.sample[:20]) + ("…" if finding.count > 20 else ""),
            }
        )
    if details.get("remediation"):
        lines.append(_("Remédiation : %(text)s") % {"text": details["remediation"]})
    lines.append(_("Audit : %(url)s") % {"url": reverse("posture:ad_audit", args=[audit.pk])})
    return "\n\n".join(lines)


def create_action(finding: ADFinding, *, actor=None, request=None) -> ActionItem:
    """Link the finding to its rule's open item, or create one. Idempotent (row lock).

    Findings of INVENTORY_RULES are not turned into items here (the inventory's are the ones)."""
    with transaction.atomic():
        finding = ADFinding.objects.select_for_update().select_related("audit").get(pk=finding.pk)
        if finding.action_id:
            current = ActionItem.objects.filter(pk=finding.action_id).first()
            if current is not None and current.is_open:
                return current
        audit = finding.audit
        organisation = audit.organisation
        item = open_action_for(organisation, finding.rule_id)
        created = item is None
        if created:
            priority = priority_for(finding.level, finding.points)
            title = finding.details.get("title") or finding.rule_id
            item = ActionItem.objects.create(
                organisation=organisation,
                title=(_("Active Directory : %(title)s") % {"title": title})[:300],
                description=_action_description(finding, audit),
                priority=priority,
                due_on=timezone.localdate() + dt.timedelta(days=HORIZON_DAYS[priority]),
                origin="audit",
            )
            record_event(
                "posture.ad_action_created",
                request=request,
                actor=actor,
                target=item,
                organisation=organisation,
                details={"audit": audit.pk, "rule": finding.rule_id},
            )
        finding.action = item
        finding.save(update_fields=["action"])
    return item


# Recording --------------------------------------------------------------------------------------
def _finding_details(found) -> dict:
    rule = found.rule
    return {
        "title": str(rule.title),
        "description": str(rule.description),
        "remediation": str(rule.remediation),
        "reference": str(rule.reference),
        "data": found.details,
    }


def _source(snapshot: Snapshot) -> str:
    return snapshot.source if snapshot.source in AuditSource.values else AuditSource.LDAPDOMAINDUMP


def record_audit(
    organisation,
    snapshot: Snapshot,
    *,
    user=None,
    filename: str = "",
    connection: DirectoryConnection | None = None,
) -> ADAudit:
    """Evaluate the snapshot and record the audit with everything it leads to, atomically.

    The rules judge the data as of its collection date (an export of last month is not
    judged with today's inactivity windows).
    """
    now = snapshot.collected_at or timezone.now()
    found = rules.evaluate(snapshot, now=now, releases=eol.current_releases())
    scores = rules.category_scores(found)
    target = PasswordPolicyTarget.objects.filter(organisation=organisation).first()
    stats = snapshot_stats(snapshot)
    stats["passwords"] = passwords.analyse(snapshot, now=now, target=target)
    with transaction.atomic():
        audit = ADAudit.objects.create(
            organisation=organisation,
            domain=snapshot.domain.dns_name.lower(),
            domain_sid=snapshot.domain.sid,
            source=_source(snapshot),
            connection=connection,
            filename=filename[:255],
            collected_at=now,
            created_by=user,
            score=max(scores.values(), default=0),
            score_stale=scores.get(Category.STALE, 0),
            score_privileged=scores.get(Category.PRIVILEGED, 0),
            score_trusts=scores.get(Category.TRUSTS, 0),
            score_anomalies=scores.get(Category.ANOMALIES, 0),
            maturity=rules.maturity(found),
            rules_version=rules.RULES_VERSION,
            stats=stats,
        )
        rows = ADFinding.objects.bulk_create(
            ADFinding(
                audit=audit,
                rule_id=f.rule.id,
                category=f.rule.category,
                points=f.points,
                level=f.rule.level,
                count=f.count,
                sample=list(f.objects[: rules.MAX_LISTED]),
                details=_finding_details(f),
            )
            for f in found
        )
        for row in rows:
            if row.rule_id not in INVENTORY_RULES:
                create_action(row, actor=user)
        _publish_evidence(audit, stats["passwords"])
        inventory.import_ad_computers(organisation, snapshot.computers, user=user)
        record_event(
            "posture.ad_audit_recorded",
            actor=user,
            target=audit,
            organisation=organisation,
            details={
                "domain": audit.domain,
                "source": audit.source,
                "filename": audit.filename,
                "score": audit.score,
                "maturity": audit.maturity,
                "findings": len(rows),
                "connection": connection.pk if connection else None,
            },
        )
    return audit


def _publish_evidence(audit: ADAudit, analysis: dict) -> None:
    url = reverse("posture:ad_audit", args=[audit.pk])
    day = timezone.localtime(audit.collected_at).date()
    record_fact(
        audit.organisation,
        "posture.ad_audit",
        source_key=f"ad-audit:{audit.pk}",
        occurred_on=day,
        summary=_("Audit AD %(domain)s : score %(score)s/100, maturité %(maturity)s")
        % {"domain": audit.domain, "score": audit.score, "maturity": audit.maturity},
        value=audit.score,
        url=url,
        details={"domain": audit.domain, "scores": audit.category_scores()},
    )
    summary, value = passwords.fact_summary(analysis)
    if summary:
        record_fact(
            audit.organisation,
            "posture.password_policy",
            source_key=f"ad-audit:{audit.pk}",
            occurred_on=day,
            summary=summary,
            value=value,
            url=url,
            details={"domain": audit.domain},
        )


# Trend ------------------------------------------------------------------------------------------
@dataclass
class Trend:
    previous: ADAudit | None
    delta: int | None = None  # score change (negative = better: fewer risk points)
    new_rules: list[str] = field(default_factory=list)
    resolved_rules: list[str] = field(default_factory=list)


def previous_audit(audit: ADAudit) -> ADAudit | None:
    earlier = ADAudit.objects.filter(organisation=audit.organisation_id, domain=audit.domain)
    earlier = earlier.filter(collected_at__lt=audit.collected_at) | earlier.filter(
        collected_at=audit.collected_at, pk__lt=audit.pk
    )
    return earlier.order_by("-collected_at", "-pk").first()


def trend(audit: ADAudit) -> Trend:
    previous = previous_audit(audit)
    if previous is None:
        return Trend(previous=None)
    now_rules = set(audit.findings.values_list("rule_id", flat=True))
    before = set(previous.findings.values_list("rule_id", flat=True))
    return Trend(
        previous=previous,
        delta=audit.score - previous.score,
        new_rules=sorted(now_rules - before),
        resolved_rules=sorted(before - now_rules),
    )


def findings_by_category(audit: ADAudit) -> list[tuple[str, str, int, list[ADFinding]]]:
    """(category, label, score, findings) in PingCastle's order."""
    grouped: dict[str, list[ADFinding]] = {c: [] for c in Category.values}
    for finding in audit.findings.select_related("action"):
        grouped.setdefault(finding.category, []).append(finding)
    scores = audit.category_scores()
    return [
        (category, label, scores[category], grouped.get(category, []))
        for category, label in Category.choices
    ]
