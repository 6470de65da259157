"""Import of what GoPhish exports: templates, landing pages and groups (JSON or CSV).

Templates and pages are read as GoPhish's API returns them (one object or a list). GoPhish's
variables are converted to Hygie's placeholders; any other `{{...}}` is kept as written and
reported, so the lure is saved but refused at launch, naming it. A landing page becomes a
lure's `landing_html` (GoPhish has no other place for it, decision 0440); the names of its form
fields are kept so that "which fields were filled" can be recorded, never their values.

Groups upsert staff members of the organisation, keyed by e-mail, and make a TargetList.
Every file is checked whole before anything is written: a bad line or target refuses the file,
each problem named by line and column.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from html.parser import HTMLParser
from pathlib import Path

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from hygie.core.csv_input import decode, detect_delimiter, read_records
from hygie.orgs.models import Kind, Organisation, StaffMember, StaffSource
from hygie.orgs.staff_sync import (
    OrgLookupError,
    OrgResolver,
    StaffRecord,
    apply_plan,
    check_email,
    normalise_key,
    plan_upsert,
)
from hygie.phishing.lures import find_placeholders, lure_problems
from hygie.phishing.models import CustomLure, TargetList

MAX_FILE_BYTES = 10 * 1024 * 1024

# GoPhish's template variables and the Hygie placeholder each one becomes.
VARIABLES = {
    "FirstName": "prenom",
    "LastName": "nom",
    "URL": "lien",
    "Tracker": "pixel",
    "TrackingURL": "pixel",
    "From": "expediteur",
    "Position": "service",
}
_VARIABLE = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
# GoPhish writes its open pixel by hand as <img src="{{.TrackingURL}}">; Hygie's {{pixel}} is the
# whole image, so the tag is replaced, not only its address.
_TRACKING_IMG = re.compile(r"<img\b[^>]*\{\{\s*\.TrackingURL\s*\}\}[^>]*>", re.IGNORECASE)

KINDS = ("templates", "pages", "groups")


@dataclass
class ImportProblem:
    line: int | None
    column: str | int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        if self.column is None or self.column == "":
            return _("ligne %(line)s : %(message)s") % {"line": self.line, "message": self.message}
        return _("ligne %(line)s, colonne %(column)s : %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class ImportReport:
    kind: str = ""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    # Saved, but something to know: a variable kept as written, an attachment left out...
    notes: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    people_created: int = 0
    people_updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict:
        return {
            "kind": self.kind,
            "created": len(self.created),
            "updated": len(self.updated),
            "people_created": self.people_created,
            "people_updated": self.people_updated,
        }


# ------------------------------------------------------------------------------- variables


def convert_variables(text: str) -> tuple[str, list[str]]:
    """GoPhish's variables replaced by Hygie's placeholders; the unknown ones, as written."""
    text = _TRACKING_IMG.sub("{{pixel}}", text or "")
    unknown: list[str] = []

    def replace(match: re.Match) -> str:
        name = VARIABLES.get(match.group(1))
        if name:
            return "{{" + name + "}}"
        if match.group(0) not in unknown:
            unknown.append(match.group(0))
        return match.group(0)

    return _VARIABLE.sub(replace, text), unknown


# ------------------------------------------------------------------------------ landing page


class _FormFields(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[dict] = []
        self.labels: dict[str, str] = {}
        self._label_for: str | None = None
        self._label_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        if tag == "label":
            self._label_for = attrs.get("for", "")
            self._label_text = []
        elif tag in ("input", "textarea", "select"):
            kind = attrs.get("type", "text").lower() if tag == "input" else "text"
            name = attrs.get("name", "").strip()
            if not name or kind in _NOT_ENTRIES:
                return
            if any(existing["name"] == name for existing in self.fields):
                return
            self.fields.append(
                {
                    "name": name[:80],
                    "label": attrs.get("placeholder") or attrs.get("aria-label") or "",
                    "type": kind if kind in ("password", "email") else "text",
                    "_id": attrs.get("id", ""),
                }
            )

    def handle_data(self, data):
        if self._label_for is not None:
            self._label_text.append(data)

    def handle_endtag(self, tag):
        if tag == "label" and self._label_for is not None:
            if self._label_for:
                self.labels[self._label_for] = " ".join("".join(self._label_text).split())
            self._label_for = None


_NOT_ENTRIES = {"hidden", "submit", "button", "reset", "image", "checkbox", "radio", "file"}


def landing_fields_from_html(html: str) -> list[dict]:
    """The form entries of a landing page: [{"name", "label", "type"}], type text, password or
    email. Hidden fields, buttons and boxes to tick are not entries a person fills in."""
    parser = _FormFields()
    parser.feed(html or "")
    parser.close()
    found = []
    for entry in parser.fields:
        label = parser.labels.get(entry.pop("_id"), "") or entry["label"] or entry["name"]
        found.append({**entry, "label": label[:120]})
    return found


# --------------------------------------------------------------------------- JSON positions


def _json_positions(text: str) -> dict[tuple, int]:
    """The offset where each value of a JSON document starts, by path, so that a problem found
    in the data can be named by line and column."""
    decoder = json.JSONDecoder()
    positions: dict[tuple, int] = {}
    whitespace = re.compile(r"[ \t\n\r]*")

    def skip(index: int) -> int:
        return whitespace.match(text, index).end()

    def walk(index: int, path: tuple) -> int:
        index = skip(index)
        positions[path] = index
        char = text[index : index + 1]
        if char == "{":
            index = skip(index + 1)
            if text[index : index + 1] == "}":
                return index + 1
            while True:
                key, index = decoder.raw_decode(text, skip(index))
                index = skip(index) + 1  # the colon
                index = skip(walk(index, (*path, key)))
                if text[index] == "}":
                    return index + 1
                index += 1  # the comma
        if char == "[":
            index = skip(index + 1)
            if text[index : index + 1] == "]":
                return index + 1
            position = 0
            while True:
                index = skip(walk(index, (*path, position)))
                position += 1
                if text[index] == "]":
                    return index + 1
                index += 1
        _value, end = decoder.raw_decode(text, index)
        return end

    walk(0, ())
    return positions


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _JsonDocument:
    def __init__(self, text: str):
        self.text = text
        self._positions: dict[tuple, int] | None = None

    def where(self, path: tuple) -> tuple[int | None, int | None]:
        if self._positions is None:
            self._positions = _json_positions(self.text)
        while path and path not in self._positions:
            path = path[:-1]
        offset = self._positions.get(path)
        return _line_column(self.text, offset) if offset is not None else (None, None)


def _read_json(data: bytes, report: ImportReport):
    """(document, items as a list with their path prefix) or (None, None) with a problem."""
    if len(data) > MAX_FILE_BYTES:
        report.problems.append(ImportProblem(None, None, _("le fichier dépasse 10 Mo.")))
        return None, None
    try:
        text, _encoding = decode(data)
        value = json.loads(text)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            report.problems.append(
                ImportProblem(exc.lineno, exc.colno, _("JSON invalide : %(e)s") % {"e": exc.msg})
            )
        else:
            report.problems.append(ImportProblem(None, None, str(exc)))
        return None, None
    document = _JsonDocument(text)
    if isinstance(value, dict):
        return document, [((), value)]
    if isinstance(value, list):
        return document, [((index,), item) for index, item in enumerate(value)]
    report.problems.append(
        ImportProblem(1, 1, _("un objet ou une liste d'objets JSON est attendu."))
    )
    return None, None


class _JsonChecker:
    def __init__(self, document: _JsonDocument, report: ImportReport):
        self.document = document
        self.report = report

    def fail(self, path: tuple, message: str) -> None:
        line, column = self.document.where(path)
        label = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path)
        if label:
            message = f"{label} : {message}"
        self.report.problems.append(ImportProblem(line, column, message))

    def text(self, item: dict, path: tuple, key: str, *, required=False, limit=None) -> str:
        value = item.get(key)
        if value is None or value == "":
            if required:
                self.fail((*path, key), _("champ obligatoire manquant."))
            return ""
        if not isinstance(value, str):
            self.fail((*path, key), _("doit être un texte."))
            return ""
        if limit and len(value.strip()) > limit:
            self.fail((*path, key), _("trop long (%(max)s caractères au plus).") % {"max": limit})
            return ""
        return value

    def object(self, item, path: tuple) -> dict | None:
        if not isinstance(item, dict):
            self.fail(path, _("un objet JSON est attendu."))
            return None
        return item


# --------------------------------------------------------------------------------- templates


def _default_landing() -> dict:
    return {
        "landing_title": _("Connexion à votre espace"),
        "landing_intro": _("Identifiez-vous pour continuer."),
        "landing_fields": [
            {"name": "identifiant", "label": _("Identifiant"), "type": "text"},
            {"name": "mot_de_passe", "label": _("Mot de passe"), "type": "password"},
        ],
        "landing_button": _("Se connecter"),
    }


def _default_teachable() -> dict:
    return {
        "teachable_title": _("C'était un exercice de sensibilisation"),
        "teachable_body": _(
            "Ce message était une simulation d'hameçonnage organisée par votre établissement. "
            "Rien de ce que vous avez saisi n'a été conservé.\n\n"
            "Avant de cliquer, vérifiez l'adresse de l'expéditeur, survolez le lien pour voir "
            "où il mène, et méfiez-vous de l'urgence. En cas de doute, signalez le message."
        ),
    }


def _sender(envelope_sender: str, fallback: str) -> tuple[str, str]:
    display, address = parseaddr(envelope_sender or "")
    local = address.split("@")[0].lower() if "@" in address else ""
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?", local):
        local = "ne-pas-repondre"
    return (display or fallback)[:120], local


def template_values(item: dict, checker: _JsonChecker, path: tuple) -> tuple[dict, list[str]]:
    """The CustomLure fields of one GoPhish template, and notes (unknown variables...)."""
    name = checker.text(item, path, "name", required=True, limit=200).strip()
    subject = checker.text(item, path, "subject", limit=300)
    text = checker.text(item, path, "text")
    html = checker.text(item, path, "html")
    envelope = checker.text(item, path, "envelope_sender", limit=300)
    if not text and not html and "text" in item and "html" in item:
        checker.fail(path, _("ni texte ni HTML : le modèle n'a pas de corps."))
    notes = []
    values = {"name": name, "source": "gophish"}
    for key, raw, limit in (("subject", subject, 300), ("text", text, None), ("html", html, None)):
        converted, unknown = convert_variables(raw)
        values[key] = " ".join(converted.split())[:limit] if limit else converted
        for variable in unknown:
            notes.append(
                _("%(name)s : variable GoPhish %(variable)s sans équivalent, laissée telle quelle")
                % {"name": name, "variable": variable}
            )
    values["sender_name"], values["sender_local_part"] = _sender(envelope, name)
    attachments = item.get("attachments") or []
    if isinstance(attachments, list) and attachments:
        names = ", ".join(str(a.get("name", "?")) for a in attachments if isinstance(a, dict))
        notes.append(
            _("%(name)s : pièces jointes non reprises (%(files)s)") % {"name": name, "files": names}
        )
    return values, notes


def page_values(item: dict, checker: _JsonChecker, path: tuple) -> tuple[dict, list[str]]:
    """The landing fields of a CustomLure from one GoPhish page, and notes."""
    name = checker.text(item, path, "name", required=True, limit=200).strip()
    html = checker.text(item, path, "html", required=True)
    converted, unknown = convert_variables(html)
    notes = [
        _("%(name)s : variable GoPhish %(variable)s sans équivalent, laissée telle quelle")
        % {"name": name, "variable": variable}
        for variable in unknown
    ]
    fields = landing_fields_from_html(converted)
    if not fields:
        notes.append(_("%(name)s : la page n'a aucun champ de saisie") % {"name": name})
    if item.get("redirect_url"):
        notes.append(
            _("%(name)s : la redirection après saisie est remplacée par la page pédagogique")
            % {"name": name}
        )
    return {"name": name, "landing_html": converted, "landing_fields": fields}, notes


def _upsert_lure(organisation, values: dict, *, actor=None) -> tuple[CustomLure, bool]:
    lure = CustomLure.objects.filter(organisation=organisation, name=values["name"]).first()
    created = lure is None
    if created:
        lure = CustomLure(
            organisation=organisation,
            created_by=actor,
            source="gophish",
            sender_name=values["name"][:120],
            subject="",
            **_default_landing(),
            **_default_teachable(),
        )
    for key, value in values.items():
        setattr(lure, key, value)
    # A page-only lure has no subject yet: it is saved, and refused at launch.
    lure.full_clean(exclude=["organisation", "created_by", "subject"], validate_unique=False)
    lure.save()
    return lure, created


def _launch_notes(lure: CustomLure) -> list[str]:
    problems = lure_problems(lure.to_lure())
    if not problems:
        return []
    return [
        _("%(name)s ne pourra pas être lancé : %(problems)s")
        % {"name": lure.name, "problems": " ".join(str(p) for p in problems)}
    ]


def import_templates(organisation: Organisation, data: bytes, *, actor=None) -> ImportReport:
    return _import_lures(organisation, data, "templates", template_values, actor=actor)


def import_pages(organisation: Organisation, data: bytes, *, actor=None) -> ImportReport:
    return _import_lures(organisation, data, "pages", page_values, actor=actor)


def _import_lures(organisation, data, kind, reader, *, actor=None) -> ImportReport:
    report = ImportReport(kind=kind)
    document, items = _read_json(data, report)
    if document is None:
        return report
    checker = _JsonChecker(document, report)
    rows = []
    seen: dict[str, tuple] = {}
    for path, item in items:
        item = checker.object(item, path)
        if item is None:
            continue
        values, notes = reader(item, checker, path)
        if values["name"] in seen:
            checker.fail(
                (*path, "name"),
                _("nom « %(name)s » déjà présent plus haut dans le fichier")
                % {"name": values["name"]},
            )
        seen[values["name"]] = path
        rows.append((values, notes))
    if not rows and report.ok:
        report.problems.append(ImportProblem(None, None, _("le fichier ne contient rien.")))
    if not report.ok:
        return report
    with transaction.atomic():
        for values, notes in rows:
            lure, created = _upsert_lure(organisation, values, actor=actor)
            (report.created if created else report.updated).append(lure.name)
            report.notes += notes
            if kind == "templates":
                report.notes += _launch_notes(lure)
    return report


# ------------------------------------------------------------------------------------ groups


@dataclass
class _Target:
    ref: tuple  # (line, column) where it was read, for messages
    first_name: str
    last_name: str
    email: str
    position: str
    service: str
    line: int | None = None  # CSV only
    columns: dict = field(default_factory=dict)  # CSV only: field -> header name


CSV_COLUMNS = {
    "first name": "first_name",
    "last name": "last_name",
    "email": "email",
    "position": "position",
    # GoPhish has no department: Hygie accepts one more column.
    "service": "service",
    "department": "service",
    "departement": "service",
}
CSV_LABELS = {
    "first_name": "First Name",
    "last_name": "Last Name",
    "email": "Email",
    "position": "Position",
    "service": "Service",
}


def _csv_groups(data: bytes, name: str, report: ImportReport):
    try:
        text, _encoding = decode(data)
    except ValueError as exc:
        report.problems.append(ImportProblem(None, None, str(exc)))
        return []
    records, unreadable = read_records(text, detect_delimiter(text))
    if unreadable:
        report.problems.append(ImportProblem(unreadable[0], None, unreadable[1]))
    if not records:
        report.problems.append(ImportProblem(None, None, _("le fichier est vide.")))
        return []
    (header_line, header), rows = records[0], records[1:]
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = CSV_COLUMNS.get(normalise_key(cell))
        if key and key not in columns:
            columns[key] = index
    if "email" not in columns:
        found = ", ".join(f"« {cell.strip()} »" for cell in header if cell.strip())
        report.problems.append(
            ImportProblem(
                header_line,
                None,
                _("colonne Email absente (colonnes lues : %(found)s)") % {"found": found},
            )
        )
        return []
    targets = []
    for line, cells in rows:

        def cell(key, line=line, cells=cells):
            index = columns.get(key)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        targets.append(
            _Target(
                ref=(line, None),
                first_name=cell("first_name"),
                last_name=cell("last_name"),
                email=cell("email"),
                position=cell("position"),
                service=cell("service"),
                line=line,
                # Columns are named in messages as GoPhish's header names them.
                columns={key: CSV_LABELS[key] for key in columns},
            )
        )
    if not targets:
        report.problems.append(ImportProblem(None, None, _("aucune personne sous l'en-tête.")))
    return [(name, (), targets, None)]


def _json_groups(data: bytes, report: ImportReport):
    document, items = _read_json(data, report)
    if document is None:
        return []
    checker = _JsonChecker(document, report)
    groups = []
    for path, item in items:
        item = checker.object(item, path)
        if item is None:
            continue
        name = checker.text(item, path, "name", required=True, limit=200).strip()
        raw_targets = item.get("targets")
        if not isinstance(raw_targets, list) or not raw_targets:
            checker.fail((*path, "targets"), _("liste de destinataires vide ou absente."))
            continue
        targets = []
        for index, raw in enumerate(raw_targets):
            where = (*path, "targets", index)
            raw = checker.object(raw, where)
            if raw is None:
                continue
            target = _Target(
                ref=where,
                first_name=checker.text(raw, where, "first_name").strip(),
                last_name=checker.text(raw, where, "last_name").strip(),
                email=checker.text(raw, where, "email").strip(),
                position=checker.text(raw, where, "position").strip(),
                service=(
                    checker.text(raw, where, "service") or checker.text(raw, where, "department")
                ).strip(),
            )
            targets.append(target)
        groups.append((name, path, targets, checker))
    return groups


def import_groups(
    organisation: Organisation,
    data: bytes,
    *,
    filename: str = "",
    name: str = "",
    establishment: Organisation | None = None,
    create_services: bool = False,
    actor=None,
) -> ImportReport:
    """Upsert the groups' people (by e-mail) and make one TargetList per group.

    In an establishment, new people join it; in a GHT, people already known anywhere in it are
    matched there and new ones join `establishment` (refused without one)."""
    report = ImportReport(kind="groups")
    if len(data) > MAX_FILE_BYTES:
        report.problems.append(ImportProblem(None, None, _("le fichier dépasse 10 Mo.")))
        return report
    is_csv = filename.lower().endswith(".csv") or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (
        b"{",
        b"[",
    )
    if is_csv:
        group_name = (name or Path(filename).stem or _("Groupe importé")).strip()[:200]
        groups = _csv_groups(data, group_name, report)
    else:
        groups = _json_groups(data, report)
    if not report.ok:
        return report
    if organisation.kind == Kind.ESTABLISHMENT:
        establishment = organisation
    elif establishment is not None and not establishment.path.startswith(organisation.path):
        establishment = None

    known = {
        email: staff
        for staff in StaffMember.objects.filter(establishment__path__startswith=organisation.path)
        .annotate(folded=Lower("email"))
        .exclude(email="")
        for email in [staff.folded]
    }
    resolvers: dict[int, OrgResolver] = {}
    by_establishment: dict[int, list[StaffRecord]] = {}
    establishments: dict[int, Organisation] = {}
    group_emails: list[tuple[str, list[str]]] = []
    seen_at: dict[str, str] = {}
    # StaffRecord.ref is an index in here, so a problem found by the upsert plan is named
    # where its target was read.
    record_targets: list[tuple] = []

    for group_name, _path, targets, checker in groups:

        def fail(target, key, message, checker=checker):
            if checker is None:
                report.problems.append(
                    ImportProblem(target.line, target.columns.get(key, key), message)
                )
            else:
                checker.fail((*target.ref, key) if key else target.ref, message)

        emails = []
        for target in targets:
            try:
                email = check_email(target.email) if target.email else ""
            except ValueError as exc:
                fail(target, "email", str(exc))
                continue
            if not email:
                fail(target, "email", _("adresse obligatoire"))
                continue
            folded = email.casefold()
            where = target.line if checker is None else ".".join(map(str, target.ref))
            if folded in emails:
                fail(
                    target,
                    "email",
                    _("adresse « %(email)s » déjà présente (%(where)s)")
                    % {"email": email, "where": seen_at.get(folded, "")},
                )
                continue
            seen_at.setdefault(folded, str(where))
            emails.append(folded)
            existing = known.get(folded)
            home = existing.establishment if existing else establishment
            if home is None:
                fail(
                    target,
                    "email",
                    _(
                        "personne inconnue dans %(org)s : choisissez l'établissement où créer "
                        "les nouvelles personnes"
                    )
                    % {"org": organisation},
                )
                continue
            if existing is None and not (target.first_name and target.last_name):
                fail(
                    target,
                    "first_name" if not target.first_name else "last_name",
                    _("prénom et nom obligatoires pour une personne nouvelle"),
                )
                continue
            values = {"email": email}
            for key in ("first_name", "last_name"):
                if getattr(target, key):
                    values[key] = getattr(target, key)[:100]
            if target.position:
                values["job_title"] = target.position[:120]
            if target.service:
                resolver = resolvers.get(home.pk)
                if resolver is None:
                    resolver = resolvers[home.pk] = OrgResolver(
                        home, create_missing=create_services
                    )
                try:
                    values["service"] = resolver.service(target.service)
                except OrgLookupError as exc:
                    fail(target, "service", str(exc))
                    continue
                values["site"] = resolver.site_of(values["service"])
            establishments[home.pk] = home
            record_targets.append((target, fail))
            by_establishment.setdefault(home.pk, []).append(
                StaffRecord(ref=len(record_targets) - 1, values=values)
            )
        group_emails.append((group_name, emails))
    if not report.ok:
        return report

    with transaction.atomic():
        for pk, records in by_establishment.items():
            resolver = resolvers.get(pk)
            plan = plan_upsert(
                establishments[pk],
                records,
                source=StaffSource.CSV,
                labels={key: key for key in CSV_LABELS},
                pending_orgs=resolver.pending if resolver else [],
            )
            for record, problem in plan.problems:
                target, fail = record_targets[record.ref]
                fail(target, problem.field, problem.message)
            if plan.problems:
                continue
            apply_plan(plan)
            report.people_created += len(plan.creates)
            report.people_updated += len(plan.updates)
        if not report.ok:
            transaction.set_rollback(True)
            return report
        ids = dict(
            StaffMember.objects.filter(establishment__path__startswith=organisation.path)
            .annotate(folded=Lower("email"))
            .values_list("folded", "pk")
        )
        for group_name, emails in group_emails:
            target_list, created = TargetList.objects.get_or_create(
                organisation=organisation, name=group_name, defaults={"source": "gophish"}
            )
            target_list.members.set([ids[email] for email in emails if email in ids])
            (report.created if created else report.updated).append(group_name)
    return report


# ---------------------------------------------------------------------------------- dispatch


def guess_kind(data: bytes, filename: str = "") -> str | None:
    """templates, pages or groups from the file's content (CSV is always a group)."""
    if filename.lower().endswith(".csv"):
        return "groups"
    try:
        value = json.loads(decode(data)[0])
    except ValueError:
        return "groups" if b"," in data or b";" in data else None
    first = value[0] if isinstance(value, list) and value else value
    if not isinstance(first, dict):
        return None
    if "targets" in first:
        return "groups"
    if {"capture_credentials", "capture_passwords", "redirect_url"} & set(first):
        return "pages"
    if {"subject", "text", "envelope_sender", "attachments"} & set(first):
        return "templates"
    return None


def import_file(
    organisation: Organisation,
    kind: str,
    data: bytes,
    *,
    filename: str = "",
    actor=None,
    **group_options,
) -> ImportReport:
    if kind == "templates":
        return import_templates(organisation, data, actor=actor)
    if kind == "pages":
        return import_pages(organisation, data, actor=actor)
    if kind == "groups":
        return import_groups(organisation, data, filename=filename, actor=actor, **group_options)
    raise ValueError(kind)


def unknown_placeholders(text: str) -> list[str]:
    """`{{...}}` left in a text after conversion (e.g. in an imported landing page)."""
    from hygie.phishing.lures import PLACEHOLDERS

    return [found for found in find_placeholders(text) if found[2:-2] not in PLACEHOLDERS]


def record_import_event(report: ImportReport, organisation, *, request=None, filename=""):
    """Journal a completed import (counts, names and file name; never the file's content)."""
    from hygie.core.audit import record_event

    record_event(
        "phishing.gophish_import",
        request=request,
        target=organisation,
        organisation=organisation,
        details={
            **report.counts(),
            "names": (report.created + report.updated)[:50],
            "file": filename[:200],
            "origin": "web" if request is not None else "cli",
        },
    )
