"""Each chart's figures as a table: shown under the chart and downloaded as CSV or XLSX.

The table is the single source of both, so a download can never show what the page masks.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl import Workbook

from hygie.core.exports import safe_cell
from hygie.dashboards.services import Cell, Dashboard, masked_text


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list]


def _value(cell: Cell):
    if cell.masked:
        return masked_text()
    return cell.value if cell.value is not None else ""


def chart_tables(dash: Dashboard) -> dict[str, Table]:
    """The tables of the charts this dashboard shows, by chart name (the `chart=` parameter)."""
    tables: dict[str, Table] = {}
    if dash.masked:
        # The whole level is too small: one line saying so, wherever a figure would be.
        for name, title in _aggregate_titles().items():
            tables[name] = Table(name, title, [_("Niveau")], [[masked_text()]])
        return tables
    tables["themes"] = Table(
        "themes",
        _("Maturité par thème"),
        [_("Thème"), _("Score (%)"), _("Maturité (0–5)"), _("Établissements")],
        [
            [
                figure.theme.label,
                _value(figure.score),
                _value(figure.maturity),
                figure.score.count if not figure.score.masked else masked_text(),
            ]
            for figure in dash.theme_figures
        ],
    )
    if dash.heatmap:
        first = _("Établissement") if dash.level == "ght" else _("Groupe")
        tables["heatmap"] = Table(
            "heatmap",
            _("Score par thème et par établissement")
            if dash.level == "ght"
            else _("Score par thème et par groupe"),
            [first, *([] if dash.level == "ght" else [_("Établissements")])]
            + [theme.label for theme in dash.themes],
            [
                [
                    row.label,
                    *([] if dash.level == "ght" else [row.establishments]),
                    *(masked_text() if row.masked else _value(cell) for cell in row.scores),
                ]
                for row in dash.heatmap
            ],
        )
    tables["adoption"] = Table(
        "adoption",
        _("Adoption des mesures prioritaires") if dash.priority_only else _("Adoption des mesures"),
        [
            _("Mesure"),
            _("Conformes (%)"),
            _("Partiellement conformes (%)"),
            _("Conformes"),
            _("Partiellement conformes"),
            _("Établissements concernés"),
        ],
        [
            [adoption.measure.label, masked_text(), "", "", "", masked_text()]
            if adoption.masked
            else [
                adoption.measure.label,
                adoption.rate if adoption.rate is not None else "",
                adoption.partial_rate if adoption.partial_rate is not None else "",
                adoption.compliant,
                adoption.partial,
                adoption.applicable,
            ]
            for adoption in dash.adoption
        ],
    )
    tables["trend"] = Table(
        "trend",
        _("Évolution du score moyen"),
        [_("Période"), _("Score moyen (%)"), _("Établissements")],
        [
            [
                point.label,
                _value(point.score),
                masked_text() if point.score.masked else point.score.count,
            ]
            for point in dash.trend
        ],
    )
    if dash.nominative:
        tables["lagging"] = Table(
            "lagging",
            _("Établissements en retard"),
            [
                _("Établissement"),
                _("Score (%)"),
                _("Dernière campagne"),
                _("Motif"),
                _("Thèmes en retard"),
            ],
            [
                [
                    row.name,
                    row.score if row.score is not None else "",
                    row.last_campaign_on.isoformat() if row.last_campaign_on else "",
                    _lag_reason(row),
                    ", ".join(row.themes),
                ]
                for row in dash.lagging
            ],
        )
    else:
        group_title = _("Par GHT") if dash.level == "region" else _("Par région")
        for name, title, rows in (
            ("groups", group_title, dash.groups),
            ("categories", _("Par catégorie d'établissement"), dash.categories),
        ):
            tables[name] = Table(
                name,
                title,
                [
                    _("Groupe"),
                    _("Établissements"),
                    _("Évalués"),
                    _("Score moyen (%)"),
                    _("En retard"),
                ],
                [
                    [row.label, row.establishments, masked_text(), "", ""]
                    if row.masked
                    else [
                        row.label,
                        row.establishments,
                        row.assessed,
                        _value(row.score),
                        row.lagging,
                    ]
                    for row in rows
                ],
            )
    return tables


def _aggregate_titles() -> dict[str, str]:
    return {
        "themes": _("Maturité par thème"),
        "heatmap": _("Score par thème et par groupe"),
        "adoption": _("Adoption des mesures prioritaires"),
        "trend": _("Évolution du score moyen"),
        "groups": _("Par groupe"),
        "categories": _("Par catégorie d'établissement"),
    }


def _lag_reason(row) -> str:
    reasons = []
    if row.stale:
        reasons.append(
            _("aucune campagne depuis 12 mois") if row.last_campaign_on else _("aucune campagne")
        )
    if row.below_mean:
        reasons.append(_("score nettement sous la moyenne"))
    return " ; ".join(reasons)


def as_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([safe_cell(header) for header in table.headers])
    for row in table.rows:
        writer.writerow([safe_cell(value) if isinstance(value, str) else value for value in row])
    # A BOM, so that spreadsheet software opens the accents correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.title[:31]
    sheet.append([safe_cell(header) for header in table.headers])
    for row in table.rows:
        # openpyxl would store "=…" as a formula: text is neutralised like in the CSV.
        sheet.append([safe_cell(value) if isinstance(value, str) else value for value in row])
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
