"""Action-plan domain logic: generation from assessment gaps, GHT pooling, plan queries.

Views stay thin: they resolve objects through `visible_to` and call these functions.
Decisions: docs/decisions/0330-action-generation.md, 0331-ght-pooling.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from hygie.actions.models import (
    CLOSED_STATUSES,
    ActionItem,
    ActionMember,
    ActionStatus,
    Priority,
)
from hygie.assessments.models import Answer, Campaign, Result
from hygie.core.audit import record_event
from hygie.orgs.models import Kind, Membership, Organisation
from hygie.orgs.roles import VIEW, actions_for
from hygie.orgs.services import can  # noqa: F401 (re-exported for the views)

# Results that make a gap, and how much each adds to the measure's weight (see priority_for).
GAP_SEVERITY = {Result.NON_COMPLIANT: 1, Result.PARTIAL: 0, Result.NOT_ASSESSED: 0}
PRIORITY_BY_SEVERITY = {4: Priority.CRITICAL, 3: Priority.HIGH, 2: Priority.MEDIUM, 1: Priority.LOW}
# Default horizon from today to the due date, by priority.
HORIZON_DAYS = {
    Priority.CRITICAL: 90,
    Priority.HIGH: 180,
    Priority.MEDIUM: 365,
    Priority.LOW: 540,
}
# A member lags on a pooled action when this far behind the members' mean (percentage points).
LAG_POINTS = 25


class PlanError(ValueError):
    pass


# Plans ------------------------------------------------------------------------------------------
def plan_owner(organisation: Organisation) -> bool:
    """Action plans are kept by establishments and GHTs (the levels that run assessments)."""
    return organisation.kind in (Kind.ESTABLISHMENT, Kind.GHT)


def ght_of(organisation: Organisation) -> Organisation | None:
    if organisation.kind == Kind.ESTABLISHMENT and organisation.parent_id:
        parent = organisation.parent
        if parent.kind == Kind.GHT:
            return parent
    return None


def plan_items(organisation: Organisation):
    """The organisation's own lines (those pooled into the GHT are followed through their share)."""
    return (
        ActionItem.objects.filter(organisation=organisation, pooled_into__isnull=True)
        .select_related("node", "owner", "expert", "campaign")
        .prefetch_related("members__member")
    )


def shares_of(organisation: Organisation):
    """The member's shares of pooled GHT actions, shown in the member's own plan."""
    return ActionMember.objects.filter(member=organisation).select_related(
        "action", "action__node", "action__owner", "action__expert", "action__organisation"
    )


def is_overdue(due_on: dt.date | None, status: str, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return due_on is not None and due_on < today and status not in CLOSED_STATUSES


def eligible_owners(organisation: Organisation):
    """People who may own an item: a role on the organisation, above it (GHT) or below it."""
    from django.contrib.auth import get_user_model

    nominative_roles = [role for role in _roles() if VIEW in actions_for(role)]
    memberships = Membership.objects.filter(role__in=nominative_roles).filter(
        Q(organisation__path__startswith=organisation.path)
        | Q(organisation_id__in=organisation.ancestor_ids())
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=memberships.values("user_id"))
        .order_by("last_name", "first_name", "username")
    )


def _roles():
    from hygie.orgs.roles import Role

    return [role.value for role in Role]


def region_of(organisation: Organisation) -> Organisation | None:
    return Organisation.objects.filter(
        pk__in=organisation.ancestor_ids() + [organisation.pk], kind=Kind.REGION
    ).first()


def experts_for(user, organisation: Organisation):
    """Directory entries a person may link: those serving the organisation's region first, then
    national ones (the directory's own search)."""
    from hygie.directory.services import search_actors

    return search_actors(user, region=organisation)


# Generation from gaps ---------------------------------------------------------------------------
@dataclass
class GenerationReport:
    created: list[ActionItem] = field(default_factory=list)
    skipped: int = 0

    @property
    def created_count(self) -> int:
        return len(self.created)


def priority_for(weight: int, result: str) -> str:
    """Weight 3 non-compliant → P1, weight 3 partial or weight 2 non-compliant → P2, etc."""
    severity = max(1, min(weight or 1, 3)) + GAP_SEVERITY.get(result, 0)
    return PRIORITY_BY_SEVERITY[severity]


