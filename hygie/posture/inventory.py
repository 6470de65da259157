"""The asset inventory: computers from Active Directory, from a CSV file, from a GLPI export;
their end-of-life status; the evidence and the action-plan items it leads to.

An asset is keyed by its short host name in upper case (NetBIOS style: "PC-CARDIO-01"), so the
AD computer "pc-cardio-01$", the GLPI computer "pc-cardio-01" and the CSV row
"PC-CARDIO-01.chu.local" are one machine (docs/decisions/0742-asset-identity-and-merging.md).

Imports are bulk operations (50,000 AD computers in a few seconds): the organisation's assets are
read once, new ones created and changed ones updated in batches, and `eol.match` answers each
distinct OS string once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hygie.core.audit import record_event
from hygie.core.csv_input import detect_delimiter, read_records
from hygie.posture import eol
from hygie.posture.models import Asset, AssetImport, AssetKind, AssetSource, EolGroupAction

BATCH = 2000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ERRORS = 50
FIELD_LIMITS = {
    "name": 255,
    "os_name": 160,
    "os_version": 80,
    "site": 160,
    "service": 160,
    "serial": 120,
}


# Names, kinds, places ----------------------------------------------------------------------------
def asset_name(raw: str) -> str:
    """ "pc-01$" / "pc-01.chu.local" / " PC-01 " → "PC-01"."""
    text = (raw or "").strip().rstrip("$")
    if "." in text and not text.replace(".", "").isdigit():  # keep IP addresses whole
        text = text.split(".", 1)[0]
    return text.upper()


_SERVER_OS = re.compile(
    r"server|esxi|vmware|red hat|rhel|centos|debian|ubuntu|suse|sles|linux|unix|aix|solaris",
    re.IGNORECASE,
)
_WORKSTATION_OS = re.compile(r"windows|mac ?os|os x", re.IGNORECASE)


def kind_from_os(os_name: str, *, is_dc: bool = False) -> str:
    """Server for server systems (and domain controllers), workstation for client systems."""
    if is_dc or _SERVER_OS.search(os_name or ""):
        return AssetKind.SERVER
    if _WORKSTATION_OS.search(os_name or ""):
        return AssetKind.WORKSTATION
    return AssetKind.OTHER


def _plain(text: str) -> str:
    """Lower case, accents removed, punctuation as single spaces: how headers are compared."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


# Organisational units that group machines by type, not by place (compared in _plain form).
GENERIC_OUS = {
    "computers",
    "ordinateurs",
    "postes",
    "postes de travail",
    "poste de travail",
    "pc",
    "pcs",
    "workstations",
    "desktops",
    "laptops",
    "portables",
    "fixes",
    "clients",
    "stations",
    "machines",
    "servers",
    "serveurs",
    "srv",
    "sites",
    "services",
    "devices",
    "equipements",
    "materiels",
    "domain controllers",
    "controleurs de domaine",
    "disabled",
    "desactives",
    "inactifs",
    "quarantaine",
    "new",
    "nouveaux",
}


def place_from_dn(dn: str) -> tuple[str, str]:
    """(site, service) guessed from a computer's organisational units (see decision 0743).

    OUs naming a kind of machine ("Computers", "Postes", "Serveurs"…) are skipped. An OU whose
    name starts with "Site" is the site and the OU inside it the service; otherwise the outermost
    remaining OU is the site and the next one the service."""
    parts = re.split(r"(?<!\\),", dn or "")
    names = []
    for part in reversed(parts):  # from the domain root inwards
        key, _sep, value = part.strip().partition("=")
        if key.strip().lower() != "ou":
            continue
        value = value.replace("\\,", ",").strip()
        if value and _plain(value) not in GENERIC_OUS:
            names.append(value[:160])
    if not names:
        return "", ""
    for index, name in enumerate(names):
        if _plain(name).startswith("site "):
            return name, names[index + 1] if index + 1 < len(names) else ""
    return names[0], names[1] if len(names) > 1 else ""


# Upsert ------------------------------------------------------------------------------------------
@dataclass
class _Row:
    name: str
    line: int | None = None
    values: dict = field(default_factory=dict)


