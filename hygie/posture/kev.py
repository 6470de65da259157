"""CISA's Known Exploited Vulnerabilities catalogue, imported from its JSON file.

The catalogue is platform-wide reference data: only a platform administrator imports it (page or
`hygie kev-import FILE`), and the latest import is the one in force. Hygie never downloads it
(hospitals are often offline): the file is fetched by a person from CISA's site and uploaded.

An import is atomic: the whole file is checked first, every problem is reported with the entry
index and field (or line and column when the JSON itself is broken), and nothing is written
unless the whole file is valid. A catalogue older than the one in force is refused unless the
caller says so explicitly (`allow_older`), so that an old copy lying in a download folder cannot
silently hide the vulnerabilities added since.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from hygie.posture.models import KevCatalogue, KevEntry

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PROBLEMS = 20
SOURCE_URL = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
FEED_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
RANSOMWARE_VALUES = {"Known": True, "Unknown": False}
REQUIRED_TEXT = ("vendorProject", "product", "vulnerabilityName")
# Field name in the file -> KevEntry field, with the model's length limit.
TEXT_FIELDS = {
    "vendorProject": ("vendor_project", 200),
    "product": ("product", 200),
    "vulnerabilityName": ("name", 300),
    "shortDescription": ("short_description", None),
    "requiredAction": ("required_action", None),
    "notes": ("notes", None),
}


class KevError(Exception):
    """The file was refused; `problems` are the lines to show, nothing was imported."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ParsedCatalogue:
    title: str
    version: str
    released: dt.datetime | None
    entries: list[KevEntry]


@dataclass
class ImportOutcome:
    catalogue: KevCatalogue
    previous: KevCatalogue | None
    added: list[str] = field(default_factory=list)  # CVE ids new since the previous catalogue
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = _("Catalogue KEV %(version)s importé : %(count)s vulnérabilités.") % {
            "version": self.catalogue.catalog_version,
            "count": self.catalogue.count,
        }
        if self.previous:
            text += " " + _("%(added)s nouvelles depuis la version %(previous)s.") % {
                "added": len(self.added),
                "previous": self.previous.catalog_version,
            }
        return text


def current() -> KevCatalogue | None:
    """The catalogue in force (the latest imported), or None."""
    return KevCatalogue.objects.order_by("-imported_at", "-pk").first()