def open_measure_ids(organisation: Organisation) -> set[int]:
    """Measures the organisation already works on: its open lines and its open pooled shares."""
    own = ActionItem.objects.filter(
        organisation=organisation, pooled_into__isnull=True, node__isnull=False
    ).exclude(status__in=CLOSED_STATUSES)
    shared = (
        ActionMember.objects.filter(member=organisation, action__node__isnull=False)
        .exclude(status__in=CLOSED_STATUSES)
        .exclude(action__status=ActionStatus.CANCELLED)
    )
    return set(own.values_list("node_id", flat=True)) | set(
        shared.values_list("action__node_id", flat=True)
    )


@transaction.atomic
def generate_from_gaps(
    campaign: Campaign, user=None, *, include_not_assessed: bool = False, request=None
) -> GenerationReport:
    """One item per gap of the campaign, unless the organisation already has an open one.

    Gaps are non-compliant and partially compliant answers (and not-assessed ones when asked).
    Running it twice creates nothing the second time.
    """
    wanted = [Result.NON_COMPLIANT, Result.PARTIAL]
    if include_not_assessed:
        wanted.append(Result.NOT_ASSESSED)
    answers = (
        Answer.objects.filter(campaign=campaign, result__in=wanted)
        .select_related("node")
        .order_by("node__order")
    )
    organisation = campaign.organisation
    taken = open_measure_ids(organisation)
    today = timezone.localdate()
    report = GenerationReport()
    for answer in answers:
        node = answer.node
        if node.pk in taken:
            report.skipped += 1
            continue
        priority = priority_for(node.weight, answer.result)
        description = "\n\n".join(
            part for part in (node.description, node.typical_evidence) if part
        )
        item = ActionItem.objects.create(
            organisation=organisation,
            campaign=campaign,
            node=node,
            title=node.label[:300],
            description=description,
            owner_id=answer.owner_id,
            priority=priority,
            starts_on=today,
            due_on=today + dt.timedelta(days=HORIZON_DAYS[priority]),
            origin="gap",
        )
        taken.add(node.pk)
        report.created.append(item)
    record_event(
        "actions.generated",
        request=request,
        actor=user if getattr(user, "pk", None) else None,
        target=campaign,
        organisation=organisation,
        details={"created": report.created_count, "skipped": report.skipped},
    )
    return report


# Editing ----------------------------------------------------------------------------------------
def normalise_progress(item) -> None:
    """A finished line is at 100 %; a line marked as progressing is at least started."""
    if item.status == ActionStatus.DONE:
        item.progress = 100
    item.progress = max(0, min(100, item.progress or 0))


# GHT pooling ------------------------------------------------------------------------------------
def pool_candidates(ght: Organisation, node=None):
    """Open GHT-level items a line may join (the one on the same measure first)."""
    items = ActionItem.objects.filter(organisation=ght).exclude(status__in=CLOSED_STATUSES)
    if node is not None:
        # Same measure first, then by due date.
        same = Case(When(node=node, then=Value(0)), default=Value(1), output_field=IntegerField())
        items = items.annotate(same_measure=same).order_by("same_measure", "due_on", "pk")
    return items


