"""CSV export and import of directory entries (decision 0323).

The export is what the list's filters show, in the layout the import reads back: French
headers, `;` separators, UTF-8 with a BOM, spreadsheet formulas neutralised. The import is
all or nothing: every line is checked first, and one bad cell refuses the whole file with the
line (the header is line 1) and the column named. A line with an `id` updates that entry; a
line without one updates the entry of the same name and type, or creates it. Entries go to
one target: the shared reference list (platform administrators) or one organisation's own
entries.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from hygie.core.csv_input import decode, detect_delimiter, read_records
from hygie.core.exports import safe_cell
from hygie.directory.models import Actor, ActorKind, Competence, Qualification
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.staff_sync import normalise_key, parse_date

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_REPORTED_PROBLEMS = 100
LIST_SEPARATOR = ";"

FIELDS = [
    "id",
    "name",
    "kind",
    "description",
    "website",
    "email",
    "phone",
    "regions",
    "competences",
    "qualifications",
    "last_verified_on",
    "owner",
]
COLUMN_LABELS = {
    "id": "id",
    "name": "nom",
    "kind": "type",
    "description": "description",
    "website": "site web",
    "email": "courriel",
    "phone": "téléphone",
    "regions": "régions",
    "competences": "compétences",
    "qualifications": "qualifications",
    "last_verified_on": "vérifié le",
    "owner": "propriétaire",
}
COLUMN_ALIASES = {
    "id": ["id", "identifiant"],
    "name": ["nom", "name", "raison sociale"],
    "kind": ["type", "kind", "categorie"],
    "description": ["description"],
    "website": ["site web", "site", "url", "website"],
    "email": ["courriel", "email", "e mail", "mail"],
    "phone": ["telephone", "tel", "phone"],
    "regions": ["regions", "region", "regions couvertes"],
    "competences": ["competences", "competence"],
    "qualifications": ["qualifications", "qualification", "certifications"],
    "last_verified_on": ["verifie le", "derniere verification", "last verified on"],
    # Exported for reading; the import's target decides the owner.
    "owner": ["proprietaire", "owner"],
}
HEADER_FIELDS = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
REQUIRED_COLUMNS = ("name", "kind")
MAX_LENGTHS = {"name": 200, "phone": 40}


def _lookup(choices) -> dict[str, str]:
    """Codes and labels, normalised, to codes."""
    table = {}
    for code, label in choices:
        table[normalise_key(code)] = code
        table[normalise_key(str(label))] = code
    return table


# Export -----------------------------------------------------------------------------------------
def export_rows(actors: Iterable[Actor]) -> Iterator[str]:
    """CSV text in chunks; `actors` should prefetch regions and select the owner."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([COLUMN_LABELS[name] for name in FIELDS])
    kinds = dict(ActorKind.choices)
    for index, actor in enumerate(actors, start=1):
        row = [
            actor.pk,
            actor.name,
            kinds.get(actor.kind, actor.kind),
            actor.description,
            actor.website,
            actor.email,
            actor.phone,
            f"{LIST_SEPARATOR} ".join(sorted(region.name for region in actor.regions.all())),
            f"{LIST_SEPARATOR} ".join(actor.competence_labels()),
            f"{LIST_SEPARATOR} ".join(actor.qualifications),
            actor.last_verified_on.strftime("%d/%m/%Y") if actor.last_verified_on else "",
            actor.owner.name if actor.owner_id else _("référentiel"),
        ]
        writer.writerow([safe_cell(cell) for cell in row])
        if index % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# Import -----------------------------------------------------------------------------------------
