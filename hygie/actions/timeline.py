"""Geometry of the plan's Gantt chart, drawn server-side as SVG (no script, no inline style)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats, timezone

from hygie.actions.models import ActionStatus
from hygie.actions.plan import PlanLine

LABEL_WIDTH = 300
CHART_WIDTH = 700
ROW_HEIGHT = 26
TOP = 30
BAR_HEIGHT = 14
# Fill colours by status (presentation attributes: allowed by the CSP, unlike style="").
COLOURS = {
    ActionStatus.TO_DO: "#90a4ae",
    ActionStatus.IN_PROGRESS: "#1f5f8b",
    ActionStatus.BLOCKED: "#c62828",
    ActionStatus.DONE: "#2e7d32",
    ActionStatus.CANCELLED: "#cfd8dc",
}


@dataclass
class Bar:
    line: PlanLine
    y: float
    x: float
    width: float
    progress_width: float
    colour: str
    label: str

    @property
    def text_y(self) -> float:
        return self.y + BAR_HEIGHT - 3


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    today_x: float | None
    width: int
    height: int
    label_width: int
    undated: list[PlanLine]
    start: dt.date | None
    end: dt.date | None

    @property
    def bar_height(self) -> int:
        return BAR_HEIGHT


def _month_starts(start: dt.date, end: dt.date):
    current = dt.date(start.year, start.month, 1)
    if current < start:
        current = _next_month(current)
    while current <= end:
        yield current
        current = _next_month(current)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def build_timeline(lines: list[PlanLine], today: dt.date | None = None) -> Chart:
    today = today or timezone.localdate()
    dated = [line for line in lines if line.item.due_on]
    undated = [line for line in lines if not line.item.due_on]
    width = LABEL_WIDTH + CHART_WIDTH + 10
    if not dated:
        return Chart([], [], None, width, TOP, LABEL_WIDTH, undated, None, None)
    start = min(min(line.start, line.item.due_on) for line in dated)
    end = max(line.item.due_on for line in dated)
    start = min(start, today) - dt.timedelta(days=7)
    end = max(end, today) + dt.timedelta(days=7)
    span = (end - start).days or 1

    def x_of(day: dt.date) -> float:
        return round(LABEL_WIDTH + (day - start).days / span * CHART_WIDTH, 1)

    bars = []
    for index, line in enumerate(dated):
        begin = min(line.start, line.item.due_on)
        x = x_of(begin)
        bar_width = max(x_of(line.item.due_on) - x, 3)
        title = line.item.title
        bars.append(
            Bar(
                line=line,
                y=TOP + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                x=x,
                width=round(bar_width, 1),
                progress_width=round(bar_width * line.progress / 100, 1),
                colour=COLOURS.get(line.status, COLOURS[ActionStatus.TO_DO]),
                label=title if len(title) <= 42 else title[:40] + "…",
            )
        )
    ticks = [Tick(x_of(day), formats.date_format(day, "M Y")) for day in _month_starts(start, end)]
    # Keep at most ~12 labelled ticks on long plans.
    step = max(1, len(ticks) // 12 + (1 if len(ticks) % 12 else 0))
    ticks = ticks[::step]
    height = TOP + len(dated) * ROW_HEIGHT + 10
    return Chart(bars, ticks, x_of(today), width, height, LABEL_WIDTH, undated, start, end)
