"""Awareness tracking: campaigns, assignment, reminders, progress, coverage and xAPI statements.

Plain functions over the models, no HTTP. Other areas call `assign`, `assign_to_staff`,
`record_statement` and `coverage` by name; this module calls `content.audiences_for` and
`learner.send_assignment_link`. `learner` imports this module too (for `record_statement`):
both import the other as a module (`from hygie.awareness import ...`) and only use it inside
functions, so either can be imported first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.awareness import content, learner, tally
from hygie.awareness.models import (
    DONE_STATES,
    Assignment,
    Attendance,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Module,
    ProgressTally,
    SessionParticipant,
    State,
    Statement,
)
from hygie.core.audit import record_event
from hygie.dashboards.services import SMALL_CELL
from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember

logger = logging.getLogger(__name__)

# Coverage looks back this far (the CaRE annual campaign: every person once a year).
COVERAGE_PERIOD = dt.timedelta(days=365)
BULK_BATCH = 2000
DEFAULT_REMINDER_DAYS = [7, 1]


# Targeting ---------------------------------------------------------------------------------------
SIMULATION_SCOPES = {
    "clickers": _("Personnes ayant cliqué"),
    "submitters": _("Personnes ayant saisi des informations"),
    "people": _("Personnes désignées par une règle"),
    "service": _("Services entiers au-dessus du seuil"),
}


def campaign_start(campaign: Campaign) -> dt.date:
    """Onboarding campaigns assign people who arrived on or after this day."""
    if campaign.arrived_since:
        return campaign.arrived_since
    return timezone.localdate(campaign.opened_at or timezone.now())


def targeted_staff(campaign: Campaign):
    """The active staff a campaign is for (a queryset; nothing is created)."""
    organisation = campaign.organisation
    staff = StaffMember.objects.filter(
        establishment__path__startswith=organisation.path, active=True
    )
    if campaign.kind == CampaignKind.ANNUAL:
        return staff
    if campaign.kind == CampaignKind.SIMULATION:
        return _simulation_staff(campaign, staff)
    services = list(campaign.target_services.values_list("path", flat=True))
    sites = list(campaign.target_sites.values_list("pk", flat=True))
    if services:
        condition = Q()
        for path in services:  # a service includes its sub-services (units of a pole)
            condition |= Q(service__path__startswith=path)
        staff = staff.filter(condition)
    if sites:
        staff = staff.filter(site_id__in=sites)
    if campaign.target_job_families:
        staff = staff.filter(job_family__in=campaign.target_job_families)
    if campaign.kind == CampaignKind.ONBOARDING:
        staff = staff.filter(arrival_date__gte=campaign_start(campaign))
    elif campaign.arrived_since:
        staff = staff.filter(arrival_date__gte=campaign.arrived_since)
    return staff


def _simulation_staff(campaign: Campaign, staff):
    simulation = campaign.simulation
    scope = campaign.simulation_scope
    if scope == "service":
        paths = list(campaign.target_services.values_list("path", flat=True))
        if not paths:
            return staff.none()
        condition = Q()
        for path in paths:
            condition |= Q(service__path__startswith=path)
        return staff.filter(condition)
    if scope == "people":
        # People chosen by a corrective rule (repeat clickers): assigned by `assign_to_staff`,
        # so "assign again" keeps exactly them.
        return staff.filter(awareness_assignments__campaign=campaign).distinct()
    if simulation is None:
        return staff.none()
    recipients = simulation.recipients.filter(sent_at__isnull=False, staff__isnull=False)
    if scope == "submitters":
        recipients = recipients.filter(submitted_at__isnull=False)
    else:
        recipients = recipients.filter(first_click_at__isnull=False)
    return staff.filter(pk__in=recipients.values("staff_id"))


@dataclass
class Preview:
    total: int
    by_service: list[tuple[str, int]]


def targeting_preview(campaign: Campaign) -> Preview:
    """How many people a campaign reaches, per service (two queries)."""
    rows = list(
        targeted_staff(campaign)
        .order_by()
        .values("service_id", "service__name")
        .annotate(n=Count("pk", distinct=True))
    )
    by_service = sorted(
        ((row["service__name"] or _("Sans service"), row["n"]) for row in rows),
        key=lambda item: (-item[1], item[0]),
    )
    return Preview(sum(n for _label, n in by_service), by_service)


# Assignment --------------------------------------------------------------------------------------
def modules_for(staff: StaffMember, modules: list[Module]) -> list[Module]:
    """The modules written for this person's role; modules without audiences are for everyone.
    When none of the campaign's modules fits the person, they get all of them (decision 0531):
    nobody is left out of a campaign because of an unusual job title."""
    audiences = set(content.audiences_for(staff))
    fitting = [m for m in modules if not m.audiences or audiences & set(m.audiences)]
    return fitting or list(modules)


def _due_date(campaign: Campaign | None, staff, default: dt.date | None) -> dt.date | None:
    if campaign is not None and campaign.kind == CampaignKind.ONBOARDING:
        start = staff.arrival_date or timezone.localdate()
        return start + dt.timedelta(days=campaign.due_days)
    return default


def assign_to_staff(
    staff_qs,
    modules,
    *,
    organisation: Organisation,
    due_date: dt.date | None,
    campaign: Campaign | None = None,
    actor=None,
    match_audiences: bool = False,
) -> int:
    """Create the missing assignments of `modules` for the active people of `staff_qs` under
    `organisation`; returns how many were created. Idempotent: a person keeps one assignment
    per campaign and module (without a campaign, one open assignment per module)."""
    modules = list(modules)
    if not modules:
        return 0
    staff_qs = staff_qs.filter(
        establishment__path__startswith=organisation.path, active=True
    ).order_by()
    if not match_audiences:
        # content.audiences_for may read any field of the person; otherwise a few columns do.
        staff_qs = staff_qs.only(
            "pk", "establishment_id", "service_id", "site_id", "job_family", "arrival_date"
        )
    existing = Assignment.objects.filter(module__in=modules)
    if campaign is not None:
        existing = existing.filter(campaign=campaign)
    else:
        existing = existing.filter(campaign__isnull=True).exclude(state__in=DONE_STATES)
    versions = {m.pk: m.version for m in modules}
    created = 0
    batch: list[Assignment] = []
    with transaction.atomic():
        if campaign is not None:
            # Two assignments of one campaign at once wait for each other: every row inserted
            # is really new, so the progress tally counts exactly what was created.
            list(Campaign.objects.select_for_update().filter(pk=campaign.pk).values("pk"))
        have = set(existing.values_list("staff_id", "module_id"))
        for person in staff_qs.iterator(chunk_size=BULK_BATCH):
            wanted = modules_for(person, modules) if match_audiences else modules
            due = _due_date(campaign, person, due_date)
            for module in wanted:
                if (person.pk, module.pk) in have:
                    continue
                batch.append(
                    Assignment(
                        campaign=campaign,
                        module=module,
                        staff_id=person.pk,
                        establishment_id=person.establishment_id,
                        service_id=person.service_id,
                        site_id=person.site_id,
                        job_family=person.job_family,
                        module_version=versions[module.pk],
                        due_date=due,
                    )
                )
            if len(batch) >= BULK_BATCH:
                created += _flush(batch)
        created += _flush(batch)
    if created and actor is not None:
        record_event(
            "awareness.assign",
            actor=actor,
            target=campaign,
            organisation=organisation,
            details={"created": created, "modules": [m.slug for m in modules]},
        )
    return created


def _flush(batch: list[Assignment]) -> int:
    if not batch:
        return 0
    # ignore_conflicts: a concurrent assign of the same campaign creates nothing twice.
    Assignment.objects.bulk_create(batch, batch_size=BULK_BATCH, ignore_conflicts=True)
    tally.add(batch)  # same transaction: the dashboard's figures follow
    count = len(batch)
    batch.clear()
    return count


def assign(campaign: Campaign, *, actor=None) -> int:
    """Assign the campaign's modules to everyone it targets who has no assignment yet; the new
    learners are invited by e-mail from a worker (or the next housekeeping)."""
    created = assign_to_staff(
        targeted_staff(campaign),
        campaign.modules.all(),
        organisation=campaign.organisation,
        due_date=campaign.due_date,
        campaign=campaign,
        actor=actor,
        match_audiences=campaign.match_audiences,
    )
    if created and campaign.status == CampaignStatus.OPEN:
        invite_soon(campaign)
    return created


def open_campaign(campaign: Campaign, *, actor=None, now=None) -> int:
    """Draft → open, and assign; returns the number of assignments created."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != CampaignStatus.DRAFT:
            return 0
        locked.status = CampaignStatus.OPEN
        locked.opened_at = now or timezone.now()
        locked.save(update_fields=["status", "opened_at"])
    campaign.refresh_from_db()
    record_event(
        "awareness.campaign_open",
        actor=actor,
        target=campaign,
        organisation=campaign.organisation,
        details={"name": campaign.name},
    )
    return assign(campaign, actor=actor)