def _upsert(
    organisation, rows: list[_Row], source: str, *, fill_only: tuple = ()
) -> tuple[int, int]:
    """Create or update the organisation's assets from rows; (created, updated).

    A row's values overwrite the asset's, except empty values and the fields in `fill_only`,
    which are only written when the asset has none."""
    releases = eol.current_releases()
    existing = {a.name: a for a in Asset.objects.filter(organisation=organisation)}
    to_create, to_update = [], []
    changed_fields: set[str] = set()
    for row in rows:
        values = {k: v for k, v in row.values.items() if v not in ("", None)}
        asset = existing.get(row.name)
        if asset is None:
            asset = Asset(organisation=organisation, name=row.name, source=source, **values)
            if not asset.kind:
                asset.kind = kind_from_os(asset.os_name)
            release = eol.match(asset.os_name, asset.os_version, releases)
            asset.eol_id = release.pk if release is not None else None
            existing[row.name] = asset
            to_create.append(asset)
            continue
        dirty = False
        for key, value in values.items():
            if key in fill_only and getattr(asset, key):
                continue
            if getattr(asset, key) != value:
                setattr(asset, key, value)
                changed_fields.add(key)
                dirty = True
        if "os_name" in values or "os_version" in values:
            release = eol.match(asset.os_name, asset.os_version, releases)
            wanted = release.pk if release is not None else None
            if wanted != asset.eol_id:
                asset.eol_id = wanted
                changed_fields.add("eol")
                dirty = True
        if dirty and asset.pk:
            to_update.append(asset)
    Asset.objects.bulk_create(to_create, batch_size=BATCH)
    if to_update:
        now = timezone.now()
        for asset in to_update:
            asset.updated_at = now
        Asset.objects.bulk_update(to_update, [*changed_fields, "updated_at"], batch_size=BATCH)
    return len(to_create), len(to_update)


def import_ad_computers(organisation, computers, *, user=None) -> AssetImport:
    """Record the computers of an AD audit in the inventory (called for every audit).

    Upsert by name; the kind comes from the OS (domain controllers are servers); site and service
    are guessed from the OUs and only fill empty fields (a GLPI or CSV import is more reliable);
    last seen = lastLogonTimestamp. Computers absent from this audit are kept (an audit may cover
    part of the domain); their "last seen" ages."""
    rows: dict[str, _Row] = {}
    for computer in computers:
        name = asset_name(computer.sam or computer.dns_hostname)
        if not name:
            continue
        site, service = place_from_dn(computer.dn)
        values = {
            "os_name": (computer.os or "")[:160],
            "os_version": (computer.os_version or "")[:80],
            "kind": kind_from_os(computer.os, is_dc=computer.is_dc),
            "enabled": computer.enabled,
            "site": site,
            "service": service,
        }
        if computer.last_logon is not None:
            values["last_seen"] = computer.last_logon
        rows[name[:255]] = _Row(name[:255], values=values)
    with transaction.atomic():
        created, updated = _upsert(
            organisation, list(rows.values()), AssetSource.AD, fill_only=("site", "service")
        )
        record = AssetImport.objects.create(
            organisation=organisation,
            source=AssetSource.AD,
            rows=len(rows),
            created=created,
            updated=updated,
            imported_by=user,
        )
        publish_outcomes(organisation)
    return record


# CSV and GLPI files ------------------------------------------------------------------------------
# Accepted headers, compared in _plain form (accents, case and punctuation do not matter). Order
# within a field is a preference: when a file has several (GLPI's "Dernier inventaire" and
# "Dernière modification"), the first listed wins.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": (
        "nom",
        "name",
        "nom de l ordinateur",
        "ordinateur",
        "computer",
        "computer name",
        "hostname",
        "nom d hote",
        "machine",
    ),
    "kind": ("type", "kind", "type de materiel", "categorie", "category"),
    "os_name": (
        "systeme d exploitation nom",
        "systeme d exploitation",
        "systeme",
        "os",
        "os name",
        "operating system",
        "operating system name",
    ),
    "os_version": (
        "systeme d exploitation version",
        "version du systeme",
        "version",
        "os version",
        "operating system version",
    ),
    "site": ("site", "lieu", "location", "localisation"),
    "service": ("service", "groupe", "group", "unite", "uf", "pole", "department", "departement"),
    "serial": (
        "numero de serie",
        "n de serie",
        "no de serie",
        "serial",
        "serial number",
        "serialnumber",
    ),
    "enabled": ("actif", "enabled", "active", "en service"),
    "last_seen": (
        "derniere connexion",
        "last seen",
        "last logon",
        "dernier inventaire",
        "derniere date d inventaire",
        "last inventory",
        "last inventory update",
        "derniere modification",
        "last update",
        "date mod",
    ),
}
COLUMN_LABELS = {
    "name": "Nom",
    "kind": "Type",
    "os_name": "Système",
    "os_version": "Version",
    "site": "Site",
    "service": "Service",
    "serial": "Numéro de série",
    "enabled": "Actif",
    "last_seen": "Dernière connexion",
}
_ALIASES = {
    alias: (fieldname, rank)
    for fieldname, aliases in COLUMNS.items()
    for rank, alias in enumerate(aliases)
}
GLPI_MARKERS = {"systeme d exploitation nom", "entite", "dernier inventaire", "date mod"}