@transaction.atomic
def pool(
    item: ActionItem,
    members: list[Organisation],
    *,
    into: ActionItem | None = None,
    user=None,
    request=None,
) -> ActionItem:
    """Carry an establishment's item at GHT level, with one share per chosen member.

    `into` reuses an open GHT-level item; otherwise a new one is created from `item`. The
    original establishment is always a member. Members' own open lines on the same measure are
    pooled too, their status and progress carried into their share.
    """
    ght = ght_of(item.organisation)
    if ght is None:
        raise PlanError("Seule une action d'un établissement membre d'un GHT se mutualise.")
    if item.pooled_into_id:
        raise PlanError("Cette action est déjà mutualisée au niveau du GHT.")
    if into is not None and (into.organisation_id != ght.pk or not into.is_open):
        raise PlanError("L'action du GHT choisie n'est pas une action ouverte de ce GHT.")
    wanted = {item.organisation.pk: item.organisation}
    for member in members:
        if member.kind != Kind.ESTABLISHMENT or member.parent_id != ght.pk:
            raise PlanError(f"{member} n'est pas un établissement membre de {ght}.")
        wanted[member.pk] = member
    if into is None:
        into = ActionItem.objects.create(
            organisation=ght,
            campaign=None,
            node=item.node,
            title=item.title,
            description=item.description,
            owner=user if getattr(user, "pk", None) else item.owner,
            priority=item.priority,
            effort=item.effort,
            cost=item.cost,
            funding=item.funding,
            starts_on=item.starts_on,
            due_on=item.due_on,
            needs_expert=item.needs_expert,
            expert=item.expert,
            origin="pooled",
        )
    # Lines each member already had on the same measure join the pooled action.
    carried = {item.organisation_id: item}
    if item.node_id:
        for other in ActionItem.objects.filter(
            organisation_id__in=wanted, node_id=item.node_id, pooled_into__isnull=True
        ).exclude(status__in=CLOSED_STATUSES):
            carried.setdefault(other.organisation_id, other)
    existing = {share.member_id for share in into.members.all()}
    added = []
    for member in wanted.values():
        source = carried.get(member.pk)
        if source is not None:
            source.pooled_into = into
            source.save(update_fields=["pooled_into", "updated_at"])
        if member.pk in existing:
            continue
        added.append(
            ActionMember.objects.create(
                action=into,
                member=member,
                status=source.status if source else ActionStatus.TO_DO,
                progress=source.progress if source else 0,
            )
        )
    refresh_pooled(into)
    record_event(
        "actions.pooled",
        request=request,
        actor=user if getattr(user, "pk", None) else None,
        target=into,
        organisation=ght,
        details={
            "from_item": item.pk,
            "members": sorted(m.pk for m in wanted.values()),
            "added": sorted(share.member_id for share in added),
        },
    )
    return into


def refresh_pooled(action: ActionItem) -> None:
    """The GHT item's progress is the mean of its members'; its status follows theirs."""
    shares = list(action.members.all())
    if not shares:
        return
    action.progress = round(sum(share.progress for share in shares) / len(shares))
    if action.status != ActionStatus.CANCELLED:
        statuses = {share.status for share in shares} - {ActionStatus.CANCELLED}
        if statuses == {ActionStatus.DONE}:
            action.status = ActionStatus.DONE
        elif statuses == {ActionStatus.TO_DO} or not statuses:
            action.status = ActionStatus.TO_DO
        elif ActionStatus.BLOCKED in statuses:
            action.status = ActionStatus.BLOCKED
        else:
            action.status = ActionStatus.IN_PROGRESS
    action.save(update_fields=["progress", "status", "updated_at"])


@transaction.atomic
def update_share(
    share: ActionMember, *, status: str, progress: int, note: str = "", user=None, request=None
) -> ActionMember:
    share.status = status
    share.progress = 100 if status == ActionStatus.DONE else max(0, min(100, progress))
    share.note = note
    share.save()
    refresh_pooled(share.action)
    record_event(
        "actions.share_updated",
        request=request,
        actor=user if getattr(user, "pk", None) else None,
        target=share.action,
        organisation=share.member,
        details={"member": share.member_id, "status": status, "progress": share.progress},
    )
    return share


# Coherence across the GHT -----------------------------------------------------------------------
@dataclass
class CoherenceCell:
    share: ActionMember | None
    lagging: bool = False
    overdue: bool = False


@dataclass
class CoherenceRow:
    member: Organisation
    cells: list[CoherenceCell]

    @property
    def lagging_count(self) -> int:
        return sum(1 for cell in self.cells if cell.lagging or cell.overdue)


def coherence(ght: Organisation, today: dt.date | None = None):
    """Members × pooled actions: each member's share, laggards flagged.

    A share lags when its progress is `LAG_POINTS` or more below the action's mean, or when
    the action's due date has passed and the share is not finished.
    """
    today = today or timezone.localdate()
    actions = list(
        ActionItem.objects.filter(organisation=ght, members__isnull=False)
        .distinct()
        .select_related("node")
        .prefetch_related("members")
        .order_by("due_on", "priority", "pk")
    )
    members = list(
        Organisation.objects.filter(parent=ght, kind=Kind.ESTABLISHMENT).order_by("name")
    )
    shares = {
        (share.action_id, share.member_id): share for a in actions for share in a.members.all()
    }
    rows = []
    for member in members:
        cells = []
        for action in actions:
            share = shares.get((action.pk, member.pk))
            cell = CoherenceCell(share)
            if share is not None:
                cell.lagging = share.progress <= action.progress - LAG_POINTS
                cell.overdue = is_overdue(action.due_on, share.status, today)
            cells.append(cell)
        rows.append(CoherenceRow(member, cells))
    return actions, rows