def close_campaign(campaign: Campaign, *, actor=None, now=None) -> list:
    """Open → closed: nobody new is assigned, reminders stop, and each establishment's
    coverage is recorded as evidence."""
    with transaction.atomic():
        updated = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.OPEN).update(
            status=CampaignStatus.CLOSED, closed_at=now or timezone.now()
        )
    campaign.refresh_from_db()
    if not updated:
        return []
    record_event(
        "awareness.campaign_close",
        actor=actor,
        target=campaign,
        organisation=campaign.organisation,
        details={"name": campaign.name},
    )
    return record_campaign_facts(campaign)


def assign_onboarding(now=None) -> int:
    """Housekeeping: newcomers of open onboarding campaigns get their modules."""
    created = 0
    for campaign in Campaign.objects.filter(
        kind=CampaignKind.ONBOARDING, status=CampaignStatus.OPEN
    ).select_related("organisation"):
        created += assign(campaign)
    return created


# Invitations -------------------------------------------------------------------------------------
def send_invitations(campaign: Campaign | None = None, now=None) -> int:
    """The first e-mail, with a personal link, for each new assignment of an open campaign.
    Claimed with a conditional UPDATE (the invitation counts as the first contact), so a
    task and housekeeping running together never invite twice."""
    now = now or timezone.now()
    pending = (
        Assignment.objects.filter(
            campaign__status=CampaignStatus.OPEN,
            last_reminded_at__isnull=True,
            links__isnull=True,
            staff__active=True,
        )
        .exclude(staff__email="")
        .exclude(state__in=DONE_STATES)
        .select_related("staff", "module", "campaign")
    )
    if campaign is not None:
        pending = pending.filter(campaign=campaign)
    sent = 0
    for assignment in pending.iterator(chunk_size=500):
        if not Assignment.objects.filter(pk=assignment.pk, last_reminded_at__isnull=True).update(
            last_reminded_at=now
        ):
            continue
        try:
            if learner.send_assignment_link(assignment):
                sent += 1
        except Exception:
            logger.exception("invitation for assignment %s failed", assignment.pk)
    return sent


