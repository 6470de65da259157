"""The plan in the canevas layout: XLSX export and import (round trip), PDF export.

The XLSX import reads back what the export writes: a row with an `ID` updates that line of
the plan, a row without one creates a line. Every error names its row and column, and nothing
is written while any row is wrong (docs/decisions/0332-plan-spreadsheet-round-trip.md).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.actions import services
from hygie.actions.models import (
    ActionItem,
    ActionMember,
    ActionStatus,
    Effort,
    Funding,
    Priority,
)
from hygie.actions.plan import SHARE_PREFIX, PlanLine
from hygie.assessments.models import Campaign
from hygie.core.audit import record_event
from hygie.frameworks.models import RequirementNode
from hygie.orgs.models import Organisation

# Column headers (French: the file is for people), in the canevas order.
ID = "ID"
MEASURE = "Mesure"
TITLE = "Action"
DESCRIPTION = "Description"
OWNER = "Responsable"
PRIORITY = "Priorité"
EFFORT = "Effort"
COST = "Coût (€)"
FUNDING = "Source de financement"
STARTS = "Début"
DUE = "Échéance"
STATUS = "Statut"
PROGRESS = "Avancement (%)"
NEEDS_EXPERT = "Expert externe requis"
EXPERT = "Acteur spécialisé"
POOLING = "Mutualisation"
HEADERS = [
    ID,
    MEASURE,
    TITLE,
    DESCRIPTION,
    OWNER,
    PRIORITY,
    EFFORT,
    COST,
    FUNDING,
    STARTS,
    DUE,
    STATUS,
    PROGRESS,
    NEEDS_EXPERT,
    EXPERT,
    POOLING,
]
WIDTHS = [9, 32, 40, 40, 26, 14, 18, 11, 22, 12, 12, 12, 12, 12, 28, 40]
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
YES = {"oui", "o", "yes", "y", "vrai", "true", "1", "x"}
NO = {"non", "n", "no", "faux", "false", "0", ""}


def owner_text(user) -> str:
    # The e-mail (or the username) identifies the person when the file comes back.
    return (user.email or user.username) if user else ""


def _cells(line: PlanLine) -> list:
    item = line.item
    return [
        line.key,
        item.node.label if item.node else "",
        item.title,
        item.description,
        owner_text(item.owner),
        item.get_priority_display(),
        item.get_effort_display() if item.effort else "",
        item.cost,
        item.get_funding_display() if item.funding else "",
        item.starts_on,
        item.due_on,
        line.status_label,
        line.progress,
        "oui" if item.needs_expert else "non",
        item.expert.name if item.expert else "",
        line.pooling_text,
    ]


# XLSX export ------------------------------------------------------------------------------------
def export_xlsx(organisation: Organisation, lines: list[PlanLine]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Plan d'action"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F5F8B")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for line in lines:
        sheet.append([_text_safe(value) for value in _cells(line)])
        row = sheet.max_row
        for column in (10, 11):
            sheet.cell(row, column).number_format = "DD/MM/YYYY"
        for cell in sheet[row]:
            if isinstance(cell.value, str):
                # A text that looks like a formula stays text (no evaluation in spreadsheets).
                cell.data_type = "s"
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{max(sheet.max_row, 1)}"
    about = book.create_sheet("À propos")
    about.append(["Organisation", str(organisation)])
    about.append(["Exporté le", timezone.localtime().strftime("%d/%m/%Y %H:%M")])
    about.append(
        [
            "Réimport",
            "Une ligne avec un ID met à jour l'action ; sans ID, une action est créée. "
            "Les lignes PART-n ne modifient que le statut et l'avancement de la part de "
            "l'établissement. La colonne Mutualisation est ignorée à l'import.",
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_safe(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


# PDF export -------------------------------------------------------------------------------------
# (header, width in points): 822 points of landscape A4 between the margins.
PDF_COLUMNS = [
    (ID, 24),
    (MEASURE, 80),
    (TITLE, 120),
    (OWNER, 85),
    (PRIORITY, 48),
    (EFFORT, 48),
    (COST, 44),
    (FUNDING, 58),
    (DUE, 50),
    (STATUS, 46),
    (PROGRESS, 50),
    (EXPERT, 70),
    (POOLING, 99),
]


def export_pdf(organisation: Organisation, lines: list[PlanLine]) -> bytes:
    """A landscape A4 table in the canevas layout, its header repeated on every page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Plan d'action — {organisation}",
        author="Hygie",
    )
    styles = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=styles["Normal"], fontSize=7, leading=8.5)
    head = ParagraphStyle("head", parent=cell, fontName="Helvetica-Bold", textColor=colors.white)
    total = sum(width for _name, width in PDF_COLUMNS)
    usable = landscape(A4)[0] - 20 * mm
    widths = [usable * width / total for _name, width in PDF_COLUMNS]
    index = {name: position for position, name in enumerate(HEADERS)}
    data = [[Paragraph(escape(name), head) for name, _width in PDF_COLUMNS]]
    for line in lines:
        values = _cells(line)
        row = []
        for name, _width in PDF_COLUMNS:
            value = values[index[name]]
            if isinstance(value, dt.date):
                value = value.strftime("%d/%m/%Y")
            elif isinstance(value, Decimal):
                value = f"{value:,.2f} €".replace(",", "\xa0").replace(".", ",")
            elif name == PROGRESS:
                value = f"{value} %"
            elif value is None:
                value = ""
            text = escape(str(value))
            if name == DUE and line.overdue:
                text = f"<b>{text}</b> ({escape(_('en retard'))})"
            row.append(Paragraph(text, cell))
        data.append(row)
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1F5F8B")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#B0BEC5")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F3F6F8")]),
            ]
        )
    )
    story = [
        Paragraph(escape(f"Plan d'action — {organisation}"), styles["Title"]),
        Paragraph(
            escape(
                _("Exporté le %(date)s — %(count)s actions")
                % {"date": timezone.localtime().strftime("%d/%m/%Y %H:%M"), "count": len(lines)}
            ),
            styles["Normal"],
        ),
        Spacer(1, 4 * mm),
        table,
    ]
    doc.build(story)
    return buffer.getvalue()


