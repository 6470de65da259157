"""Server-rendered SVG charts: radar, heatmap, horizontal bars, trend line.

No JavaScript and no inline CSS (the Content-Security-Policy forbids it): colours are SVG
presentation attributes. Each chart has a <title> and says that the table next to it holds the
same figures; the page always renders that table.
"""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

FONT = 'font-family="system-ui, sans-serif"'
MASKED_FILL = "#d9dde1"


def _svg(template: str, *args) -> str:
    """str.format with every text argument escaped; numbers keep their format codes."""
    return template.format(*(escape(arg) if isinstance(arg, str) else arg for arg in args))


def _short(text: str, length: int = 32) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def score_colour(value: float | None) -> str:
    """Red (0) → amber (50) → green (100); grey when there is no figure."""
    if value is None:
        return MASKED_FILL
    value = max(0.0, min(100.0, value))
    low, mid, high = (192, 57, 43), (241, 196, 15), (39, 174, 96)
    start, end, ratio = (low, mid, value / 50) if value <= 50 else (mid, high, (value - 50) / 50)
    red, green, blue = (round(a + (b - a) * ratio) for a, b in zip(start, end, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"


def _frame(chart_id: str, title: str, width: int, height: int, body: str) -> SafeString:
    note = _("Les mêmes chiffres figurent dans le tableau qui suit le graphique.")
    return mark_safe(  # noqa: S308 — every text below went through escape()/_svg
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'data-chart="{escape(chart_id)}" {FONT}>'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(note)}</desc>{body}</svg>'
    )


def radar(chart_id: str, title: str, labels: list[str], values: list[float | None]) -> SafeString:
    """Scores 0–100 per theme on spokes; a missing value sits at the centre, marked "—"."""
    width, height, centre_x, centre, radius = 760, 520, 380, 260, 170
    count = len(labels)
    if count < 3:
        return bars(chart_id, title, list(zip(labels, values, [None] * count, strict=True)))
    parts = []

    def point(index: int, fraction: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        return (
            centre_x + radius * fraction * math.cos(angle),
            centre + radius * fraction * math.sin(angle),
        )

    for ring in (0.25, 0.5, 0.75, 1.0):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(count)))
        parts.append(f'<polygon points="{points}" fill="none" stroke="#c8d0d8"/>')
        parts.append(
            _svg(
                '<text x="{}" y="{:.1f}" font-size="11" fill="#5b6670">{}</text>',
                centre_x + 3,
                centre - radius * ring + 12,
                int(ring * 100),
            )
        )
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x, y = point(index, 1.0)
        parts.append(
            f'<line x1="{centre_x}" y1="{centre}" x2="{x:.1f}" y2="{y:.1f}" stroke="#c8d0d8"/>'
        )
        lx, ly = point(index, 1.13)
        anchor = "middle" if abs(lx - centre_x) < 20 else ("start" if lx > centre_x else "end")
        parts.append(
            _svg(
                '<text x="{:.1f}" y="{:.1f}" font-size="12" text-anchor="{}" fill="#1d2b36">'
                "<title>{}</title>{} ({})</text>",
                lx,
                ly + 4,
                anchor,
                label,
                _short(label, 26),
                _number(value),
            )
        )
    shape = " ".join(
        f"{x:.1f},{y:.1f}"
        for x, y in (point(i, (value or 0) / 100) for i, value in enumerate(values))
    )
    parts.append(
        f'<polygon points="{shape}" fill="#1f6f8b" fill-opacity="0.3" stroke="#1f6f8b" '
        'stroke-width="2"/>'
    )
    return _frame(chart_id, title, width, height, "".join(str(p) for p in parts))