KIND_WORDS = {
    AssetKind.SERVER: ("serveur", "server", "srv", "hyperviseur", "hypervisor", "virtuel", "vm"),
    AssetKind.WORKSTATION: (
        "poste",
        "workstation",
        "desktop",
        "ordinateur",
        "portable",
        "laptop",
        "pc",
        "station",
        "tout en un",
        "all in one",
        "client leger",
        "thin client",
        "notebook",
        "tablette",
        "tablet",
        "mini pc",
    ),
    AssetKind.MEDICAL: ("biomedical", "medical", "dispositif", "imagerie", "modalite"),
    AssetKind.NETWORK: (
        "reseau",
        "network",
        "switch",
        "commutateur",
        "routeur",
        "router",
        "pare feu",
        "firewall",
        "borne",
        "wifi",
    ),
    AssetKind.OTHER: ("autre", "other", "imprimante", "printer"),
}
_TRUE = {"oui", "o", "yes", "y", "true", "vrai", "1", "actif", "active", "en service"}
_FALSE = {
    "non",
    "n",
    "no",
    "false",
    "faux",
    "0",
    "inactif",
    "inactive",
    "desactive",
    "disabled",
    "hors service",
    "rebut",
}
_MULTI = re.compile(r"\$\$##\$\$|<br\s*/?>|\n")
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
)


class InventoryFileError(Exception):
    """A file refused whole: `problems` are (line or None, column label or "", message)."""

    def __init__(self, problems: list[tuple[int | None, str, str]], name: str = ""):
        self.problems = problems
        self.name = name
        super().__init__("; ".join(self.format_lines()))

    def format_lines(self) -> list[str]:
        lines = []
        for line, column, message in self.problems:
            text = f"« {column} » : {message}" if column else message
            lines.append(
                _("ligne %(line)s, %(text)s") % {"line": line, "text": text} if line else text
            )
        return lines


