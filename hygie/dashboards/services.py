"""Consolidated dashboards: one framework's figures for an establishment, a GHT, a region, France.

Every figure comes from the *latest* campaign of each establishment under the node
(docs/decisions/0340-dashboard-figures.md). The number of SQL queries depends on the level,
never on how many establishments or answers there are:

1. the establishments under the node;
2. (region and national levels) the GHTs and regions under the node, to name the groups;
3. the framework's themes and measures;
4. the latest campaign of each establishment (a correlated subquery on `Campaign.starts_on`);
5. theme scores summed per member (GHT) or per parent (region, national), in SQL;
6. answers to the priority measures counted per result, in SQL;
7. the mean score per quarter (or year) of every campaign.

Region and national levels are aggregate only: no establishment is named and any group of
fewer than `SMALL_CELL` establishments is masked (docs/decisions/0341-small-cell-suppression.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace

from django.db.models import Avg, Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncQuarter, TruncYear
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.assessments.models import Answer, Campaign, Result, ThemeScore
from hygie.frameworks.models import Framework
from hygie.orgs.models import Category, Kind, Organisation

# Groups (GHT, category, region, or the whole level) smaller than this are not shown at the
# region and national levels.
SMALL_CELL = 5
# Measures weighing at least this are the priority measures (the authored frameworks give 3).
PRIORITY_WEIGHT = 3
# An establishment lags when its score is this many points below its group's mean…
LAG_MARGIN = 15.0
# …or when its latest campaign started longer ago than this (or it has none).
STALE_AFTER = dt.timedelta(days=365)

NOMINATIVE_LEVELS = {Kind.ESTABLISHMENT: "establishment", Kind.GHT: "ght"}
AGGREGATE_LEVELS = {Kind.REGION: "region", Kind.NATIONAL: "national"}
LEVELS = {**NOMINATIVE_LEVELS, **AGGREGATE_LEVELS}


def masked_text() -> str:
    return _("moins de 5 établissements : masqué")


@dataclass
class Cell:
    """A mean over `count` establishments; `masked` when too few to be shown."""

    total: float = 0.0
    count: int = 0
    masked: bool = False

    def add(self, total: float, count: int) -> None:
        self.total += total
        self.count += count

    @property
    def value(self) -> float | None:
        if self.masked or not self.count:
            return None
        return round(self.total / self.count, 1)

    def mask_below(self, threshold: int) -> Cell:
        self.masked = self.count < threshold
        return self


@dataclass
class Theme:
    pk: int
    ref_id: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.ref_id} {self.name}".strip()


@dataclass
class Measure:
    pk: int
    ref_id: str
    name: str
    theme_id: int | None
    weight: int

    @property
    def label(self) -> str:
        return f"{self.ref_id} {self.name}".strip()


@dataclass
class ThemeFigure:
    theme: Theme
    score: Cell
    maturity: Cell


@dataclass
class HeatRow:
    """A member (GHT level) or a group (GHT / region at the aggregate levels) across themes."""

    label: str
    establishments: int
    scores: list[Cell]
    masked: bool = False
    org_id: int | None = None


@dataclass
class Adoption:
    measure: Measure
    compliant: int
    partial: int
    applicable: int  # establishments whose latest campaign has the measure, N/A excluded
    masked: bool = False

    @property
    def rate(self) -> float | None:
        if self.masked or not self.applicable:
            return None
        return round(100 * self.compliant / self.applicable, 1)

    @property
    def partial_rate(self) -> float | None:
        if self.masked or not self.applicable:
            return None
        return round(100 * self.partial / self.applicable, 1)


@dataclass
class TrendPoint:
    period: dt.date
    label: str
    score: Cell


@dataclass
class Lagging:
    """An establishment behind its group (nominative levels only)."""

    org_id: int
    name: str
    score: float | None
    last_campaign_on: dt.date | None
    stale: bool
    below_mean: bool
    themes: list[str] = field(default_factory=list)  # themes below the group's theme mean


@dataclass
class GroupRow:
    """A group of establishments at the aggregate levels (GHT, region, category)."""

    label: str
    establishments: int
    assessed: int
    score: Cell
    lagging: int
    masked: bool = False


@dataclass
class Dashboard:
    node: Organisation
    framework: Framework
    level: str
    period: str
    today: dt.date
    establishment_count: int = 0
    assessed_count: int = 0
    stale_count: int = 0
    score: Cell = field(default_factory=Cell)
    maturity: Cell = field(default_factory=Cell)
    themes: list[Theme] = field(default_factory=list)
    theme_figures: list[ThemeFigure] = field(default_factory=list)
    heatmap: list[HeatRow] = field(default_factory=list)
    adoption: list[Adoption] = field(default_factory=list)
    priority_only: bool = True
    trend: list[TrendPoint] = field(default_factory=list)
    lagging: list[Lagging] = field(default_factory=list)
    groups: list[GroupRow] = field(default_factory=list)
    categories: list[GroupRow] = field(default_factory=list)

    @property
    def nominative(self) -> bool:
        return self.level in NOMINATIVE_LEVELS.values()

    @property
    def masked(self) -> bool:
        """The whole level is too small to show anything (aggregate levels only)."""
        return not self.nominative and self.establishment_count < SMALL_CELL


def latest_campaigns(node: Organisation, framework: Framework):
    """The newest campaign of each establishment under `node` on `framework` (one queryset)."""
    newest = (
        Campaign.objects.filter(organisation=OuterRef("organisation"), framework=framework)
        .order_by("-starts_on", "-pk")
        .values("pk")[:1]
    )
    return Campaign.objects.filter(
        framework=framework,
        organisation__kind=Kind.ESTABLISHMENT,
        organisation__path__startswith=node.path,
        pk=Subquery(newest),
    )


def build_dashboard(
    node: Organisation, framework: Framework, *, period: str = "quarter", today=None
) -> Dashboard:
    level = LEVELS[node.kind]
    dash = Dashboard(
        node=node,
        framework=framework,
        level=level,
        period=period,
        today=today or timezone.localdate(),
    )
    threshold = 0 if dash.nominative else SMALL_CELL

    # 1. Establishments under the node.
    establishments = list(
        Organisation.objects.filter(kind=Kind.ESTABLISHMENT, path__startswith=node.path)
        .order_by("name", "pk")
        .values_list("pk", "name", "short_name", "parent_id", "category")
    )
    dash.establishment_count = len(establishments)
    names = {pk: short or name for pk, name, short, _parent, _cat in establishments}

    # 2. The groups that aggregate levels show: GHTs (region), regions (national).
    group_of: dict[int, tuple[int, str]] = {}  # establishment parent → (group key, label)
    group_order: list[tuple[int, str]] = []
    if not dash.nominative:
        nodes = list(
            Organisation.objects.filter(
                path__startswith=node.path, kind__in=[Kind.REGION, Kind.GHT]
            )
            .order_by("name", "pk")
            .values_list("pk", "name", "short_name", "kind", "parent_id")
        )
        if level == "region":
            out_of_ght = (node.pk, _("Établissements hors GHT"))
            for pk, name, short, kind, _parent in nodes:
                if kind == Kind.GHT:
                    group_of[pk] = (pk, short or name)
                    group_order.append(group_of[pk])
            group_of[node.pk] = out_of_ght
            group_order.append(out_of_ght)
        else:
            regions = {
                pk: (pk, short or name) for pk, name, short, kind, _ in nodes if kind == Kind.REGION
            }
            group_order = list(regions.values())
            for pk, _name, _short, kind, parent in nodes:
                group_of[pk] = regions[pk] if kind == Kind.REGION else regions.get(parent)

    # 3. Themes and measures.
    themes: list[Theme] = []
    measures: list[Measure] = []
    for pk, ref_id, name, depth, assessable, theme_id, weight in (
        framework.nodes.filter(Q(depth=1) | Q(assessable=True))
        .order_by("order")
        .values_list("pk", "ref_id", "name", "depth", "assessable", "theme_id", "weight")
    ):
        if depth == 1:
            themes.append(Theme(pk, ref_id, name))
        if assessable:
            measures.append(Measure(pk, ref_id, name, theme_id, weight))
    dash.themes = themes
    theme_index = {theme.pk: index for index, theme in enumerate(themes)}

    # 4. Latest campaign of each establishment.
    latest = latest_campaigns(node, framework)
    campaigns = {
        org_id: (starts_on, score, maturity)
        for org_id, starts_on, score, maturity in latest.values_list(
            "organisation_id", "starts_on", "score", "maturity"
        )
    }
    dash.assessed_count = len(campaigns)
    stale_before = dash.today - STALE_AFTER
    for org_id, _n, _s, _p, _c in establishments:
        started = campaigns.get(org_id, (None,))[0]
        if started is None or started < stale_before:
            dash.stale_count += 1
    scores = [score for _started, score, _m in campaigns.values() if score is not None]
    maturities = [m for _started, _score, m in campaigns.values() if m is not None]
    dash.score = Cell(sum(scores), len(scores)).mask_below(threshold)
    dash.maturity = Cell(sum(maturities), len(maturities)).mask_below(threshold)

    # 5. Theme scores per member (nominative levels) or per parent node (aggregate levels).
    key = "campaign__organisation_id" if dash.nominative else "campaign__organisation__parent_id"
    per_row: dict[int, dict[int, tuple[Cell, Cell]]] = defaultdict(dict)
    for row_key, theme_id, score_sum, score_n, maturity_sum, maturity_n in (
        ThemeScore.objects.filter(campaign__in=latest.values("pk"))
        .values(key, "theme_id")
        .annotate(
            score_sum=Sum("score"),
            score_n=Count("score"),
            maturity_sum=Sum("maturity"),
            maturity_n=Count("maturity"),
        )
        .values_list(key, "theme_id", "score_sum", "score_n", "maturity_sum", "maturity_n")
        .order_by()
    ):
        per_row[row_key][theme_id] = (
            Cell(score_sum or 0.0, score_n),
            Cell(maturity_sum or 0.0, maturity_n),
        )
    overall = {theme.pk: (Cell(), Cell()) for theme in themes}
    for cells in per_row.values():
        for theme_id, (score, maturity) in cells.items():
            if theme_id in overall:
                overall[theme_id][0].add(score.total, score.count)
                overall[theme_id][1].add(maturity.total, maturity.count)
    dash.theme_figures = [
        ThemeFigure(
            theme,
            overall[theme.pk][0].mask_below(threshold),
            overall[theme.pk][1].mask_below(threshold),
        )
        for theme in themes
    ]

    # Heatmap rows: members (GHT level) or groups (aggregate levels).
    if level == "ght":
        for org_id, _name, _short, _parent, _cat in establishments:
            cells = per_row.get(org_id, {})
            dash.heatmap.append(
                HeatRow(
                    label=names[org_id],
                    establishments=1,
                    org_id=org_id,
                    scores=[cells.get(theme.pk, (Cell(), None))[0] for theme in themes],
                )
            )
    elif not dash.nominative:
        members = defaultdict(int)
        for _pk, _name, _short, parent, _cat in establishments:
            if parent in group_of:
                members[group_of[parent]] += 1
        rows = {group: [Cell() for _theme in themes] for group in group_order}
        for parent, cells in per_row.items():
            group = group_of.get(parent)
            if group is None:
                continue
            for theme_id, (score, _maturity) in cells.items():
                if theme_id in theme_index:
                    rows[group][theme_index[theme_id]].add(score.total, score.count)
        for group in group_order:
            if not members[group]:
                continue
            masked = members[group] < SMALL_CELL
            dash.heatmap.append(
                HeatRow(
                    label=group[1],
                    establishments=members[group],
                    masked=masked,
                    scores=[
                        cell.mask_below(SMALL_CELL) if not masked else Cell(masked=True)
                        for cell in rows[group]
                    ],
                )
            )

    if not dash.nominative:
        dash.heatmap = complementary_suppression(dash.heatmap)

    # 6. Adoption of the priority measures.
    priority = [measure for measure in measures if measure.weight >= PRIORITY_WEIGHT]
    dash.priority_only = bool(priority)
    chosen = priority or measures
    # The latest campaigns' answers to the chosen measures, counted per measure. `node_id + 0`
    # keeps SQLite from walking the node index across every campaign ever run: it reads each
    # latest campaign's answers instead (2.5× faster at 3,000 establishments; neutral on
    # PostgreSQL).
    answers = Answer.objects.filter(campaign__in=latest.values("pk"))
    if priority:
        answers = answers.annotate(measure=F("node_id") + 0).filter(
            measure__in=[m.pk for m in priority]
        )
    counts = {
        node_id: (compliant, partial, applicable)
        for node_id, compliant, partial, applicable in answers.values("node_id")
        .annotate(
            compliant=Count("pk", filter=Q(result=Result.COMPLIANT)),
            partial=Count("pk", filter=Q(result=Result.PARTIAL)),
            applicable=Count("pk", filter=~Q(result=Result.NOT_APPLICABLE)),
        )
        .values_list("node_id", "compliant", "partial", "applicable")
        .order_by()
    }
    for measure in chosen:
        compliant, partial, applicable = counts.get(measure.pk, (0, 0, 0))
        if not applicable and measure.pk not in counts:
            continue  # not assessed by establishments (a GHT-level measure, say)
        dash.adoption.append(
            Adoption(measure, compliant, partial, applicable, masked=applicable < threshold)
        )

    # 7. Trend: mean score of every campaign per period.
    trunc = TruncYear if period == "year" else TruncQuarter
    for start, mean, count in (
        Campaign.objects.filter(
            framework=framework,
            organisation__kind=Kind.ESTABLISHMENT,
            organisation__path__startswith=node.path,
            score__isnull=False,
        )
        .annotate(period=trunc("starts_on"))
        .values("period")
        .annotate(mean=Avg("score"), count=Count("organisation", distinct=True))
        .values_list("period", "mean", "count")
        .order_by("period")
    ):
        if isinstance(start, dt.datetime):
            start = start.date()
        label = (
            f"{start:%Y}"
            if period == "year"
            else _("%(year)s T%(quarter)s")
            % {"year": start.year, "quarter": (start.month + 2) // 3}
        )
        cell = Cell((mean or 0.0) * count, count).mask_below(threshold)
        dash.trend.append(TrendPoint(start, label, cell))

    # Lagging establishments.
    lagging_ids = _lagging(dash, establishments, campaigns, per_row, stale_before, names)
    if not dash.nominative:
        _aggregate_groups(dash, establishments, campaigns, group_of, group_order, lagging_ids)
    return dash


def _lagging(dash, establishments, campaigns, per_row, stale_before, names) -> set[int]:
    """Establishments without a campaign in the last 12 months or well below the mean.

    The mean is the whole dashboard's (the GHT's, the region's…), computed even when it is
    masked: only counts of lagging establishments leave the aggregate levels."""
    mean = dash.score.total / dash.score.count if dash.score.count else None
    theme_means = {
        figure.theme.pk: figure.score.total / figure.score.count
        for figure in dash.theme_figures
        if figure.score.count
    }
    found = set()
    for org_id, _name, _short, _parent, _cat in establishments:
        started, score, _maturity = campaigns.get(org_id, (None, None, None))
        stale = started is None or started < stale_before
        below = (
            dash.level != "establishment"
            and score is not None
            and mean is not None
            and score < mean - LAG_MARGIN
        )
        if not (stale or below):
            continue
        found.add(org_id)
        if not dash.nominative:
            continue
        cells = per_row.get(org_id, {})
        behind = []
        if dash.level == "ght":
            for theme in dash.themes:
                score_cell = cells.get(theme.pk, (Cell(), None))[0]
                if (
                    score_cell.count
                    and theme.pk in theme_means
                    and score_cell.total / score_cell.count < theme_means[theme.pk] - LAG_MARGIN
                ):
                    behind.append(theme.label)
        dash.lagging.append(Lagging(org_id, names[org_id], score, started, stale, below, behind))
    return found


def _aggregate_groups(dash, establishments, campaigns, group_of, group_order, lagging_ids):
    """Per GHT (region) or per region (national), and per category: counts and mean scores."""
    by_group: dict = defaultdict(lambda: [0, Cell(), 0])
    by_category: dict = defaultdict(lambda: [0, Cell(), 0])
    for org_id, _name, _short, parent, category in establishments:
        score = campaigns.get(org_id, (None, None, None))[1]
        for bucket in (by_group[group_of.get(parent)], by_category[category or Category.OTHER]):
            bucket[0] += 1
            if score is not None:
                bucket[1].add(score, 1)
            if org_id in lagging_ids:
                bucket[2] += 1
    for group in group_order:
        count, score, lagging = by_group.get(group, (0, Cell(), 0))
        if count:
            dash.groups.append(_group_row(group[1], count, score, lagging))
    for category, label in Category.choices:
        if category in by_category:
            count, score, lagging = by_category[category]
            dash.categories.append(_group_row(str(label), count, score, lagging))
    dash.groups = complementary_suppression(dash.groups)
    dash.categories = complementary_suppression(dash.categories)


def complementary_suppression(rows: list) -> list:
    """When exactly one row of a level is masked, mask the next smallest one as well: otherwise
    the masked row's figures follow from the level's total minus the rows shown."""
    masked = [row for row in rows if row.masked]
    shown = [row for row in rows if not row.masked]
    if len(masked) != 1 or not shown:
        return rows
    smallest = min(shown, key=lambda row: row.establishments)
    return [_masked_copy(row) if row is smallest else row for row in rows]


def _masked_copy(row):
    if isinstance(row, GroupRow):
        return replace(row, assessed=0, score=Cell(masked=True), lagging=0, masked=True)
    return replace(row, scores=[Cell(masked=True) for _cell in row.scores], masked=True)


def _group_row(label, count, score, lagging) -> GroupRow:
    masked = count < SMALL_CELL
    return GroupRow(
        label=label,
        establishments=count,
        assessed=score.count if not masked else 0,
        score=score.mask_below(SMALL_CELL) if not masked else Cell(masked=True),
        lagging=lagging if not masked else 0,
        masked=masked,
    )