def invite_soon(campaign: Campaign) -> None:
    """Invitations go out from a worker: 20,000 e-mails do not hold a page."""
    from hygie.awareness.tasks import invite

    campaign_id = campaign.pk
    transaction.on_commit(lambda: invite.enqueue(campaign_id))


# Reminders ---------------------------------------------------------------------------------------
def send_due_reminders(now=None) -> int:
    """E-mail a fresh link to unfinished learners on the campaign's reminder days before the
    due date, and once after it. Each assignment is claimed with a conditional UPDATE, so two
    workers (or two runs the same day) never remind twice."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start_of_day = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    sent = 0
    campaigns = Campaign.objects.filter(status=CampaignStatus.OPEN).only("pk", "reminder_days")
    for campaign in campaigns:
        days = sorted({int(d) for d in (campaign.reminder_days or []) if int(d) > 0})
        before = [today + dt.timedelta(days=d) for d in days]
        candidates = (
            Assignment.objects.filter(campaign=campaign, staff__active=True, due_date__isnull=False)
            .exclude(staff__email="")
            .exclude(state__in=DONE_STATES)
            .filter(
                Q(due_date__in=before)
                # Once after the due date: nothing sent since the day it fell due.
                | (
                    Q(due_date__lt=today)
                    & (
                        Q(last_reminded_at__isnull=True)
                        | Q(last_reminded_at__date__lte=F("due_date"))
                    )
                )
            )
            .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=start_of_day))
            .select_related("staff", "module", "campaign")
        )
        for assignment in candidates.iterator(chunk_size=500):
            claimed = (
                Assignment.objects.filter(pk=assignment.pk)
                .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=start_of_day))
                .update(last_reminded_at=now, reminders_sent=F("reminders_sent") + 1)
            )
            if not claimed:
                continue
            try:
                if learner.send_assignment_link(assignment):
                    sent += 1
            except Exception:  # one bad address must not stop the others
                logger.exception("reminder for assignment %s failed", assignment.pk)
    return sent


# Progress ----------------------------------------------------------------------------------------
GROUPINGS = {
    "service": "service_id",
    "job_family": "job_family",
    "site": "site_id",
}


def _counts(today: dt.date) -> dict:
    open_states = ~Q(state__in=DONE_STATES)
    return {
        "assigned": Count("pk"),
        "not_started": Count("pk", filter=Q(state=State.NOT_ATTEMPTED)),
        "in_progress": Count("pk", filter=Q(state=State.INCOMPLETE)),
        "done": Count("pk", filter=Q(state__in=DONE_STATES)),
        "passed": Count("pk", filter=Q(state=State.PASSED)),
        "failed": Count("pk", filter=Q(state=State.FAILED)),
        "overdue": Count("pk", filter=open_states & Q(due_date__lt=today)),
        "people": Count("staff_id", distinct=True),
    }


FIGURES = ("assigned", "not_started", "in_progress", "done", "passed", "failed", "overdue")


@dataclass
class ProgressRow:
    key: object
    label: str
    parent: object = None
    people: int = 0
    assigned: int = 0
    not_started: int = 0
    in_progress: int = 0
    done: int = 0
    passed: int = 0
    failed: int = 0
    overdue: int = 0
    masked: bool = False

    def add(self, row: dict) -> None:
        for name in (*FIGURES, "people"):
            setattr(self, name, getattr(self, name) + row.get(name, 0))

    def _rate(self, count: int) -> float | None:
        if self.masked or not self.assigned:
            return None
        return round(100 * count / self.assigned, 1)

    @property
    def completion_rate(self) -> float | None:
        return self._rate(self.done)

    @property
    def overdue_rate(self) -> float | None:
        return self._rate(self.overdue)

    @property
    def pass_rate(self) -> float | None:
        """Passed among the quizzes taken (passed or last attempt failed)."""
        if self.masked or not (self.passed + self.failed):
            return None
        return round(100 * self.passed / (self.passed + self.failed), 1)

    def hidden(self) -> ProgressRow:
        return ProgressRow(key=self.key, label=self.label, parent=self.parent, masked=True)


def _assignments(organisation: Organisation, campaign: Campaign | None = None):
    if organisation.kind == Kind.ESTABLISHMENT:
        # The column itself: the (establishment, state) index serves, no join on the tree.
        queryset = Assignment.objects.filter(establishment_id=organisation.pk)
    elif organisation.kind == Kind.SITE:
        queryset = Assignment.objects.filter(site_id=organisation.pk)
    elif organisation.kind == Kind.SERVICE:
        queryset = Assignment.objects.filter(service__path__startswith=organisation.path)
    else:
        queryset = Assignment.objects.filter(establishment__path__startswith=organisation.path)
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    return queryset.order_by()


def _label(group_by: str, value, labels: dict) -> str:
    if value in (None, ""):
        return _("Non renseigné")
    if group_by == "job_family":
        return str(dict(JobFamily.choices).get(value, value))
    return labels.get(value, (_("Unité supprimée"), None))[0]


def _org_labels(ids: set) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {
        pk: (short or name, parent)
        for pk, name, short, parent in Organisation.objects.filter(pk__in=ids).values_list(
            "pk", "name", "short_name", "parent_id"
        )
    }


# The finest grouping the page needs; services, sites and job families are summed from it, so
# the assignments are read once. `people` is distinct within a (service, site, job family)
# group: summed, it counts a person twice only if their copies differ between campaigns
# (moved in between).
FINE = ("service_id", "site_id", "job_family")


def _fine_counts(organisation, campaign, today: dt.date, since, *, people=True) -> list[dict]:
    """Counts per (service, site, job family). Without a campaign they come from the progress
    tally (a few thousand rows, decision 0538); a campaign's own are counted live."""
    if campaign is None:
        return _tally_counts(organisation, today, people=people)
    counts = _counts(today)
    if not people:
        # Distinct people only serve the masking of small groups: the nominative view skips
        # the costliest count of the query.
        del counts["people"]
    counts["passed_recent"] = Count("pk", filter=Q(state=State.PASSED, completed_at__gte=since))
    counts["failed_recent"] = Count("pk", filter=Q(state=State.FAILED, assigned_at__gte=since))
    return list(_assignments(organisation, campaign).values(*FINE).annotate(**counts))