def _decode(data: bytes) -> str:
    """UTF-8 with or without BOM, then Windows-1252, then Latin-1 (which reads any byte)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _kind(value: str) -> str:
    plain = _plain(value)
    if not plain:
        return ""
    for kind, words in KIND_WORDS.items():
        if any(plain == w or plain.startswith(w + " ") or f" {w}" in f" {plain}" for w in words):
            return kind
    return ""


def _datetime(value: str) -> dt.datetime | None:
    text = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    raise ValueError


def read_inventory_file(data: bytes, filename: str = "") -> tuple[str, list[_Row]]:
    """(source, rows) of a CSV or GLPI export; InventoryFileError naming every bad row's line and
    column (the header is line 1)."""
    if len(data) > MAX_FILE_BYTES:
        raise InventoryFileError([(None, "", _("Le fichier dépasse 20 Mo."))], filename)
    text = _decode(data)
    delimiter = detect_delimiter(text)
    records, unreadable = read_records(text, delimiter)
    if not records:
        raise InventoryFileError([(None, "", _("Le fichier est vide."))], filename)
    header_line, header = records[0]
    plain_header = [_plain(cell) for cell in header]
    columns: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(plain_header):
        known = _ALIASES.get(cell)
        if known is None:
            continue
        fieldname, rank = known
        if fieldname not in columns or rank < columns[fieldname][1]:
            columns[fieldname] = (index, rank)
    source = AssetSource.GLPI if GLPI_MARKERS & set(plain_header) else AssetSource.CSV
    if "name" not in columns:
        raise InventoryFileError(
            [
                (
                    header_line,
                    "",
                    _(
                        "colonne « Nom » (ou « Name ») introuvable dans l'en-tête ; "
                        "colonnes lues : %(columns)s."
                    )
                    % {"columns": ", ".join(header)},
                )
            ],
            filename,
        )
    problems: list[tuple[int | None, str, str]] = []
    rows: list[_Row] = []
    seen: dict[str, int] = {}

    def problem(line, fieldname, message):
        if len(problems) < MAX_ERRORS:
            problems.append((line, header[columns[fieldname][0]] if fieldname else "", message))

    for line, cells in records[1:]:

        def cell(fieldname, cells=cells):
            if fieldname not in columns:
                return ""
            index = columns[fieldname][0]
            raw = cells[index] if index < len(cells) else ""
            return next((p.strip() for p in _MULTI.split(raw) if p.strip()), "")

        values: dict = {}
        raw_name = cell("name")
        name = asset_name(raw_name)
        if not name:
            problem(line, "name", _("nom manquant."))
        elif len(name) > FIELD_LIMITS["name"]:
            problem(line, "name", _("255 caractères au plus."))
        elif name in seen:
            problem(
                line,
                "name",
                _("« %(name)s » figure déjà ligne %(first)s.")
                % {"name": name, "first": seen[name]},
            )
        else:
            seen[name] = line
        for fieldname in ("os_name", "os_version", "site", "service", "serial"):
            value = cell(fieldname)
            if fieldname == "site" and ">" in value:  # GLPI locations: "Site Nord > Bât. A"
                value = value.split(">", 1)[0].strip()
            if len(value) > FIELD_LIMITS[fieldname]:
                problem(
                    line,
                    fieldname,
                    _("%(limit)s caractères au plus.") % {"limit": FIELD_LIMITS[fieldname]},
                )
            values[fieldname] = value
        kind = _kind(cell("kind"))
        if kind:
            values["kind"] = kind
        enabled = _plain(cell("enabled"))
        if enabled in _TRUE:
            values["enabled"] = True
        elif enabled in _FALSE:
            values["enabled"] = False
        elif enabled:
            problem(
                line,
                "enabled",
                _("« %(value)s » : oui ou non attendu.") % {"value": cell("enabled")},
            )
        seen_text = cell("last_seen")
        if seen_text:
            try:
                values["last_seen"] = _datetime(seen_text)
            except ValueError:
                problem(
                    line,
                    "last_seen",
                    _(
                        "« %(value)s » : date attendue (AAAA-MM-JJ ou "
                        "JJ/MM/AAAA, heure facultative)."
                    )
                    % {"value": seen_text},
                )
        rows.append(_Row(name, line, values))
    if unreadable:
        problems.append((unreadable[0], "", unreadable[1]))
    if not rows and not problems:
        problems.append((None, "", _("Aucune ligne après l'en-tête.")))
    if problems:
        raise InventoryFileError(problems, filename)
    return source, rows


def import_inventory_file(
    organisation, data: bytes, *, filename: str = "", user=None, request=None
) -> AssetImport:
    """Import a CSV or GLPI export, all or nothing; InventoryFileError when any row is wrong."""
    source, rows = read_inventory_file(data, filename)
    with transaction.atomic():
        created, updated = _upsert(organisation, rows, source)
        record = AssetImport.objects.create(
            organisation=organisation,
            source=source,
            filename=filename[:255],
            rows=len(rows),
            created=created,
            updated=updated,
            imported_by=user,
        )
        record_event(
            "posture.assets_imported",
            request=request,
            actor=user,
            target=record,
            organisation=organisation,
            details={"source": source, "rows": len(rows), "created": created, "updated": updated},
        )
        publish_outcomes(organisation)
    return record


# Figures, evidence, actions ----------------------------------------------------------------------
@dataclass
class Summary:
    total: int = 0
    counts: Counter = field(default_factory=Counter)  # status → assets
    by_site: dict = field(default_factory=dict)  # site → Counter(status)
    by_service: dict = field(default_factory=dict)  # (site, service) → Counter(status)
    groups: list = field(default_factory=list)  # [(release, site, kind, count, status)]

    @property
    def supported_share(self) -> float | None:
        if not self.total:
            return None
        return round(100 * self.counts[eol.SUPPORTED] / self.total, 1)


def summarise(assets, today: dt.date | None = None) -> Summary:
    """Counts by EOL status, per site, per service, and per (release, site, kind) group, of the
    enabled assets of a queryset — grouped in the database, not per asset in Python."""
    from hygie.posture.models import EolRelease

    today = today or timezone.localdate()
    releases = {r.pk: r for r in EolRelease.objects.all()}
    summary = Summary()
    by_site: dict = defaultdict(Counter)
    by_service: dict = defaultdict(Counter)
    rows = (
        assets.filter(enabled=True)
        .values("eol_id", "site", "service", "kind")
        .order_by()
        .annotate(n=Count("pk"))
    )
    groups: dict = defaultdict(int)
    for row in rows:
        release = releases.get(row["eol_id"])
        state = eol.status(release, today)
        n = row["n"]
        summary.total += n
        summary.counts[state] += n
        by_site[row["site"]][state] += n
        by_service[(row["site"], row["service"])][state] += n
        if release is not None:
            groups[(release.pk, row["site"], row["kind"])] += n
    summary.by_site = dict(sorted(by_site.items()))
    summary.by_service = dict(sorted(by_service.items()))
    summary.groups = sorted(
        (
            (releases[pk], site, kind, n, eol.status(releases[pk], today))
            for (pk, site, kind), n in groups.items()
        ),
        key=lambda g: (g[0].eol_on or dt.date.max, g[1], g[2]),
    )
    return summary


KIND_PLURALS = {
    AssetKind.WORKSTATION: ("poste", "postes"),
    AssetKind.SERVER: ("serveur", "serveurs"),
}


def _group_title(release, site: str, kind: str, count: int) -> str:
    singular, plural = KIND_PLURALS.get(kind, ("équipement", "équipements"))
    what = ngettext("le %(count)s %(noun)s", "les %(count)s %(noun)s", count) % {
        "count": count,
        "noun": singular if count == 1 else plural,
    }
    if site:
        return _("Remplacer %(what)s %(release)s du site %(site)s") % {
            "what": what,
            "release": release.label,
            "site": site,
        }
    return _("Remplacer %(what)s %(release)s") % {"what": what, "release": release.label}


def publish_outcomes(organisation, today: dt.date | None = None) -> Summary:
    """After an import: the evidence fact `posture.eol_inventory` and one action-plan item per
    group of assets past their end of security support (updated, never duplicated)."""
    from hygie.actions.models import ActionItem, Priority
    from hygie.actions.services import HORIZON_DAYS
    from hygie.assessments.services import record_fact

    today = today or timezone.localdate()
    summary = summarise(Asset.objects.filter(organisation=organisation), today)
    url = reverse("posture:assets", args=[organisation.pk])
    if summary.total:
        record_fact(
            organisation,
            "posture.eol_inventory",
            source_key="inventory",
            occurred_on=today,
            summary=_(
                "%(total)s équipements inventoriés : %(share)s %% sur des systèmes maintenus, "
                "%(ended)s hors support de sécurité, %(ending)s en fin de support sous 12 mois, "
                "%(unknown)s de système inconnu."
            )
            % {
                "total": summary.total,
                "share": summary.supported_share,
                "ended": summary.counts[eol.ENDED],
                "ending": summary.counts[eol.ENDING],
                "unknown": summary.counts[eol.UNKNOWN],
            },
            value=summary.supported_share,
            url=url,
            details={state: summary.counts[state] for state in eol.STATUSES},
        )
    for release, site, kind, count, state in summary.groups:
        if state != eol.ENDED:
            continue
        title = _group_title(release, site, kind, count)[:300]
        link, _created = EolGroupAction.objects.get_or_create(
            organisation=organisation, release=release, site=site, kind=kind
        )
        item = link.action
        if item is not None:
            if item.is_open and item.title != title:
                item.title = title
                item.save(update_fields=["title", "updated_at"])
            continue
        priority = Priority.HIGH
        item = ActionItem.objects.create(
            organisation=organisation,
            title=title,
            description=_(
                "%(release)s ne reçoit plus de correctifs de sécurité depuis le %(date)s. "
                "Remplacer ou mettre à niveau ces équipements ; à défaut, les isoler du réseau "
                "et souscrire un support étendu s'il existe. Liste : %(url)s"
            )
            % {
                "release": release.label,
                "date": release.eol_on.strftime("%d/%m/%Y") if release.eol_on else "?",
                "url": url + f"?status={eol.ENDED}",
            },
            priority=priority,
            due_on=today + dt.timedelta(days=HORIZON_DAYS[priority]),
            origin="audit",
        )
        link.action = item
        link.save(update_fields=["action"])
    return summary
