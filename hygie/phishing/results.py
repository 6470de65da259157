"""Figures of attack simulations: one campaign per service, job family, site and establishment,
and an organisation's campaigns over time (decisions 0430 and 0431).

Everything counts people, not events: a recipient's first open, click, submission and report
are dated on the recipient by `tracking.record` only for a person, never for a mail scanner, so
automated events never reach these figures. Counts come from GROUP BY queries and medians from
one pass over the people who clicked or reported: the number of SQL queries is fixed, whatever
the size of the campaign.

No group of fewer than `SMALL_CELL` people is shown, and when one group of a breakdown is
hidden the next smallest is hidden too (complementary suppression, as on the dashboards,
decision 0341), first among the services of a site (sites among the establishments of a GHT),
then across the whole breakdown: a hidden figure never follows from a total minus the figures
shown.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, F, Field, Func, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hygie.dashboards.services import SMALL_CELL
from hygie.orgs.models import JobFamily, Kind, Organisation
from hygie.phishing.models import CampaignStatus, Recipient, Simulation

# Breakdowns of one campaign: (key, title, recipient column).
DIMENSIONS = (
    ("service", gettext_lazy("Par service"), "service_id"),
    ("job_family", gettext_lazy("Par famille de métiers"), "job_family"),
    ("site", gettext_lazy("Par site"), "site_id"),
    ("establishment", gettext_lazy("Par établissement"), "establishment_id"),
)
COLUMNS = tuple(column for _key, _title, column in DIMENSIONS)
# Campaigns whose messages went out: the ones with results to show and compare.
WITH_RESULTS = (CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.RUNNING,
                CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)  # fmt: skip
# How many of an organisation's latest campaigns the trend and repeat clickers look at.
TREND_CAMPAIGNS = 12
REPEAT_CAMPAIGNS = 5


def _counts():
    """Counts of people per step; Count(column) counts the non-null dates."""
    return {
        "targeted": Count("pk"),
        "sent": Count("sent_at"),
        "opened": Count("first_open_at"),
        "clicked": Count("first_click_at"),
        "submitted": Count("submitted_at"),
        "reported": Count("reported_at"),
    }


COUNTED = ("targeted", "sent", "opened", "clicked", "submitted", "reported")


@dataclass
class Figures:
    """One group's figures; rates are shares of the people the message reached."""

    label: str
    key: object = None
    targeted: int = 0
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    submitted: int = 0
    reported: int = 0
    click_median: timedelta | None = None
    report_median: timedelta | None = None
    masked: bool = False
    parent: object = None  # the site of a service, the establishment of a site
    establishments: int = 0  # how many establishments the group draws on (analysts' overview)

    def add(self, row: dict) -> None:
        for name in COUNTED:
            setattr(self, name, getattr(self, name) + row[name])

    def _rate(self, count: int) -> float | None:
        if self.masked or not self.sent:
            return None
        return round(100 * count / self.sent, 1)

    @property
    def open_rate(self) -> float | None:
        return self._rate(self.opened)

    @property
    def click_rate(self) -> float | None:
        return self._rate(self.clicked)

    @property
    def submit_rate(self) -> float | None:
        return self._rate(self.submitted)

    @property
    def report_rate(self) -> float | None:
        return self._rate(self.reported)

    @property
    def click_delay(self) -> str:
        return delay_text(self.click_median)

    @property
    def report_delay(self) -> str:
        return delay_text(self.report_median)

    def hidden(self) -> Figures:
        """The same group with nothing but its label: what a masked row shows."""
        return Figures(label=self.label, key=self.key, parent=self.parent, masked=True)


@dataclass
class Breakdown:
    key: str
    title: str
    rows: list[Figures] = field(default_factory=list)

    @property
    def masked_count(self) -> int:
        return sum(1 for row in self.rows if row.masked)


@dataclass
class SimulationResults:
    simulation: Simulation
    total: Figures
    breakdowns: list[Breakdown] = field(default_factory=list)

    @property
    def too_small(self) -> bool:
        return self.total.masked

    def breakdown(self, key: str) -> Breakdown | None:
        return next((b for b in self.breakdowns if b.key == key), None)


def delay_text(delay: timedelta | None) -> str:
    """A delay as people say it: "45 s", "12 min", "3 h 05", "2 j 4 h"."""
    if delay is None:
        return "—"
    seconds = int(delay.total_seconds())
    if seconds < 60:
        return _("%(n)s s") % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(n)s min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)s h %(m)02d") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)s j %(h)s h") % {"d": days, "h": hours}