def _tallies(organisation: Organisation):
    """The tally rows of an organisation (the same scopes as `_assignments`)."""
    if organisation.kind == Kind.ESTABLISHMENT:
        queryset = ProgressTally.objects.filter(establishment_id=organisation.pk)
    elif organisation.kind == Kind.SITE:
        queryset = ProgressTally.objects.filter(site_id=organisation.pk)
    elif organisation.kind == Kind.SERVICE:
        queryset = ProgressTally.objects.filter(service__path__startswith=organisation.path)
    else:
        queryset = ProgressTally.objects.filter(establishment__path__startswith=organisation.path)
    return queryset.order_by()


def recent_start(today: dt.date) -> dt.date:
    """The dashboard's "last twelve months" for quiz results: the current calendar month and
    the eleven before it (the tally knows months, not days; decision 0538)."""
    return _month_starts(today, 12)[0]


def _tally_counts(organisation, today: dt.date, *, people: bool) -> list[dict]:
    start = recent_start(today)

    def total(condition=None):
        return Coalesce(Sum("count", filter=condition), 0)

    rows = list(
        _tallies(organisation)
        .values(*FINE)
        .annotate(
            assigned=total(),
            not_started=total(Q(state=State.NOT_ATTEMPTED)),
            in_progress=total(Q(state=State.INCOMPLETE)),
            done=total(Q(state__in=DONE_STATES)),
            passed=total(Q(state=State.PASSED)),
            failed=total(Q(state=State.FAILED)),
            overdue=total(~Q(state__in=DONE_STATES) & Q(due_date__lt=today)),
            passed_recent=total(Q(state=State.PASSED, completed_month__gte=start)),
            failed_recent=total(Q(state=State.FAILED, assigned_month__gte=start)),
        )
        .filter(assigned__gt=0)
    )
    if people:
        # Distinct people serve only the masking of small groups (aggregate view): a narrow
        # count on the assignments. A group the tally has and this count lacks counts nobody,
        # so it is masked: never shown on a guess.
        distinct = {
            tuple(row[:3]): row[3]
            for row in _assignments(organisation)
            .values_list(*FINE)
            .annotate(people=Count("staff_id", distinct=True))
        }
        for row in rows:
            row["people"] = distinct.get(tuple(row[column] for column in FINE), 0)
    return rows