# XLSX import ------------------------------------------------------------------------------------
@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("Ligne %(row)s, colonne « %(column)s » : %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Ligne %(row)s : %(message)s") % {"row": self.row, "message": self.message}


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


class _Row:
    """One data row: its cells by header, and the errors found while reading them."""

    def __init__(self, number: int, cells: dict, errors: list[RowError]):
        self.number = number
        self.cells = cells
        self.errors = errors

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def text(self, column: str) -> str:
        value = self.cells.get(column)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    def choice(self, column: str, choices, default: str = "") -> str:
        text = self.text(column)
        if not text:
            return default
        wanted = text.casefold()
        for value, label in choices:
            if wanted in (value.casefold(), str(label).casefold()):
                return value
            # "P1" for "P1 — critique", "Moyen" for "Moyen (5–20 j)".
            short = str(label).split(" — ")[0].split(" (")[0].casefold()
            if wanted == short:
                return value
        accepted = ", ".join(f"« {label} »" for _value, label in choices)
        self.error(
            column,
            _("valeur « %(value)s » inconnue ; valeurs admises : %(accepted)s")
            % {"value": text, "accepted": accepted},
        )
        return default

    def date(self, column: str) -> dt.date | None:
        value = self.cells.get(column)
        if value in (None, ""):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y"):
            try:
                return dt.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        self.error(column, _("« %(value)s » n'est pas une date (JJ/MM/AAAA)") % {"value": text})
        return None

    def decimal(self, column: str) -> Decimal | None:
        value = self.cells.get(column)
        if value in (None, ""):
            return None
        text = str(value).strip().replace("\u202f", "").replace(" ", "").replace("€", "")
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            self.error(column, _("« %(value)s » n'est pas un montant") % {"value": value})
            return None
        if number < 0 or number >= Decimal("1e10"):
            self.error(column, _("le montant doit être positif et inférieur à 10 milliards"))
            return None
        return number.quantize(Decimal("0.01"))

    def percentage(self, column: str) -> int:
        value = self.cells.get(column)
        if value in (None, ""):
            return 0
        text = str(value).strip().rstrip("%").strip().replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            number = -1
        if not (0 <= number <= 100) or not float(number).is_integer():
            self.error(
                column, _("« %(value)s » : un entier entre 0 et 100 est attendu") % {"value": value}
            )
            return 0
        return int(number)

    def boolean(self, column: str) -> bool:
        text = self.text(column).casefold()
        if text in YES:
            return True
        if text in NO:
            return False
        self.error(
            column,
            _("« oui » ou « non » est attendu, pas « %(value)s »") % {"value": self.text(column)},
        )
        return False


