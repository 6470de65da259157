"""Ingestion of access logs and care-relationship data for the review (schema: docs/access-review.md).

`import_file(organisation, kind, filename, data)` reads a CSV file (`,` or `;`, UTF-8 with or
without BOM) or JSON lines (detected from the first character), checks the column names (a
missing column refuses the file, nothing recorded), then reads every line: a malformed line is
counted and reported with its number and the reason (the first 100 kept in
`ReviewImport.rejects`), the others are processed.

- access events go to the columnar store (one Parquet file per import, review/store.py);
- stays, appointments, orders and care teams become `CareRelation` rows;
- patients and staff become `PersonRecord` rows, the address kept only as a keyed digest.

Replacing an import (`replaces=`) or deleting it (`delete_import`) removes its data.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hygie.access.models import CareRelation, LogKind, PersonRecord, ReviewImport
from hygie.access.review import store
from hygie.core.audit import record_event

MAX_REJECTS_KEPT = 100
MAX_ID = 120
ACTIONS = frozenset({"read", "write", "print", "export"})
SCHEDULES = frozenset({"day", "night", "any"})
TRUE = frozenset({"1", "true", "yes", "oui", "vrai", "y", "o"})
FALSE = frozenset({"", "0", "false", "no", "non", "faux", "n"})

# Columns per kind: (required, optional).
COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    LogKind.ACCESS: (
        ["timestamp", "user_id", "patient_id", "action"],
        ["application", "workstation", "break_glass", "reason"],
    ),
    LogKind.STAYS: (["patient_id", "unit", "start"], ["end"]),
    LogKind.APPOINTMENTS: (["patient_id", "user_id", "start"], ["end"]),
    LogKind.ORDERS: (["patient_id", "user_id", "start"], ["end"]),
    LogKind.CARE_TEAMS: (["user_id", "unit", "start"], ["end"]),
    LogKind.PATIENTS: (
        ["patient_id", "last_name"],
        ["birth_name", "first_name", "address", "vip", "staff_id"],
    ),
    LogKind.STAFF: (
        ["user_id", "last_name"],
        ["birth_name", "first_name", "address", "service", "schedule"],
    ),
}
RELATION_KIND = {
    LogKind.STAYS: CareRelation.Kind.STAY,
    LogKind.APPOINTMENTS: CareRelation.Kind.APPOINTMENT,
    LogKind.ORDERS: CareRelation.Kind.ORDER,
    LogKind.CARE_TEAMS: CareRelation.Kind.TEAM,
}


class Reject(Exception):
    """A malformed line; the message says why (shown to the user with the line number)."""


@dataclass
class Outcome:
    lines: int = 0
    rejected: int = 0
    rejects: list = field(default_factory=list)

    def reject(self, line: int, error: str) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_REJECTS_KEPT:
            self.rejects.append({"line": line, "error": error})


# Addresses -------------------------------------------------------------------------------------
_ABBREVIATIONS = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "bvd": "boulevard",
    "r": "rue",
    "pl": "place",
    "rte": "route",
    "chem": "chemin",
    "imp": "impasse",
    "all": "allee",
    "fbg": "faubourg",
    "sq": "square",
    "st": "saint",
    "ste": "sainte",
}


def normalise_text(value: str) -> str:
    """Lower case, no accents, punctuation as spaces, single spaces."""
    value = unicodedata.normalize("NFKD", value)
    value = "".join(c for c in value if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", value).split())


def normalise_address(value: str) -> str:
    words = normalise_text(value).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def address_key(value: str) -> str:
    """Keyed digest of a normalised address: equal addresses compare equal, none is readable.

    The key derives from the project secret: changing the secret changes every digest (the
    patients and staff files must then be imported again)."""
    normalised = normalise_address(value or "")
    if not normalised:
        return ""
    key = hashlib.sha256(b"hygie-access-address:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


# Values ----------------------------------------------------------------------------------------
def _local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


YEARS = (1900, 2199)  # beyond, a date is a typing error (and year 1 cannot even go to UTC)


def parse_moment(value: str, column: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is local time (settings.TIME_ZONE)."""
    text = value.strip()
    if not text:
        raise Reject(_("colonne « %(col)s » vide") % {"col": column})
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise Reject(
            _("colonne « %(col)s » : date ISO 8601 attendue, lu « %(value)s »")
            % {"col": column, "value": text[:40]}
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise Reject(
            _("colonne « %(col)s » : date hors de %(first)s–%(last)s, lu « %(value)s »")
            % {"col": column, "first": YEARS[0], "last": YEARS[1], "value": text[:40]}
        )
    return moment


def parse_bool(value: str, column: str) -> bool:
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise Reject(
        _("colonne « %(col)s » : 0/1 ou true/false attendu, lu « %(value)s »")
        % {"col": column, "value": value[:40]}
    )


def identifier(value: str, column: str, *, required: bool = True) -> str:
    text = value.strip()
    if not text and required:
        raise Reject(_("colonne « %(col)s » vide") % {"col": column})
    if len(text) > MAX_ID:
        raise Reject(
            _("colonne « %(col)s » : plus de %(max)s caractères") % {"col": column, "max": MAX_ID}
        )
    return text


def _clean_cell(value: str) -> str:
    """A text value for the store's tab-separated intermediate file."""
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return value if value != "\\N" else "\\N "


# Reading ---------------------------------------------------------------------------------------
def _open_binary(data):
    if isinstance(data, bytes | bytearray):
        return io.BytesIO(data)
    if isinstance(data, str | os.PathLike):
        return open(data, "rb")  # noqa: SIM115 - closed by the caller
    if hasattr(data, "open") and hasattr(data, "chunks"):  # Django UploadedFile
        data.seek(0)
    return data


def _text_lines(binary):
    """Decoded lines; bytes that are not UTF-8 stay as surrogates and reject their line."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _has_surrogates(values) -> bool:
    """Characters that are not UTF-8 text: undecodable bytes, and NUL (which PostgreSQL
    refuses in text)."""
    for value in values:
        if "\x00" in value:
            return True
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _records(text, kind: str, outcome: Outcome):
    """(line number, [values in the order of the kind's columns]) of every non-blank line.

    Raises ValidationError when the file cannot be read as the kind (missing column, empty)."""
    required, optional = COLUMNS[kind]
    wanted = required + optional
    first = text.readline()
    while first and not first.strip():
        first = text.readline()
    if not first:
        raise ValidationError(_("Le fichier est vide."))
    if first.lstrip().startswith("{"):
        yield from _json_records(first, text, kind, wanted, required, outcome)
        return
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = [h.strip().lower() for h in next(csv.reader([first], delimiter=delimiter))]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationError(
            _(
                "Colonne(s) manquante(s) : %(missing)s. Colonnes attendues pour ce fichier : "
                "%(wanted)s (lu : %(header)s)."
            )
            % {
                "missing": ", ".join(missing),
                "wanted": ", ".join(required) + " [" + ", ".join(optional) + "]",
                # Undecodable bytes of a non-UTF-8 header are shown escaped, not stored raw.
                "header": _printable(", ".join(header)[:300]),
            }
        )
    positions = [header.index(c) if c in header else None for c in wanted]
    width = len(header)
    reader = csv.reader(text, delimiter=delimiter)
    line_offset = 1  # the header line
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            outcome.lines += 1
            outcome.reject(reader.line_num + line_offset, _("ligne illisible : %s") % error)
            continue
        line = reader.line_num + line_offset
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        outcome.lines += 1
        if len(row) != width:
            outcome.reject(
                line,
                _("%(n)s champs au lieu de %(width)s") % {"n": len(row), "width": width},
            )
            continue
        if _has_surrogates(row):
            outcome.reject(line, _("caractères non UTF-8"))
            continue
        yield line, [row[p] if p is not None else "" for p in positions]


def _json_value(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _json_records(first, text, kind, wanted, required, outcome):
    checked = False
    line = 0
    for raw in _chain([first], text):
        line += 1
        if not raw.strip():
            continue
        outcome.lines += 1
        try:
            obj = json.loads(raw)
        except RecursionError:
            outcome.reject(line, _("JSON trop imbriqué"))
            continue
        except ValueError as error:
            if isinstance(error, UnicodeError) or _has_surrogates([raw]):
                outcome.reject(line, _("caractères non UTF-8"))
            else:
                outcome.reject(line, _("JSON invalide : %s") % error)
            continue
        if not isinstance(obj, dict):
            outcome.reject(line, _("objet JSON attendu"))
            continue
        keys = {str(k).strip().lower(): v for k, v in obj.items()}
        missing = [c for c in required if c not in keys]
        if missing and not checked:
            # The first object stands for the header: a missing column refuses the file.
            raise ValidationError(
                _("Colonne(s) manquante(s) : %(missing)s (ligne %(line)s).")
                % {"missing": ", ".join(missing), "line": line}
            )
        checked = True
        if missing:
            outcome.reject(line, _("champ(s) manquant(s) : %s") % ", ".join(missing))
            continue
        values = [_json_value(keys.get(c)) for c in wanted]
        if _has_surrogates(values):
            outcome.reject(line, _("caractères non UTF-8"))
            continue
        yield line, values


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


# Per kind --------------------------------------------------------------------------------------
def _access_line(line: int, values: list[str], zone, default_app: str) -> str:
    """One accepted access event as a line of the store's tab-separated intermediate file."""
    ts, user_id, patient_id, action, app, workstation, bg, reason = values
    moment = parse_moment(ts, "timestamp", zone)
    user_id = identifier(user_id, "user_id")
    patient_id = identifier(patient_id, "patient_id")
    action = action.strip().lower()
    if action not in ACTIONS:
        raise Reject(
            _("colonne « action » : read, write, print ou export attendu, lu « %s »") % action[:40]
        )
    glass = parse_bool(bg, "break_glass")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    local = moment.astimezone(zone)
    return (
        f"{line}\t{utc.isoformat(' ')}\t{local.date().isoformat()}\t{local.hour}\t"
        f"{_clean_cell(user_id)}\t{_clean_cell(patient_id)}\t{action}\t"
        f"{_clean_cell(app.strip()) or default_app}\t{_clean_cell(workstation.strip())}\t"
        f"{'true' if glass else 'false'}\t{_clean_cell(reason.strip())}\n"
    )


def _relation(kind: str, values: list[str], zone) -> dict:
    patient_id = user_id = unit = ""
    if kind == LogKind.STAYS:
        patient_id, unit, start, end = values
    elif kind == LogKind.CARE_TEAMS:
        user_id, unit, start, end = values
    else:
        patient_id, user_id, start, end = values
    patient_id = identifier(patient_id, "patient_id", required=kind != LogKind.CARE_TEAMS)
    user_id = identifier(user_id, "user_id", required=kind != LogKind.STAYS)
    if kind in (LogKind.STAYS, LogKind.CARE_TEAMS):
        unit = identifier(unit, "unit")
        if len(unit) > 160:
            raise Reject(_("colonne « unit » : plus de 160 caractères"))
    starts = parse_moment(start, "start", zone)
    ends = parse_moment(end, "end", zone) if end.strip() else None
    if ends is not None and ends < starts:
        raise Reject(_("« end » est antérieur à « start »"))
    return {
        "patient_id": patient_id,
        "user_id": user_id,
        "unit": unit,
        "starts_at": starts,
        "ends_at": ends,
    }


def _person(kind: str, values: list[str]) -> dict:
    if kind == LogKind.PATIENTS:
        person_id, last, birth, first, address, vip, staff_id = values
        extra = {
            "vip": parse_bool(vip, "vip"),
            "staff_id": identifier(staff_id, "staff_id", required=False),
        }
        column = "patient_id"
    else:
        person_id, last, birth, first, address, service, schedule = values
        schedule = schedule.strip().lower()
        if schedule not in SCHEDULES and schedule:
            raise Reject(
                _("colonne « schedule » : day, night ou any attendu, lu « %s »") % schedule[:40]
            )
        if len(service.strip()) > 160:
            raise Reject(_("colonne « service » : plus de 160 caractères"))
        extra = {"service": service.strip(), "schedule": schedule}
        column = "user_id"
    names = {}
    for name, value in (("last_name", last), ("birth_name", birth), ("first_name", first)):
        value = value.strip()
        if len(value) > 120:
            raise Reject(_("colonne « %s » : plus de 120 caractères") % name)
        names[name] = value
    if not names["last_name"]:
        raise Reject(_("colonne « last_name » vide"))
    return {
        "person_id": identifier(person_id, column),
        **names,
        "address_key": address_key(address),
        **extra,
    }


class _Guard:
    """Calls `handle(line, values)` for each record, counting those it rejects."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome

    def run(self, records, handle) -> None:
        for line, values in records:
            try:
                handle(line, values)
            except Reject as reason:
                self.outcome.reject(line, str(reason))


# Entry points ----------------------------------------------------------------------------------
def import_file(
    organisation,
    kind: str,
    filename: str,
    data,
    *,
    application: str = "",
    user=None,
    replaces: ReviewImport | None = None,
) -> ReviewImport:
    """Read one file of the given kind (LogKind) into the review; see the module docstring.

    `data` is bytes, a path or a binary file object. Raises ValidationError (nothing recorded)
    when the file cannot be read as that kind. `replaces`: an earlier import of the same kind
    and organisation whose data this file replaces (removed once this one is in)."""
    if kind not in COLUMNS:
        raise ValidationError(_("Nature de fichier inconnue : %s") % kind)
    if replaces is not None and (
        replaces.organisation_id != organisation.pk or replaces.kind != kind
    ):
        raise ValidationError(_("L'import remplacé n'est pas de la même nature."))
    outcome = Outcome()
    binary = _open_binary(data)
    try:
        text = _text_lines(binary)
        records = _records(text, kind, outcome)
        # Read the first record now: a refused header raises before anything is written.
        try:
            first = next(records)
            records = _chain([first], records)
        except StopIteration:
            records = iter(())
        if kind == LogKind.ACCESS:
            review_import = _import_access(
                organisation, filename, application, user, records, outcome
            )
        else:
            review_import = _import_rows(
                organisation, kind, filename, application, user, records, outcome
            )
    finally:
        if isinstance(data, str | os.PathLike):
            binary.close()
    if replaces is not None:
        delete_import(replaces, user=user, replaced_by=review_import)
    record_event(
        "access.review.import",
        actor=user,
        target=review_import,
        organisation=organisation,
        details={
            "kind": kind,
            "filename": review_import.filename,
            "lines": review_import.lines,
            "rejected": review_import.rejected,
            "replaces": replaces.pk if replaces is not None else None,
        },
    )
    return review_import


def _new_import(organisation, kind, filename, application, user) -> ReviewImport:
    return ReviewImport.objects.create(
        organisation=organisation,
        kind=kind,
        filename=Path(filename or "fichier").name[:255],
        application=application[:120],
        imported_by=user if user is not None and user.is_authenticated else None,
    )


def _import_access(organisation, filename, application, user, records, outcome) -> ReviewImport:
    spill = Path(settings.DATA_DIR) / "access" / "tmp"
    spill.mkdir(parents=True, exist_ok=True)
    handle, tsv_name = tempfile.mkstemp(suffix=".tsv", dir=spill)
    tsv_path = Path(tsv_name)
    try:
        with open(handle, "w", encoding="utf-8", newline="") as tsv:
            zone = _local_zone()
            default_app = _clean_cell(application.strip())
            write = tsv.write
            reject = outcome.reject
            for line, values in records:
                try:
                    write(_access_line(line, values, zone, default_app))
                except Reject as reason:
                    reject(line, str(reason))
        with transaction.atomic():
            review_import = _new_import(organisation, LogKind.ACCESS, filename, application, user)
            review_import.lines = outcome.lines
            review_import.rejected = outcome.rejected
            review_import.rejects = outcome.rejects
            review_import.save(update_fields=["lines", "rejected", "rejects"])
            try:
                store.write_access(review_import, tsv_path)
            except Exception:
                store.remove_access(review_import)
                raise
    finally:
        tsv_path.unlink(missing_ok=True)
    return review_import


def _import_rows(organisation, kind, filename, application, user, records, outcome):
    zone = _local_zone()
    guard = _Guard(outcome)
    relations: list[dict] = []
    persons: dict[str, dict] = {}
    person_lines: dict[str, int] = {}

    if kind in RELATION_KIND:

        def handle(line, values):
            relations.append(_relation(kind, values, zone))
    else:

        def handle(line, values):
            person = _person(kind, values)
            pid = person["person_id"]
            if pid in persons:
                raise Reject(
                    _("identifiant « %(id)s » déjà lu ligne %(line)s")
                    % {"id": pid[:40], "line": person_lines[pid]}
                )
            persons[pid] = person
            person_lines[pid] = line

    guard.run(records, handle)
    with transaction.atomic():
        review_import = _new_import(organisation, kind, filename, application, user)
        review_import.lines = outcome.lines
        review_import.rejected = outcome.rejected
        review_import.rejects = outcome.rejects
        review_import.save(update_fields=["lines", "rejected", "rejects"])
        if kind in RELATION_KIND:
            CareRelation.objects.bulk_create(
                (
                    CareRelation(
                        organisation=organisation,
                        source=review_import,
                        kind=RELATION_KIND[kind],
                        **relation,
                    )
                    for relation in relations
                ),
                batch_size=2000,
            )
        else:
            person_kind = (
                PersonRecord.Kind.PATIENT if kind == LogKind.PATIENTS else PersonRecord.Kind.STAFF
            )
            fields = ["last_name", "birth_name", "first_name", "address_key", "vip", "staff_id"]
            fields += ["service", "schedule", "source"]
            PersonRecord.objects.bulk_create(
                [
                    PersonRecord(
                        organisation=organisation,
                        kind=person_kind,
                        source=review_import,
                        **person,
                    )
                    for person in persons.values()
                ],
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["organisation", "kind", "person_id"],
                update_fields=fields,
            )
    return review_import


def delete_import(review_import: ReviewImport, *, user=None, replaced_by=None) -> None:
    """Remove an import and everything that came from it (events, relations, persons)."""
    organisation = review_import.organisation
    details = {
        "kind": review_import.kind,
        "filename": review_import.filename,
        "lines": review_import.lines,
        "replaced_by": replaced_by.pk if replaced_by is not None else None,
    }
    label = str(review_import.pk)
    with transaction.atomic():
        if review_import.kind == LogKind.ACCESS:
            store.remove_access(review_import)
        review_import.delete()  # relations and persons cascade
    record_event(
        "access.review.import_deleted",
        actor=user,
        organisation=organisation,
        details={"import": label, **details},
    )