def _rows(group_by: str, fine: list[dict], labels: dict) -> list[ProgressRow]:
    column = GROUPINGS[group_by]
    grouped: dict = {}
    for values in fine:
        key = values[column]
        row = grouped.get(key)
        if row is None:
            row = grouped[key] = ProgressRow(
                key=key,
                label=_label(group_by, key, labels),
                parent=labels.get(key, (None, None))[1] if group_by != "job_family" else None,
            )
        row.add(values)
    return sorted(grouped.values(), key=lambda r: (r.key in (None, ""), r.label.lower()))


def progress(
    organisation: Organisation,
    group_by: str = "service",
    *,
    campaign: Campaign | None = None,
    today: dt.date | None = None,
) -> list[ProgressRow]:
    """One row per group (service, job family or site) of the organisation's assignments:
    assigned, not started, in progress, done, passed, failed, overdue (two queries)."""
    return breakdowns(organisation, [group_by], campaign=campaign, today=today)[group_by]


def breakdowns(
    organisation: Organisation,
    groupings: list[str],
    *,
    campaign: Campaign | None = None,
    today: dt.date | None = None,
    fine: list[dict] | None = None,
) -> dict[str, list[ProgressRow]]:
    """Several groupings at once: one count query and one query for all the names."""
    for group_by in groupings:
        if group_by not in GROUPINGS:
            raise ValueError(f"unknown grouping {group_by!r}")
    today = today or timezone.localdate()
    if fine is None:
        fine = _fine_counts(organisation, campaign, today, timezone.now() - COVERAGE_PERIOD)
    ids = {
        row[GROUPINGS[group_by]]
        for group_by in groupings
        if group_by != "job_family"
        for row in fine
    }
    labels = _org_labels(ids)
    return {group_by: _rows(group_by, fine, labels) for group_by in groupings}