@dataclass
class Problem:
    line: int
    column: str | None
    message: str

    def __str__(self):
        if self.column:
            return _("Ligne %(line)s, colonne « %(column)s » : %(message)s") % {
                "line": self.line,
                "column": self.column,
                "message": self.message,
            }
        return _("Ligne %(line)s : %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def hidden_problem_count(self) -> int:
        return self.problem_count - len(self.problems)

    def add(self, line: int, column_field: str | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            label = COLUMN_LABELS.get(column_field) if column_field else None
            self.problems.append(Problem(line, label, message))


@dataclass
class _Row:
    line: int
    values: dict
    target: Actor | None = None


class _Parser:
    def __init__(self, report: ImportReport, target_owner: Organisation | None, user):
        self.report = report
        self.owner = target_owner
        self.user = user
        self.kinds = _lookup(ActorKind.choices)
        self.competences = _lookup(Competence.choices)
        self.qualifications = _lookup(Qualification.choices)
        self.regions = {}
        for region in Organisation.objects.filter(kind=Kind.REGION):
            self.regions[normalise_key(region.code)] = region
            self.regions[normalise_key(region.name)] = region
        self.url = URLValidator(schemes=["http", "https"])
        self.email = EmailValidator()

    def _codes(self, line, name, text, table, accepted) -> list[str]:
        codes = []
        for part in text.split(LIST_SEPARATOR):
            if not part.strip():
                continue
            code = table.get(normalise_key(part))
            if code is None:
                self.report.add(
                    line,
                    name,
                    _("valeur inconnue « %(value)s » (valeurs acceptées : %(accepted)s)")
                    % {"value": part.strip(), "accepted": accepted},
                )
                continue
            if code not in codes:
                codes.append(code)
        return codes

    def row(self, line: int, cells: dict[str, str]) -> _Row | None:
        before = self.report.problem_count
        values: dict = {}
        for name in ("name", "description", "phone"):
            values[name] = cells.get(name, "").strip()
        if not values["name"]:
            self.report.add(line, "name", _("le nom est obligatoire"))
        for name, limit in MAX_LENGTHS.items():
            if len(values[name]) > limit:
                self.report.add(
                    line,
                    name,
                    _("%(n)s caractères, %(max)s au plus") % {"n": len(values[name]), "max": limit},
                )
        kind_text = cells.get("kind", "").strip()
        values["kind"] = self.kinds.get(normalise_key(kind_text))
        if values["kind"] is None:
            self.report.add(
                line,
                "kind",
                _("type inconnu « %(value)s » (types acceptés : %(accepted)s)")
                % {
                    "value": kind_text,
                    "accepted": ", ".join(str(label) for _code, label in ActorKind.choices),
                },
            )
        values["website"] = cells.get("website", "").strip()
        if values["website"]:
            try:
                self.url(values["website"])
            except ValidationError:
                self.report.add(line, "website", _("adresse web invalide (attendu https://…)"))
        values["email"] = cells.get("email", "").strip()
        if values["email"]:
            try:
                self.email(values["email"])
            except ValidationError:
                self.report.add(line, "email", _("adresse de courriel invalide"))
        regions = []
        for part in cells.get("regions", "").split(LIST_SEPARATOR):
            if not part.strip():
                continue
            region = self.regions.get(normalise_key(part))
            if region is None:
                self.report.add(
                    line,
                    "regions",
                    _("région inconnue « %(value)s » (code INSEE ou nom de la région)")
                    % {"value": part.strip()},
                )
            elif region not in regions:
                regions.append(region)
        values["regions"] = regions
        values["competences"] = self._codes(
            line,
            "competences",
            cells.get("competences", ""),
            self.competences,
            ", ".join(str(label) for _code, label in Competence.choices),
        )
        values["qualifications"] = self._codes(
            line,
            "qualifications",
            cells.get("qualifications", ""),
            self.qualifications,
            ", ".join(code for code, _label in Qualification.choices),
        )
        verified = cells.get("last_verified_on", "").strip()
        values["last_verified_on"] = None
        if verified:
            try:
                values["last_verified_on"] = parse_date(verified)
            except ValueError as exc:
                self.report.add(line, "last_verified_on", str(exc))
        identifier = cells.get("id", "").strip()
        values["id"] = None
        if identifier:
            if identifier.isdigit():
                values["id"] = int(identifier)
            else:
                self.report.add(
                    line, "id", _("nombre entier attendu, reçu « %(v)s »") % {"v": identifier}
                )
        if self.report.problem_count > before:
            return None
        return _Row(line, values)


def _read(text: str, delimiter: str, report: ImportReport) -> list[tuple[int, list[str]]]:
    rows, unreadable = read_records(text, delimiter)
    if unreadable:
        report.add(unreadable[0], None, unreadable[1])
    return rows


def _header(line: int, cells: list[str], report: ImportReport) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(cells):
        key = normalise_key(name)
        field_name = HEADER_FIELDS.get(key)
        if field_name is None:
            if key:
                report.ignored_columns.append(name.strip())
            continue
        if field_name in columns:
            report.add(line, field_name, _("colonne en double"))
            continue
        columns[field_name] = index
    for required in REQUIRED_COLUMNS:
        if required not in columns:
            report.add(
                line,
                None,
                _("colonne obligatoire absente : « %(column)s »")
                % {"column": COLUMN_LABELS[required]},
            )
    return columns


def import_actors(data: bytes, *, owner: Organisation | None, user, request=None) -> ImportReport:
    """Import a CSV file into `owner`'s entries (None: the reference list). All or nothing.

    The caller has checked that `user` may manage that target.
    """
    from hygie.core.audit import record_event

    report = ImportReport()
    try:
        text, _encoding = decode(data)
    except ValueError as exc:
        report.add(1, None, str(exc))
        return report
    rows = _read(text, detect_delimiter(text), report)
    if not rows:
        if report.ok:
            report.add(1, None, _("fichier vide"))
        return report
    header_line, header = rows[0]
    columns = _header(header_line, header, report)
    if not report.ok:
        return report
    if len(rows) - 1 > MAX_ROWS:
        report.add(
            rows[MAX_ROWS + 1][0],
            None,
            _("plus de %(n)s lignes : découpez le fichier") % {"n": MAX_ROWS},
        )
        return report
    parser = _Parser(report, owner, user)
    parsed: list[_Row] = []
    for line, cells in rows[1:]:
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            report.add(
                line,
                None,
                _("%(n)s valeurs pour %(m)s colonnes (un « ; » dans une valeur sans guillemets ?)")
                % {"n": len(cells), "m": len(header)},
            )
            continue
        values = {
            name: (cells[index] if index < len(cells) else "") for name, index in columns.items()
        }
        row = parser.row(line, values)
        if row is not None:
            parsed.append(row)
    report.rows = len(rows) - 1
    _match(parsed, owner, user, report)
    if not report.ok:
        return report
    with transaction.atomic():
        for row in parsed:
            _apply(row, owner, report)
        record_event(
            "directory.actors_imported",
            request=request,
            actor=None if request is not None else user,
            target=owner,
            organisation=owner,
            details={
                "target": "reference" if owner is None else owner.pk,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
    return report


def _match(rows: list[_Row], owner: Organisation | None, user, report: ImportReport) -> None:
    """Find the entry each line updates, within the target's entries only."""
    from hygie.directory.services import actors_visible_to

    existing = (
        Actor.objects.filter(owner=owner) if owner else Actor.objects.filter(owner__isnull=True)
    )
    by_id = {actor.pk: actor for actor in existing}
    by_name = {(normalise_key(actor.name), actor.kind): actor for actor in by_id.values()}
    ids = [row.values["id"] for row in rows if row.values["id"] is not None]
    elsewhere = set(
        actors_visible_to(user)
        .filter(pk__in=ids)
        .exclude(pk__in=by_id)
        .values_list("pk", flat=True)
    )
    target_label = owner.name if owner else _("référentiel partagé")
    seen: dict = {}
    for row in rows:
        identifier = row.values["id"]
        if identifier is not None:
            row.target = by_id.get(identifier)
            if row.target is None:
                if identifier in elsewhere:
                    message = _(
                        "l'entrée %(id)s n'appartient pas à « %(target)s » : videz la colonne id "
                        "pour en créer une copie, ou importez-la dans son propre annuaire"
                    ) % {"id": identifier, "target": target_label}
                else:
                    message = _("aucune entrée n° %(id)s dans « %(target)s »") % {
                        "id": identifier,
                        "target": target_label,
                    }
                report.add(row.line, "id", message)
                continue
        else:
            row.target = by_name.get((normalise_key(row.values["name"]), row.values["kind"]))
        key = (
            row.target.pk if row.target else (normalise_key(row.values["name"]), row.values["kind"])
        )
        if key in seen:
            report.add(
                row.line,
                "name" if row.target is None else "id",
                _("même entrée que la ligne %(line)s") % {"line": seen[key]},
            )
            continue
        seen[key] = row.line


SIMPLE_FIELDS = (
    "name",
    "kind",
    "description",
    "website",
    "email",
    "phone",
    "competences",
    "qualifications",
    "last_verified_on",
)


def _apply(row: _Row, owner: Organisation | None, report: ImportReport) -> None:
    values = row.values
    actor = row.target
    if actor is None:
        actor = Actor.objects.create(owner=owner, **{name: values[name] for name in SIMPLE_FIELDS})
        actor.regions.set(values["regions"])
        report.created += 1
        return
    changed = [name for name in SIMPLE_FIELDS if getattr(actor, name) != values[name]]
    regions_changed = {r.pk for r in actor.regions.all()} != {r.pk for r in values["regions"]}
    if not changed and not regions_changed:
        report.unchanged += 1
        return
    for name in changed:
        setattr(actor, name, values[name])
    actor.save()
    if regions_changed:
        actor.regions.set(values["regions"])
    report.updated += 1