def median(values: list[int]) -> timedelta | None:
    """The median of delays in seconds."""
    if not values:
        return None
    return timedelta(seconds=round(statistics.median(values)))


class Seconds(Func):
    """Whole seconds from `start` to `end` (NULL when either is), computed by the database."""

    # A plain Field: the database already returns integers, and an IntegerField would add a
    # Python converter call per row (a tenth of the page's time at 100,000 recipients).
    output_field = Field()

    def __init__(self, end, start):
        super().__init__(F(end), F(start))

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND((julianday(%(expressions)s)) * 86400) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND(EXTRACT(EPOCH FROM (%(expressions)s))) AS INTEGER)",
            arg_joiner=" - ",
            **extra,
        )


def suppress(rows: list[Figures]) -> list[Figures]:
    """Mask every group under SMALL_CELL people, then the complementary groups: within each
    parent (services of one site), then across the breakdown."""
    rows = [row.hidden() if row.targeted < SMALL_CELL else row for row in rows]
    by_parent: dict[object, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if row.parent is not None:
            by_parent[row.parent].append(index)
    for indexes in by_parent.values():
        _mask_complement(rows, indexes)
    _mask_complement(rows, list(range(len(rows))))
    return rows


def _mask_complement(rows: list[Figures], indexes: list[int]) -> None:
    masked = [i for i in indexes if rows[i].masked]
    shown = [i for i in indexes if not rows[i].masked]
    if len(masked) == 1 and shown:
        smallest = min(shown, key=lambda i: (rows[i].targeted, rows[i].label))
        rows[smallest] = rows[smallest].hidden()


def _labels(ids: set) -> dict[int, tuple[str, int | None]]:
    """Names (short name first) and parents of the services, sites and establishments met."""
    ids.discard(None)
    if not ids:
        return {}
    return {
        pk: (short or name, parent)
        for pk, name, short, parent in Organisation.objects.filter(pk__in=ids).values_list(
            "pk", "name", "short_name", "parent_id"
        )
    }


def _label(dimension: str, value, labels) -> str:
    if value in (None, ""):
        return _("Non renseigné")
    if dimension == "job_family":
        return str(dict(JobFamily.choices).get(value, value))
    return labels.get(value, (_("Unité supprimée"), None))[0]


def simulation_results(simulation: Simulation) -> SimulationResults:
    """One campaign's figures: three queries whatever its size (counts per combination of
    service, job family, site and establishment; delays of the people who acted; names)."""
    recipients = Recipient.objects.filter(simulation=simulation).order_by()
    combos = list(recipients.values(*COLUMNS).annotate(**_counts()))
    delays = recipients.filter(sent_at__isnull=False).filter(
        Q(first_click_at__isnull=False) | Q(reported_at__isnull=False)
    )
    dimensions = [d for d in DIMENSIONS if d[0] != "establishment"]
    if simulation.organisation.kind == Kind.GHT:
        dimensions = list(DIMENSIONS)

    total = Figures(label=_("Ensemble de la campagne"))
    groups: dict[str, dict[object, Figures]] = {key: {} for key, _t, _c in dimensions}
    ids: set = set()
    for row in combos:
        total.add(row)
        for key, _title, column in dimensions:
            figures = groups[key].setdefault(row[column], Figures(label="", key=row[column]))
            figures.add(row)
            if key != "job_family":
                ids.add(row[column])

    # Delays in whole seconds computed by the database: converting 100,000 timestamps to
    # Python datetimes would cost more than the rest of the page. Collected per combination,
    # then merged per group.
    per_combo: dict[tuple, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for *keys, click, report in delays.values_list(
        *COLUMNS,
        Seconds("first_click_at", "sent_at"),
        Seconds("reported_at", "sent_at"),
    ):
        bucket = per_combo[tuple(keys)]
        if click is not None:
            bucket[0].append(max(click, 0))
        if report is not None:
            bucket[1].append(max(report, 0))
    clicks: dict[tuple, list[int]] = defaultdict(list)
    reports: dict[tuple, list[int]] = defaultdict(list)
    for keys, (click_list, report_list) in per_combo.items():
        where = dict(zip(COLUMNS, keys, strict=True))
        for group in [("total", None)] + [(k, where[c]) for k, _t, c in dimensions]:
            clicks[group].extend(click_list)
            reports[group].extend(report_list)

    labels = _labels(ids)
    total.click_median = median(clicks[("total", None)])
    total.report_median = median(reports[("total", None)])
    if total.targeted < SMALL_CELL:
        total = total.hidden()
    results = SimulationResults(simulation=simulation, total=total)
    for key, title, _column in dimensions:
        rows = []
        for value, figures in groups[key].items():
            figures.label = _label(key, value, labels)
            if key in ("service", "site") and value is not None:
                figures.parent = labels.get(value, ("", None))[1]
            figures.click_median = median(clicks[(key, value)])
            figures.report_median = median(reports[(key, value)])
            rows.append(figures)
        rows.sort(key=lambda f: (f.key in (None, ""), f.label.lower()))
        results.breakdowns.append(Breakdown(key, str(title), suppress(rows)))
    if total.masked:
        for breakdown in results.breakdowns:
            breakdown.rows = [row.hidden() for row in breakdown.rows]
    return results


# Trend across campaigns ---------------------------------------------------------------------------
@dataclass
class CampaignPoint:
    simulation: Simulation
    figures: Figures
    services: dict[object, Figures] = field(default_factory=dict)


@dataclass
class Trend:
    points: list[CampaignPoint]
    services: list[tuple[object, str]]  # services shown in at least one campaign


def campaigns_with_results(organisation: Organisation, limit: int):
    """The organisation's latest campaigns whose messages went out, oldest first."""
    latest = list(
        Simulation.objects.filter(organisation=organisation, status__in=WITH_RESULTS)
        .exclude(launched_at__isnull=True)
        .order_by("-launched_at", "-pk")[:limit]
    )
    return latest[::-1]


def trend(organisation: Organisation, limit: int = TREND_CAMPAIGNS) -> Trend:
    """Click rate, report rate and time to report per campaign, and per service where the
    service had at least SMALL_CELL people targeted (four queries)."""
    simulations = campaigns_with_results(organisation, limit)
    ids = [s.pk for s in simulations]
    recipients = Recipient.objects.filter(simulation_id__in=ids).order_by()
    per_service: dict[int, dict[object, Figures]] = defaultdict(dict)
    service_ids: set = set()
    for row in recipients.values("simulation_id", "service_id").annotate(**_counts()):
        figures = Figures(label="", key=row["service_id"])
        figures.add(row)
        per_service[row["simulation_id"]][row["service_id"]] = figures
        service_ids.add(row["service_id"])
    reports: dict[tuple, list[int]] = defaultdict(list)
    for simulation_id, service_id, seconds in recipients.filter(
        sent_at__isnull=False, reported_at__isnull=False
    ).values_list("simulation_id", "service_id", Seconds("reported_at", "sent_at")):
        delay = max(seconds, 0)
        reports[(simulation_id, None)].append(delay)
        reports[(simulation_id, service_id)].append(delay)
    labels = _labels(set(service_ids))

    points = []
    shown: dict[object, str] = {}
    for simulation in simulations:
        total = Figures(label=simulation.name, key=simulation.pk)
        services = per_service.get(simulation.pk, {})
        for figures in services.values():
            total.add({name: getattr(figures, name) for name in COUNTED})
            figures.label = _label("service", figures.key, labels)
            figures.report_median = median(reports[(simulation.pk, figures.key)])
        total.report_median = median(reports[(simulation.pk, None)])
        if total.targeted < SMALL_CELL:
            total = total.hidden()
        rows = suppress(list(services.values())) if not total.masked else []
        kept = {row.key: row for row in rows if not row.masked}
        for key, row in kept.items():
            shown[key] = row.label
        points.append(CampaignPoint(simulation, total, kept))
    order = sorted(shown.items(), key=lambda item: (item[0] is None, item[1].lower()))
    return Trend(points=points, services=order)


# Repeat clickers ----------------------------------------------------------------------------------
@dataclass
class RepeatClicker:
    pseudonym: str
    service: str
    campaigns: int
    staff_id: int | None = None
    email: str = ""


@dataclass
class RepeatClickers:
    campaigns: list[Simulation]
    per_service: list[Figures]  # `clicked` = repeat clickers, `targeted` = people targeted
    people: list[RepeatClicker]

    @property
    def total(self) -> int:
        return len(self.people)


def identity(staff_id: int | None, email: str) -> str:
    """Who a recipient is across campaigns: the staff record, else the address."""
    return f"staff:{staff_id}" if staff_id else f"email:{email.strip().lower()}"


def repeat_clickers(organisation: Organisation, limit: int = REPEAT_CAMPAIGNS) -> RepeatClickers:
    """People who clicked in two or more of the organisation's last `limit` campaigns, counted
    per service (the service of their latest campaign) where the service is large enough."""
    from hygie.phishing.privacy import pseudonym

    simulations = campaigns_with_results(organisation, limit)
    ids = [s.pk for s in simulations]
    order = {pk: index for index, pk in enumerate(ids)}
    rows = Recipient.objects.filter(simulation_id__in=ids).order_by()
    people: dict[str, dict] = {}
    targeted: dict[object, set] = defaultdict(set)
    for simulation_id, staff_id, email, service_id, clicked in rows.values_list(
        "simulation_id", "staff_id", "email", "service_id", "first_click_at"
    ):
        who = identity(staff_id, email)
        targeted[service_id].add(who)
        if clicked is None:
            continue
        person = people.setdefault(
            who,
            {
                "campaigns": set(),
                "service": service_id,
                "latest": -1,
                "staff": staff_id,
                "email": email,
            },  # fmt: skip
        )
        person["campaigns"].add(simulation_id)
        if order[simulation_id] > person["latest"]:
            person["latest"] = order[simulation_id]
            person["service"] = service_id
    repeat = {who: p for who, p in people.items() if len(p["campaigns"]) >= 2}
    labels = _labels({p["service"] for p in repeat.values()} | set(targeted))
    per_service: dict[object, Figures] = {}
    for service_id, members in targeted.items():
        per_service[service_id] = Figures(
            label=_label("service", service_id, labels), key=service_id, targeted=len(members)
        )
    for person in repeat.values():
        per_service[person["service"]].clicked += 1
    rows_shown = suppress(
        sorted(per_service.values(), key=lambda f: (f.key is None, f.label.lower()))
    )
    listed = sorted(
        (
            RepeatClicker(
                pseudonym=pseudonym(organisation.pk, p["staff"], p["email"]),
                service=_label("service", p["service"], labels),
                campaigns=len(p["campaigns"]),
                staff_id=p["staff"],
                email=p["email"],
            )
            for p in repeat.values()
        ),
        key=lambda r: (-r.campaigns, r.service.lower(), r.pseudonym),
    )
    return RepeatClickers(campaigns=simulations, per_service=rows_shown, people=listed)


# Aggregate overview for regional and national analysts --------------------------------------------
OVERVIEW_PERIOD = timedelta(days=365)


@dataclass
class Overview:
    since: object
    total: Figures
    job_families: list[Figures]
    campaigns: int = 0


def regional_overview(node: Organisation, now=None) -> Overview:
    """Campaigns launched in the last year under a region or France, across establishments:
    no establishment named; a figure resting on fewer than SMALL_CELL establishments or
    people is masked, with complementary suppression across job families (three queries)."""
    from django.utils import timezone

    since = (now or timezone.now()) - OVERVIEW_PERIOD
    simulations = Simulation.objects.filter(
        organisation__path__startswith=node.path,
        status__in=WITH_RESULTS,
        launched_at__gte=since,
    )
    recipients = Recipient.objects.filter(simulation__in=simulations).order_by()
    total = Figures(label=_("Ensemble"))
    families: dict[str, Figures] = {}
    establishments: set = set()
    per_family_establishments: dict[str, set] = defaultdict(set)
    for row in recipients.values("establishment_id", "job_family").annotate(**_counts()):
        total.add(row)
        establishments.add(row["establishment_id"])
        family = row["job_family"]
        families.setdefault(family, Figures(label=_label("job_family", family, {}), key=family))
        families[family].add(row)
        per_family_establishments[family].add(row["establishment_id"])
    total.establishments = len(establishments - {None})
    total.report_median = median(
        [
            max(seconds, 0)
            for seconds in recipients.filter(
                sent_at__isnull=False, reported_at__isnull=False
            ).values_list(Seconds("reported_at", "sent_at"), flat=True)
        ]
    )
    campaigns = simulations.count()
    rows = []
    for family, figures in families.items():
        figures.establishments = len(per_family_establishments[family] - {None})
        rows.append(figures.hidden() if figures.establishments < SMALL_CELL else figures)
    rows.sort(key=lambda f: (f.key in (None, ""), f.label.lower()))
    if total.targeted < SMALL_CELL or total.establishments < SMALL_CELL:
        return Overview(since, total.hidden(), [row.hidden() for row in rows], campaigns)
    return Overview(since, total, suppress(rows), campaigns)