def total_row(rows: list[ProgressRow]) -> ProgressRow:
    total = ProgressRow(key="total", label=_("Ensemble"))
    for row in rows:
        for name in (*FIGURES, "people"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def suppress(rows: list[ProgressRow]) -> list[ProgressRow]:
    """Groups of fewer than SMALL_CELL people are masked; when one group of a parent (or of the
    breakdown) is masked alone, the next smallest is masked too (decision 0431)."""
    rows = [row.hidden() if row.people < SMALL_CELL else row for row in rows]
    by_parent: dict[object, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if row.parent is not None:
            by_parent[row.parent].append(index)
    for indexes in [*by_parent.values(), list(range(len(rows)))]:
        masked = [i for i in indexes if rows[i].masked]
        shown = [i for i in indexes if not rows[i].masked]
        if len(masked) == 1 and shown:
            smallest = min(shown, key=lambda i: (rows[i].people, rows[i].label))
            rows[smallest] = rows[smallest].hidden()
    return rows


@dataclass
class TrendPoint:
    month: dt.date
    assigned: int
    done: int

    @property
    def rate(self) -> float | None:
        return round(100 * self.done / self.assigned, 1) if self.assigned else None


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    first = today.replace(day=1)
    starts = []
    for _step in range(months):
        starts.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def trend(
    organisation: Organisation, months: int = 12, *, today: dt.date | None = None
) -> list[TrendPoint]:
    """Completion rate at the end of each of the last `months` months (one query on the
    progress tally; calendar months in UTC, decision 0538)."""
    today = today or timezone.localdate()
    assigned_by: dict = defaultdict(int)
    done_by: dict = defaultdict(int)
    rows = (
        _tallies(organisation)
        .values(
            "assigned_month",
            completed=Case(
                When(state__in=DONE_STATES, then=F("completed_month")),
                output_field=DateField(),
            ),
        )
        .annotate(n=Sum("count"))
        .values_list("assigned_month", "completed", "n")
    )
    for assigned, done, n in rows:
        if assigned is not None:
            assigned_by[assigned] += n
        if done is not None:
            done_by[done] += n
    return [
        TrendPoint(
            month,
            sum(n for m, n in assigned_by.items() if m <= month),
            sum(n for m, n in done_by.items() if m <= month),
        )
        for month in _month_starts(today, months)
    ]


def overdue(organisation: Organisation, *, today: dt.date | None = None, limit: int = 200):
    """Unfinished assignments past their due date, oldest first (nominative: "view" only)."""
    today = today or timezone.localdate()
    return (
        _assignments(organisation)
        .exclude(state__in=DONE_STATES)
        .filter(due_date__lt=today, staff__active=True)
        .select_related("staff", "module", "service", "campaign")
        .order_by("due_date", "pk")[:limit]
    )


@dataclass
class Dashboard:
    node: Organisation
    nominative: bool
    total: ProgressRow
    breakdowns: dict
    trend: list
    coverage: dict
    overdue: list
    # Aggregate view with too few people (or establishments, above a GHT): no figure at all.
    masked: bool = False


def dashboard(node: Organisation, *, nominative: bool, today: dt.date | None = None) -> Dashboard:
    """Everything the progress page shows, in a constant number of queries whatever the size.

    Nominative (the "view" role): every group and the overdue list. Aggregate only (regional
    and national analysts): groups of fewer than SMALL_CELL people masked with their
    complement, no list of people; above a GHT, per job family only and nothing at all when
    fewer than SMALL_CELL establishments have assignments (decisions 0341, 0431, 0532)."""
    today = today or timezone.localdate()
    wide = node.kind in (Kind.REGION, Kind.NATIONAL)
    groupings = ["job_family"] if wide and not nominative else ["service", "job_family", "site"]
    now = timezone.now()
    fine = _fine_counts(node, None, today, now - COVERAGE_PERIOD, people=not nominative)
    tables = breakdowns(node, groupings, today=today, fine=fine)
    total = total_row(tables["job_family"])  # a person has one job family: people add up
    quizzes = {
        "passed": sum(row["passed_recent"] for row in fine),
        "failed": sum(row["failed_recent"] for row in fine),
    }
    masked = False
    if not nominative:
        tables = {key: suppress(rows) for key, rows in tables.items()}
        masked = total.people < SMALL_CELL
        if wide and not masked:
            establishments = (
                _tallies(node).filter(count__gt=0).values("establishment_id").distinct().count()
            )
            masked = establishments < SMALL_CELL
        if masked:
            total = total.hidden()
            tables = {key: [row.hidden() for row in rows] for key, rows in tables.items()}
    return Dashboard(
        node=node,
        nominative=nominative,
        total=total,
        breakdowns=tables,
        trend=[] if masked else trend(node, today=today),
        coverage={} if masked else coverage(node, now=now, quizzes=quizzes),
        overdue=list(overdue(node, today=today)) if nominative else [],
        masked=masked,
    )


# Coverage and facts ------------------------------------------------------------------------------
def coverage(organisation: Organisation, *, now=None, quizzes: dict | None = None) -> dict:
    """Share of active staff with a module completed/passed or a session attended in the last
    twelve months; pass rate of the quizzes of that period: passed then, or failed on an
    assignment of that period (two queries; one when the quiz counts are given)."""
    now = now or timezone.now()
    since = now - COVERAGE_PERIOD
    if organisation.kind == Kind.ESTABLISHMENT:
        staff = StaffMember.objects.filter(establishment_id=organisation.pk, active=True)
    else:
        staff = StaffMember.objects.filter(
            establishment__path__startswith=organisation.path, active=True
        )
    done_recently = Assignment.objects.filter(
        staff_id=OuterRef("pk"), state__in=DONE_STATES, completed_at__gte=since
    )
    attended_recently = SessionParticipant.objects.filter(
        staff_id=OuterRef("pk"), attendance=Attendance.PRESENT, session__starts_at__gte=since
    )
    counts = staff.aggregate(
        total=Count("pk"),
        trained=Count("pk", filter=Q(Exists(done_recently)) | Q(Exists(attended_recently))),
    )
    total, trained = counts["total"], counts["trained"]
    if quizzes is None:
        quizzes = _assignments(organisation).aggregate(
            passed=Count("pk", filter=Q(state=State.PASSED, completed_at__gte=since)),
            failed=Count("pk", filter=Q(state=State.FAILED, assigned_at__gte=since)),
        )
    taken = quizzes["passed"] + quizzes["failed"]
    return {
        "since": timezone.localdate(since),
        "staff": total,
        "trained": trained,
        "coverage": round(100 * trained / total, 1) if total else None,
        "passed": quizzes["passed"],
        "failed": quizzes["failed"],
        "pass_rate": round(100 * quizzes["passed"] / taken, 1) if taken else None,
    }


def _coverage_fact(establishment: Organisation, source_key: str, summary: str, figures: dict):
    from hygie.assessments.services import record_fact

    return record_fact(
        establishment,
        "awareness.campaign",
        source_key=source_key,
        occurred_on=timezone.localdate(),
        summary=summary,
        value=figures["coverage"],
        url=reverse("awareness:progress", args=[establishment.pk]),
        details={
            "staff": figures["staff"],
            "trained": figures["trained"],
            "coverage": figures["coverage"],
            "pass_rate": figures["pass_rate"],
            "computed_on": timezone.localdate().isoformat(),
        },
    )


def _coverage_summary(figures: dict) -> str:
    return _(
        "Sensibilisation sur 12 mois : %(trained)s personnes formées sur %(staff)s "
        "(%(coverage)s %%), taux de réussite aux quiz %(pass_rate)s."
    ) % {
        "trained": figures["trained"],
        "staff": figures["staff"],
        "coverage": figures["coverage"] if figures["coverage"] is not None else "—",
        "pass_rate": f"{figures['pass_rate']} %" if figures["pass_rate"] is not None else "—",
    }


def record_campaign_facts(campaign: Campaign) -> list:
    """On close: one fact per establishment the campaign reached, valued with its coverage."""
    establishments = Organisation.objects.filter(
        pk__in=campaign.assignments.values("establishment_id")
    )
    facts = []
    for establishment in establishments:
        figures = coverage(establishment)
        if not figures["staff"]:
            continue
        mine = campaign.assignments.filter(establishment=establishment).aggregate(
            assigned=Count("pk"), done=Count("pk", filter=Q(state__in=DONE_STATES))
        )
        summary = _(
            "Campagne « %(name)s » clôturée : %(done)s modules terminés sur %(assigned)s. "
        ) % {"name": campaign.name, **mine} + _coverage_summary(figures)
        facts.append(_coverage_fact(establishment, f"campaign-{campaign.pk}", summary, figures))
    return facts


def refresh_coverage_facts(now=None) -> int:
    """Housekeeping: each establishment with training activity gets this year's coverage fact,
    recomputed once a day."""
    from hygie.assessments.models import Fact

    today = timezone.localdate(now)
    key = f"coverage-{today.year}"
    active = set(
        Assignment.objects.order_by().values_list("establishment_id", flat=True).distinct()
    )
    active |= set(
        SessionParticipant.objects.order_by()
        .values_list("staff__establishment_id", flat=True)
        .distinct()
    )
    fresh = {
        organisation_id
        for organisation_id, details in Fact.objects.filter(
            source="awareness.campaign", source_key=key, organisation_id__in=active
        ).values_list("organisation_id", "details")
        if (details or {}).get("computed_on") == today.isoformat()
    }
    refreshed = 0
    for establishment in Organisation.objects.filter(
        pk__in=active - fresh, kind=Kind.ESTABLISHMENT
    ):
        figures = coverage(establishment, now=now)
        if not figures["staff"]:
            continue
        _coverage_fact(establishment, key, _coverage_summary(figures), figures)
        refreshed += 1
    return refreshed


# xAPI statements ---------------------------------------------------------------------------------
ADL_VERBS = {
    "completed": "a terminé",
    "passed": "a réussi",
    "failed": "a échoué",
    "attended": "a participé à",
}


def actor_name(staff_id: int) -> str:
    """A stable pseudonym for a person in the LRS (decision 0534): an HMAC of the staff id under
    a key derived from SECRET_KEY, so the LRS never holds a name or an e-mail address."""
    key = hashlib.sha256(b"hygie-xapi-actor:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"staff:{staff_id}".encode(), hashlib.sha256).hexdigest()[:32]


def activity_id(kind: str, key: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/xapi/activities/{kind}/{key}"


def record_statement(assignment_or_participant, verb: str, *, result: dict | None = None):
    """Queue one xAPI 1.0.3 statement in the outbox (`xapi.push_pending` delivers it)."""
    if verb not in ADL_VERBS:
        raise ValueError(f"unknown xAPI verb {verb!r}")
    base = settings.BASE_URL.rstrip("/")
    statement_id = uuid.uuid4()
    subject = assignment_or_participant
    if isinstance(subject, Assignment):
        staff_id, establishment_id = subject.staff_id, subject.establishment_id
        module = subject.module
        target = {
            "objectType": "Activity",
            "id": activity_id("module", module.slug),
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/module",
                "name": {"fr-FR": module.title},
                **({"description": {"fr-FR": module.summary}} if module.summary else {}),
            },
        }
        derived = _assignment_result(subject, verb)
        when = subject.completed_at or timezone.now()
        extensions = {f"{base}/xapi/extensions/module-version": subject.module_version}
        grouping = (
            [{"id": activity_id("campaign", str(subject.campaign_id))}]
            if subject.campaign_id
            else []
        )
    else:
        session = subject.session
        staff_id, establishment_id = subject.staff_id, subject.staff.establishment_id
        target = {
            "objectType": "Activity",
            "id": activity_id("session", str(session.uid)),
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/meeting",
                "name": {"fr-FR": session.title},
            },
        }
        derived = {"completion": True} if verb == "attended" else {}
        when = subject.attendance_at or session.ends_at
        extensions = {}
        grouping = []
    if result is not None:
        derived = {**derived, **_result_from(result)}
    context = {"platform": "Hygie", "language": "fr-FR"}
    if extensions:
        context["extensions"] = extensions
    if grouping:
        context["contextActivities"] = {"grouping": grouping}
    body = {
        "id": str(statement_id),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": base + "/", "name": actor_name(staff_id)},
        },
        "verb": {
            "id": f"http://adlnet.gov/expapi/verbs/{verb}",
            "display": {"en-US": verb, "fr-FR": ADL_VERBS[verb]},
        },
        "object": target,
        "context": context,
        "timestamp": when.isoformat(),
    }
    if derived:
        body["result"] = derived
    return Statement.objects.create(
        id=statement_id, establishment_id=establishment_id, statement=body
    )


def _score(raw: int) -> dict:
    return {"scaled": round(raw / 100, 4), "raw": raw, "min": 0, "max": 100}


def _assignment_result(assignment: Assignment, verb: str) -> dict:
    result: dict = {}
    if assignment.best_score is not None and verb in ("passed", "failed", "completed"):
        result["score"] = _score(assignment.best_score)
    if verb in ("passed", "failed"):
        result["success"] = verb == "passed"
    result["completion"] = verb in ("completed", "passed")
    return result


def _result_from(given: dict) -> dict:
    """Accepts {"score": 80, "success": True, "completion": True} or an xAPI result."""
    result = dict(given)
    if isinstance(result.get("score"), int | float):
        result["score"] = _score(int(result["score"]))
    return result