# Parsing -----------------------------------------------------------------------------------------
def _date(value) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def parse(data: bytes) -> ParsedCatalogue:
    """Check the whole file; KevError listing every problem (at most MAX_PROBLEMS) otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KevError(
            [_("Le fichier n'est pas encodé en UTF-8 (octet %(pos)s).") % {"pos": exc.start + 1}]
        ) from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KevError(
            [
                _("JSON invalide, ligne %(line)s, colonne %(col)s : %(msg)s.")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            ]
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("vulnerabilities"), list):
        raise KevError(
            [
                _(
                    "Ce fichier n'est pas le catalogue KEV de la CISA : il manque la liste "
                    "« vulnerabilities »."
                )
            ]
        )
    problems: list[str] = []
    version = payload.get("catalogVersion")
    if not isinstance(version, str) or not version.strip():
        problems.append(_("Champ « catalogVersion » absent ou vide."))
        version = ""
    released = None
    raw_released = payload.get("dateReleased")
    if raw_released is not None:
        released = parse_datetime(raw_released) if isinstance(raw_released, str) else None
        if released is None:
            problems.append(
                _("Champ « dateReleased » : date invalide « %(value)s ».")
                % {"value": str(raw_released)[:40]}
            )
        elif released.tzinfo is None:
            released = released.replace(tzinfo=dt.UTC)
    vulnerabilities = payload["vulnerabilities"]
    count = payload.get("count")
    if count is not None and count != len(vulnerabilities):
        problems.append(
            _(
                "Champ « count » : le fichier annonce %(count)s vulnérabilités mais en contient "
                "%(found)s (fichier tronqué ou modifié ?)."
            )
            % {"count": count, "found": len(vulnerabilities)}
        )
    entries: list[KevEntry] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(vulnerabilities):
        if len(problems) >= MAX_PROBLEMS:
            problems.append(_("… et d'autres erreurs ; corrigez celles-ci d'abord."))
            break
        entry, entry_problems = _entry(index, item, seen)
        problems.extend(entry_problems)
        if entry is not None:
            entries.append(entry)
    if problems:
        raise KevError(problems[: MAX_PROBLEMS + 1])
    return ParsedCatalogue(
        title=str(payload.get("title") or ""),
        version=version.strip(),
        released=released,
        entries=entries,
    )


def _entry(index: int, item, seen: dict[str, int]) -> tuple[KevEntry | None, list[str]]:
    def where(name: str) -> str:
        label = f"vulnerabilities[{index}]"
        if isinstance(item, dict) and isinstance(item.get("cveID"), str):
            label += f" ({item['cveID']})"
        return _("%(where)s, champ « %(field)s »") % {"where": label, "field": name}

    if not isinstance(item, dict):
        return None, [_("vulnerabilities[%(index)s] : un objet est attendu.") % {"index": index}]
    problems = []
    cve = item.get("cveID")
    if not isinstance(cve, str) or not CVE_ID.match(cve.strip()):
        problems.append(
            where("cveID")
            + " : "
            + _("identifiant CVE invalide « %(value)s ».") % {"value": str(cve)[:40]}
        )
        cve = ""
    else:
        cve = cve.strip()
        if cve in seen:
            problems.append(
                where("cveID")
                + " : "
                + _("déjà présent à l'index %(other)s.") % {"other": seen[cve]}
            )
        seen[cve] = index
    values = {}
    for name, (attribute, limit) in TEXT_FIELDS.items():
        value = item.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems.append(where(name) + " : " + _("du texte est attendu."))
            continue
        value = value.strip()
        if name in REQUIRED_TEXT and not value:
            problems.append(where(name) + " : " + _("valeur obligatoire."))
        if limit and len(value) > limit:
            problems.append(
                where(name) + " : " + _("plus de %(limit)s caractères.") % {"limit": limit}
            )
        values[attribute] = value
    added = _date(item.get("dateAdded"))
    if added is None:
        problems.append(
            where("dateAdded")
            + " : "
            + _("date invalide « %(value)s » (AAAA-MM-JJ attendu).")
            % {"value": str(item.get("dateAdded"))[:40]}
        )
    due = None
    if item.get("dueDate") not in (None, ""):
        due = _date(item.get("dueDate"))
        if due is None:
            problems.append(
                where("dueDate")
                + " : "
                + _("date invalide « %(value)s » (AAAA-MM-JJ attendu).")
                % {"value": str(item.get("dueDate"))[:40]}
            )
    ransomware = item.get("knownRansomwareCampaignUse", "Unknown")
    if ransomware not in RANSOMWARE_VALUES:
        problems.append(
            where("knownRansomwareCampaignUse")
            + " : "
            + _("« Known » ou « Unknown » attendu, pas « %(value)s ».")
            % {"value": str(ransomware)[:40]}
        )
    cwes = item.get("cwes", [])
    if cwes is None:
        cwes = []
    if not isinstance(cwes, list) or not all(isinstance(c, str) for c in cwes):
        problems.append(where("cwes") + " : " + _("une liste d'identifiants CWE est attendue."))
        cwes = []
    if problems:
        return None, problems
    return (
        KevEntry(
            cve_id=cve,
            date_added=added,
            due_date=due,
            ransomware=RANSOMWARE_VALUES[ransomware],
            cwes=cwes,
            **values,
        ),
        [],
    )


# Import ------------------------------------------------------------------------------------------
def import_catalogue(
    data: bytes, *, user=None, filename: str = "", allow_older: bool = False
) -> ImportOutcome:
    """Replace the catalogue in force by this file, all or nothing.

    Refuses (KevError) a file older than the catalogue in force unless `allow_older`; then the
    outcome carries a warning instead.
    """
    if len(data) > MAX_FILE_BYTES:
        raise KevError([_("Le fichier dépasse 20 Mo.")])
    parsed = parse(data)
    warnings: list[str] = []
    with transaction.atomic():
        previous = KevCatalogue.objects.select_for_update().order_by("-imported_at", "-pk").first()
        if previous and _is_older(parsed, previous):
            message = _(
                "Ce catalogue (version %(version)s) est plus ancien que celui en vigueur "
                "(version %(current)s) : il ignorerait les vulnérabilités ajoutées depuis."
            ) % {"version": parsed.version, "current": previous.catalog_version}
            if not allow_older:
                raise KevError([message])
            warnings.append(message)
        before = set(KevEntry.objects.values_list("cve_id", flat=True))
        KevEntry.objects.all().delete()
        KevEntry.objects.bulk_create(parsed.entries, batch_size=500)
        catalogue = KevCatalogue.objects.create(
            catalog_version=parsed.version[:40],
            date_released=parsed.released,
            count=len(parsed.entries),
            filename=filename[:255],
            imported_by=user if user is not None and user.is_authenticated else None,
        )
        added = sorted({e.cve_id for e in parsed.entries} - before) if previous else []
        # The KEV status of every remote-access point may have changed.
        from hygie.posture import remote

        remote.refresh_all_facts()
    return ImportOutcome(catalogue=catalogue, previous=previous, added=added, warnings=warnings)


def _is_older(parsed: ParsedCatalogue, previous: KevCatalogue) -> bool:
    if parsed.released and previous.date_released:
        return parsed.released < previous.date_released
    return _version_key(parsed.version) < _version_key(previous.catalog_version)


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in re.split(r"[.\-]", version))