def heatmap(
    chart_id: str, title: str, columns: list[str], rows: list[tuple[str, list[float | None], bool]]
) -> SafeString:
    """rows: (label, values per column, masked). Masked rows are grey and say so."""
    label_width, cell_w, cell_h, header = 230, 64, 30, 120
    width = label_width + cell_w * max(len(columns), 1) + 110  # room for slanted headers
    height = header + cell_h * max(len(rows), 1) + 10
    parts = []
    for index, column in enumerate(columns):
        x = label_width + cell_w * index + cell_w / 2
        parts.append(
            _svg(
                '<text transform="translate({:.1f},{}) rotate(-40)" font-size="12" '
                'fill="#1d2b36"><title>{}</title>{}</text>',
                x,
                header - 8,
                column,
                _short(column, 18),
            )
        )
    masked_label = _("masqué")
    for row_index, (label, values, masked) in enumerate(rows):
        y = header + cell_h * row_index
        parts.append(
            _svg(
                '<text x="{}" y="{}" font-size="12" text-anchor="end" fill="#1d2b36">'
                "<title>{}</title>{}</text>",
                label_width - 8,
                y + cell_h / 2 + 4,
                label,
                _short(label, 30),
            )
        )
        for col_index, value in enumerate(values):
            x = label_width + cell_w * col_index
            text = masked_label if masked else _number(value)
            parts.append(
                _svg(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#fff"/>'
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#1d2b36">'
                    "{}</text>",
                    x,
                    y,
                    cell_w,
                    cell_h,
                    MASKED_FILL if masked else score_colour(value),
                    x + cell_w / 2,
                    y + cell_h / 2 + 4,
                    text,
                )
            )
    return _frame(chart_id, title, width, height, "".join(str(p) for p in parts))


def bars(
    chart_id: str, title: str, items: list[tuple[str, float | None, float | None]]
) -> SafeString:
    """Horizontal bars 0–100 %: (label, main share, partial share stacked after it)."""
    label_width, bar_width, row_h = 300, 360, 26
    width = label_width + bar_width + 70
    height = row_h * max(len(items), 1) + 10
    parts = []
    for index, (label, value, partial) in enumerate(items):
        y = row_h * index + 5
        parts.append(
            _svg(
                '<text x="{}" y="{}" font-size="12" text-anchor="end" fill="#1d2b36">'
                "<title>{}</title>{}</text>",
                label_width - 8,
                y + 15,
                label,
                _short(label, 40),
            )
        )
        parts.append(
            _svg(
                '<rect x="{}" y="{}" width="{}" height="18" fill="#eef2f5"/>',
                label_width,
                y + 2,
                bar_width,
            )
        )
        if value is None:
            parts.append(
                _svg(
                    '<text x="{}" y="{}" font-size="11" fill="#5b6670">{}</text>',
                    label_width + 6,
                    y + 15,
                    _("masqué ou sans réponse"),
                )
            )
            continue
        main = bar_width * value / 100
        parts.append(
            _svg(
                '<rect x="{}" y="{}" width="{:.1f}" height="18" fill="#27ae60"/>',
                label_width,
                y + 2,
                main,
            )
        )
        if partial:
            parts.append(
                _svg(
                    '<rect x="{:.1f}" y="{}" width="{:.1f}" height="18" fill="#f1c40f"/>',
                    label_width + main,
                    y + 2,
                    bar_width * partial / 100,
                )
            )
        parts.append(
            _svg(
                '<text x="{}" y="{}" font-size="12" fill="#1d2b36">{} %</text>',
                label_width + bar_width + 6,
                y + 15,
                _number(value),
            )
        )
    return _frame(chart_id, title, width, height, "".join(str(p) for p in parts))


def line(chart_id: str, title: str, points: list[tuple[str, float | None]]) -> SafeString:
    """Mean score per period; masked periods are gaps."""
    left, top, plot_w, plot_h = 40, 15, 560, 200
    width, height = left + plot_w + 45, top + plot_h + 45
    parts = []
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e1e6ea"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#5b6670">{tick}</text>'
        )
    step = plot_w / max(len(points) - 1, 1)
    segment: list[str] = []
    segments = []
    for index, (label, value) in enumerate(points):
        x = left + step * index if len(points) > 1 else left + plot_w / 2
        parts.append(
            _svg(
                '<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle" fill="#1d2b36">{}'
                "</text>",
                x,
                top + plot_h + 18,
                label,
            )
        )
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = top + plot_h * (1 - value / 100)
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(
            _svg(
                '<circle cx="{:.1f}" cy="{:.1f}" r="4" fill="#1f6f8b"><title>{} : {}</title>'
                "</circle>",
                x,
                y,
                label,
                _number(value),
            )
        )
    if segment:
        segments.append(segment)
    for points_text in segments:
        if len(points_text) > 1:
            parts.insert(
                0,
                f'<polyline points="{" ".join(points_text)}" fill="none" stroke="#1f6f8b" '
                'stroke-width="2"/>',
            )
    return _frame(chart_id, title, width, height, "".join(str(p) for p in parts))
