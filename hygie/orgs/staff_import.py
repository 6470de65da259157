"""Staff import from the CSV files French HR software exports.

Accepts `;`, `,` or tab separators, UTF-8 (with or without BOM), UTF-16 with BOM and
Windows-1252; French column names with or without accents or capitals. Every line is
checked before anything is written; a single bad line refuses the whole file and the
report names each problem by line (the header is line 1) and column. A re-import updates
the people it recognises (by matricule, else by e-mail) and never duplicates them
(docs/decisions/0100-staff-csv-import.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from hygie.core.audit import record_event
from hygie.core.csv_input import decode, detect_delimiter, read_records
from hygie.orgs.models import Organisation, StaffSource
from hygie.orgs.staff_sync import (
    MAX_LENGTHS,
    MAX_REPORTED_PROBLEMS,
    OrgLookupError,
    OrgResolver,
    Problem,
    StaffRecord,
    accepted_job_families,
    apply_plan,
    check_email,
    normalise_key,
    parse_date,
    parse_job_family,
    plan_upsert,
)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# Column names as shown in messages.
COLUMN_LABELS = {
    "external_id": "matricule",
    "last_name": "nom",
    "first_name": "prénom",
    "email": "e-mail",
    "site": "site",
    "service": "service",
    "job_family": "famille de métiers",
    "job_title": "métier",
    "arrival_date": "date d'arrivée",
}
# Header names accepted for each field, compared after `normalise_key`.
COLUMN_ALIASES = {
    "external_id": ["matricule", "n matricule", "no matricule", "numero matricule", "identifiant"],
    "last_name": ["nom", "nom de famille", "nom d usage", "nom usuel", "nom patronymique"],
    "first_name": ["prenom", "prenoms"],
    "email": [
        "email",
        "e mail",
        "courriel",
        "mail",
        "mel",
        "adresse e mail",
        "adresse email",
        "adresse mail",
        "adresse electronique",
    ],
    "site": ["site", "site geographique"],
    "service": ["service", "service pole", "unite", "unite de soins"],
    "job_family": [
        "famille de metiers",
        "famille de metier",
        "famille metiers",
        "famille metier",
        "famille",
        "filiere",
    ],
    "job_title": ["metier", "emploi", "fonction", "poste", "libelle emploi"],
    "arrival_date": [
        "date d arrivee",
        "date arrivee",
        "arrivee",
        "date d entree",
        "date entree",
        "date d embauche",
    ],
}
HEADER_FIELDS = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
REQUIRED_COLUMNS = ("last_name", "first_name", "job_family")


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    created_orgs: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def hidden_problem_count(self) -> int:
        return self.problem_count - len(self.problems)

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)

    def counts(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deactivated": self.deactivated,
        }


def _read_rows(text: str, delimiter: str, report: ImportReport):
    """(line number, cells) of every non-blank record, the header first."""
    rows, unreadable = read_records(text, delimiter)
    if unreadable:
        report.add(Problem(unreadable[0], None, unreadable[1]))
    return rows


def _map_header(line: int, cells: list[str], report: ImportReport) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(cells):
        key = normalise_key(name)
        field_name = HEADER_FIELDS.get(key)
        if field_name is None:
            if key:
                report.ignored_columns.append(name.strip())
            continue
        if field_name in columns:
            report.add(
                Problem(
                    line,
                    COLUMN_LABELS[field_name],
                    _("colonne en double (« %(name)s »)") % {"name": name.strip()},
                )
            )
            continue
        columns[field_name] = index
    found = ", ".join(f"« {cell.strip()} »" for cell in cells if cell.strip())
    for required in REQUIRED_COLUMNS:
        if required not in columns:
            report.add(
                Problem(
                    line,
                    None,
                    _("colonne obligatoire absente : %(column)s (colonnes lues : %(found)s)")
                    % {"column": COLUMN_LABELS[required], "found": found},
                )
            )
    if "external_id" not in columns and "email" not in columns:
        report.add(
            Problem(
                line,
                None,
                _(
                    "il faut une colonne matricule ou e-mail pour reconnaître les personnes "
                    "d'un import à l'autre"
                ),
            )
        )
    return columns


class _RowChecker:
    """Turns one CSV line into a StaffRecord, or into problems."""

    def __init__(
        self, columns: dict[str, int], width: int, resolver: OrgResolver, report: ImportReport
    ):
        self.columns = columns
        self.width = width
        self.resolver = resolver
        self.report = report
        self.seen_ids: dict[str, int] = {}
        self.seen_emails: dict[str, int] = {}

    def check(self, line: int, cells: list[str]) -> StaffRecord | None:
        problems: list[Problem] = []

        def fail(field_name, message):
            problems.append(Problem(line, COLUMN_LABELS.get(field_name), message))

        if len(cells) > self.width:
            extra = cells[self.width :]
            if any(cell.strip() for cell in extra):
                fail(
                    None,
                    _(
                        "%(n)s valeurs pour %(m)s colonnes (un séparateur dans une valeur "
                        "sans guillemets ?)"
                    )
                    % {"n": len(cells), "m": self.width},
                )
        raw = {
            name: (cells[index].strip() if index < len(cells) else "")
            for name, index in self.columns.items()
        }
        values: dict = {}
        for name, value in raw.items():
            limit = MAX_LENGTHS.get(name)
            if limit and len(value) > limit:
                fail(name, _("valeur trop longue (%(max)s caractères au plus)") % {"max": limit})
                raw[name] = ""
        for name in ("last_name", "first_name"):
            if name in raw:
                if raw[name]:
                    values[name] = raw[name]
                else:
                    fail(name, _("valeur obligatoire"))
        if "external_id" in raw:
            values["external_id"] = raw["external_id"]
            if raw["external_id"]:
                first = self.seen_ids.setdefault(raw["external_id"], line)
                if first != line:
                    fail(
                        "external_id",
                        _("matricule « %(value)s » déjà présent ligne %(line)s")
                        % {"value": raw["external_id"], "line": first},
                    )
        if "email" in raw:
            values["email"] = ""
            if raw["email"]:
                try:
                    values["email"] = check_email(raw["email"])
                except ValueError as exc:
                    fail("email", str(exc))
                else:
                    first = self.seen_emails.setdefault(values["email"].casefold(), line)
                    if first != line:
                        fail(
                            "email",
                            _("adresse « %(value)s » déjà présente ligne %(line)s")
                            % {"value": raw["email"], "line": first},
                        )
        if not raw.get("external_id") and not raw.get("email"):
            fail(
                None,
                _("ni matricule ni e-mail : la personne ne pourrait pas être reconnue"),
            )
        if "job_family" in raw:
            family = parse_job_family(raw["job_family"])
            if family is None:
                fail(
                    "job_family",
                    (
                        _("valeur inconnue « %(value)s »") % {"value": raw["job_family"]}
                        if raw["job_family"]
                        else _("valeur obligatoire")
                    )
                    + " "
                    + _("(valeurs acceptées : %(values)s)") % {"values": accepted_job_families()},
                )
            else:
                values["job_family"] = family
        if "job_title" in raw:
            values["job_title"] = raw["job_title"]
        if "arrival_date" in raw:
            values["arrival_date"] = None
            if raw["arrival_date"]:
                try:
                    values["arrival_date"] = parse_date(raw["arrival_date"])
                except ValueError as exc:
                    fail("arrival_date", str(exc))
        site = None
        if raw.get("site"):
            try:
                site = self.resolver.site(raw["site"])
            except OrgLookupError as exc:
                fail("site", str(exc))
        if "site" in raw:
            values["site"] = site
        if "service" in raw:
            values["service"] = None
            if raw["service"]:
                try:
                    service = self.resolver.service(raw["service"], site)
                except OrgLookupError as exc:
                    fail("service", str(exc))
                else:
                    values["service"] = service
                    if site is None:
                        values["site"] = self.resolver.site_of(service)
        for problem in problems:
            self.report.add(problem)
        return None if problems else StaffRecord(ref=line, values=values)


def import_staff(
    establishment: Organisation,
    data: bytes,
    *,
    create_services: bool = False,
    deactivate_missing: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check the whole file, then write all of it in one transaction, or nothing."""
    report = ImportReport(dry_run=dry_run)
    try:
        text, report.encoding = decode(data)
    except ValueError as exc:
        report.add(Problem(None, None, str(exc)))
        return report
    if not text.strip():
        report.add(Problem(None, None, _("le fichier est vide")))
        return report
    report.delimiter = detect_delimiter(text)
    rows = _read_rows(text, report.delimiter, report)
    if not rows:
        return report
    (header_line, header), data_rows = rows[0], rows[1:]
    columns = _map_header(header_line, header, report)
    if not report.ok:
        return report
    report.rows = len(data_rows)
    if not data_rows:
        report.add(Problem(None, None, _("aucune ligne de personnel sous l'en-tête")))
        return report

    with transaction.atomic():
        # One import per establishment at a time: the plan is computed on what is locked.
        Organisation.objects.select_for_update().filter(pk=establishment.pk).first()
        resolver = OrgResolver(establishment, create_missing=create_services)
        checker = _RowChecker(columns, len(header), resolver, report)
        records = []
        for done, (line, cells) in enumerate(data_rows, start=1):
            record = checker.check(line, cells)
            if record is not None:
                records.append(record)
            if progress:
                progress(done, len(data_rows))
        plan = plan_upsert(
            establishment,
            records,
            source=StaffSource.CSV,
            labels=COLUMN_LABELS,
            deactivate_missing=deactivate_missing,
            pending_orgs=resolver.pending,
        )
        for _record, problem in plan.problems:
            report.add(problem)
        if not report.ok:
            report.problems.sort(key=lambda p: p.ref if isinstance(p.ref, int) else 0)
            return report
        report.created = len(plan.creates)
        report.updated = len(plan.updates)
        report.unchanged = plan.unchanged
        report.deactivated = len(plan.deactivations)
        if dry_run:
            report.created_orgs = [f"{p.name}" for p in resolver.pending]
            return report
        report.created_orgs = apply_plan(plan)
    return report


def record_import_event(
    report: ImportReport, establishment: Organisation, *, request=None, filename: str = ""
) -> None:
    """Journal a completed import (counts and file name; never the file's content)."""
    record_event(
        "orgs.staff_imported",
        request=request,
        target=establishment,
        organisation=establishment,
        details={
            **report.counts(),
            "file": filename[:200],
            "created_orgs": report.created_orgs[:50],
            "origin": "web" if request is not None else "cli",
        },
    )