def _read_sheet(content: bytes, errors: list[RowError]):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 — any unreadable file gets the same clear message
        errors.append(RowError(0, "", _("le fichier n'est pas un classeur XLSX lisible")))
        return None
    sheet = book["Plan d'action"] if "Plan d'action" in book.sheetnames else book.worksheets[0]
    return sheet.iter_rows()


def import_xlsx(
    organisation: Organisation, content: bytes, *, user=None, request=None
) -> ImportReport:
    report = ImportReport()
    rows = _read_sheet(content, report.errors)
    if rows is None:
        return report
    try:
        header_cells = next(rows)
    except StopIteration:
        report.errors.append(RowError(1, "", _("le fichier est vide")))
        return report
    headers = {}
    for position, cell in enumerate(header_cells):
        name = str(cell.value).strip() if cell.value is not None else ""
        if name:
            headers[position] = name
    if TITLE not in headers.values():
        report.errors.append(
            RowError(
                1,
                TITLE,
                _(
                    "colonne absente ; la première ligne doit porter les en-têtes "
                    "de l'export (ID, Mesure, Action…)"
                ),
            )
        )
        return report

    resolver = _Resolver(organisation, user)
    changes = []
    seen_ids: dict[str, int] = {}
    for number, cells in enumerate(rows, start=2):
        if number - 1 > MAX_IMPORT_ROWS:
            report.errors.append(
                RowError(
                    number,
                    "",
                    _("plus de %(max)s lignes : découpez le fichier") % {"max": MAX_IMPORT_ROWS},
                )
            )
            break
        values = {}
        row = _Row(number, values, report.errors)
        for position, cell in enumerate(cells):
            name = headers.get(position)
            if name is None:
                continue
            if cell.data_type == "f":
                row.error(name, _("formule refusée ; saisissez une valeur"))
                continue
            values[name] = cell.value
        if all(value in (None, "") for value in values.values()):
            continue
        key = row.text(ID)
        if key:
            if key in seen_ids:
                row.error(
                    ID,
                    _("ID %(id)s déjà présent ligne %(row)s") % {"id": key, "row": seen_ids[key]},
                )
                continue
            seen_ids[key] = number
        change = resolver.read(row, key)
        if change is not None:
            changes.append(change)
    if report.errors:
        return report
    with transaction.atomic():
        for change in changes:
            outcome = change.apply()
            if outcome == "created":
                report.created += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.unchanged += 1
        record_event(
            "actions.imported",
            request=request,
            actor=user if getattr(user, "pk", None) else None,
            target=organisation,
            organisation=organisation,
            details={
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
    return report


@dataclass
class _Change:
    target: object
    values: dict
    create: bool = False

    def apply(self) -> str:
        target = self.target
        if not self.create and all(
            getattr(target, name) == value for name, value in self.values.items()
        ):
            return "unchanged"
        for name, value in self.values.items():
            setattr(target, name, value)
        target.save()
        if isinstance(target, ActionMember):
            services.refresh_pooled(target.action)
        return "created" if self.create else "updated"


class _Resolver:
    """Looks rows up against what the importing person may reference in this organisation."""

    def __init__(self, organisation: Organisation, user):
        self.organisation = organisation
        self.items = {str(item.pk): item for item in services.plan_items(organisation)}
        self.shares = {
            f"{SHARE_PREFIX}{share.pk}": share for share in services.shares_of(organisation)
        }
        frameworks = Campaign.objects.filter(organisation=organisation).values("framework_id")
        known_nodes = [item.node_id for item in self.items.values() if item.node_id]
        self.nodes = list(
            RequirementNode.objects.filter(
                Q(framework_id__in=frameworks, assessable=True) | Q(pk__in=known_nodes)
            )
        )
        self.owners = list(services.eligible_owners(organisation))
        self.experts = list(services.experts_for(user, organisation)) if user else []

    def read(self, row: _Row, key: str):
        if key.upper().startswith(SHARE_PREFIX):
            share = self.shares.get(key.upper())
            if share is None:
                row.error(ID, _("part « %(id)s » inconnue dans ce plan") % {"id": key})
                return None
            status = row.choice(STATUS, ActionStatus.choices, ActionStatus.TO_DO)
            progress = row.percentage(PROGRESS)
            if status == ActionStatus.DONE:
                progress = 100
            return _Change(share, {"status": status, "progress": progress})
        item = None
        if key:
            item = self.items.get(key)
            if item is None:
                row.error(
                    ID,
                    _(
                        "action n° %(id)s inconnue dans le plan de %(org)s ; videz la "
                        "cellule pour créer une action"
                    )
                    % {"id": key, "org": self.organisation},
                )
                return None
        values = {
            "node": self.node(row, item),
            "title": row.text(TITLE),
            "description": row.text(DESCRIPTION),
            "owner": self.owner(row),
            "priority": row.choice(PRIORITY, Priority.choices, Priority.MEDIUM),
            "effort": row.choice(EFFORT, Effort.choices, ""),
            "cost": row.decimal(COST),
            "funding": row.choice(FUNDING, Funding.choices, ""),
            "starts_on": row.date(STARTS),
            "due_on": row.date(DUE),
            "status": row.choice(STATUS, ActionStatus.choices, ActionStatus.TO_DO),
            "progress": row.percentage(PROGRESS),
            "needs_expert": row.boolean(NEEDS_EXPERT),
            "expert": self.expert(row),
        }
        if not values["title"]:
            row.error(TITLE, _("l'intitulé de l'action est obligatoire"))
        elif len(values["title"]) > 300:
            row.error(TITLE, _("300 caractères au plus"))
        if values["starts_on"] and values["due_on"] and values["due_on"] < values["starts_on"]:
            row.error(DUE, _("l'échéance précède le début"))
        if values["expert"] is not None:
            values["needs_expert"] = True
        if values["status"] == ActionStatus.DONE:
            values["progress"] = 100
        if item is not None and item.members.exists():
            # A pooled action's status and progress come from its members' shares.
            values.pop("status")
            values.pop("progress")
        if item is None:
            return _Change(
                ActionItem(organisation=self.organisation, origin="import"), values, create=True
            )
        return _Change(item, values)

    def node(self, row: _Row, item: ActionItem | None):
        text = row.text(MEASURE)
        if not text:
            return None
        if item is not None and item.node is not None and text == item.node.label:
            return item.node
        matches = [node for node in self.nodes if text in (node.label, node.ref_id)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            row.error(
                MEASURE,
                _("mesure « %(value)s » inconnue dans les référentiels évalués par %(org)s")
                % {"value": text, "org": self.organisation},
            )
        else:
            row.error(
                MEASURE,
                _(
                    "« %(value)s » désigne plusieurs mesures ; reprenez le libellé "
                    "complet de l'export"
                )
                % {"value": text},
            )
        return None

    def owner(self, row: _Row):
        text = row.text(OWNER).casefold()
        if not text:
            return None
        for person in self.owners:
            if text in ((person.email or "").casefold(), person.username.casefold()):
                return person
        row.error(
            OWNER,
            _("« %(value)s » n'a pas de rôle dans %(org)s (e-mail ou identifiant attendu)")
            % {"value": row.text(OWNER), "org": self.organisation},
        )
        return None

    def expert(self, row: _Row):
        text = row.text(EXPERT).casefold()
        if not text:
            return None
        matches = [actor for actor in self.experts if actor.name.casefold() == text]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            row.error(
                EXPERT,
                _("« %(value)s » n'est pas dans l'annuaire des acteurs de la région")
                % {"value": row.text(EXPERT)},
            )
        else:
            row.error(
                EXPERT,
                _("plusieurs acteurs s'appellent « %(value)s »") % {"value": row.text(EXPERT)},
            )
        return None
