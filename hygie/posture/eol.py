"""End-of-life dates of operating systems: the dataset shipped with Hygie, its update from a file,
and the matcher that tells which release an "<os name> <os version>" belongs to.

The dataset is hygie/posture/data/eol.yaml (facts, maintained by the project). It is loaded into
`EolRelease` after every `migrate` (apps.py): shipped rows are updated, rows a user imported are
kept. Users update it from a file in the same YAML format, or from endoflife.date's JSON API
answer for one product (`[{"cycle", "releaseDate", "support", "eol", "extendedSupport"}]`).

`match()` is called once per computer of an inventory (50,000 in the benchmark): the patterns are
compiled once per list of releases, and the answer for one OS string is remembered — an
establishment has tens of distinct OS strings, not thousands.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from hygie.core.yaml_paths import YamlFileError, compose, locate, path_label, read_yaml

DATA_FILE = Path(__file__).parent / "data" / "eol.yaml"
MAX_FILE_BYTES = 2 * 1024 * 1024
ENDING_WITHIN_DAYS = 365  # "support ending within 12 months"

SUPPORTED, ENDING, ENDED, UNKNOWN = "supported", "ending", "ended", "unknown"
STATUSES = (SUPPORTED, ENDING, ENDED, UNKNOWN)

PRODUCT_LABELS = {
    "windows": "Windows (postes de travail)",
    "windows-server": "Windows Server",
    "rhel": "Red Hat Enterprise Linux",
    "centos": "CentOS",
    "debian": "Debian",
    "ubuntu": "Ubuntu LTS",
    "sles": "SUSE Linux Enterprise Server",
    "esxi": "VMware ESXi",
}
# How a new cycle of a product imported from endoflife.date is recognised in an OS string
# (endoflife.date gives dates, not patterns). Windows client cycles ("11-26h2-e") carry an
# edition and a build that cannot be derived: they are reported as ignored.
PRODUCT_NAME_PATTERNS = {
    "windows-server": r"windows (?:storage )?server",
    "rhel": r"(?:red hat enterprise linux|\brhel\b)",
    "centos": r"centos",
    "debian": r"debian",
    "ubuntu": r"ubuntu",
    "sles": r"(?:suse linux enterprise server|\bsles\b)",
    "esxi": r"esxi",
}
_PRODUCT_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,59}$")
_KEYS = {"product", "cycle", "label", "patterns", "released", "support", "eol", "extended", "note"}


@dataclass(frozen=True)
class ReleaseSpec:
    product: str
    cycle: str
    label: str
    patterns: tuple[str, ...]
    released_on: dt.date | None
    support_ends_on: dt.date | None
    eol_on: dt.date | None
    extended_until: dt.date | None
    note: str = ""


class EolFileError(Exception):
    """A dataset file that cannot be loaded: `problems` are (line or None, field, message)."""

    def __init__(self, problems: list[tuple[int | None, str, str]], name: str = ""):
        self.problems = problems
        self.name = name
        super().__init__("; ".join(self.format_lines()))

    def format_lines(self) -> list[str]:
        lines = []
        for line, field, message in self.problems:
            text = f"{field} : {message}" if field else message
            lines.append(
                _("ligne %(line)s : %(text)s") % {"line": line, "text": text} if line else text
            )
        return lines


# Status --------------------------------------------------------------------------------------------
def status(release, today: dt.date) -> str:
    """supported / ending (security fixes end within 12 months) / ended / unknown (no release)."""
    if release is None:
        return UNKNOWN
    eol_on = release.eol_on
    if eol_on is None:  # no end announced yet (endoflife.date writes "eol": false)
        return SUPPORTED
    if eol_on <= today:
        return ENDED
    if eol_on <= today + dt.timedelta(days=ENDING_WITHIN_DAYS):
        return ENDING
    return SUPPORTED


# Matching --------------------------------------------------------------------------------------
_SYMBOLS = re.compile(r"[®™]|\((?:r|tm)\)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def normalise(os_name: str, os_version: str = "") -> str:
    """The text patterns are searched in: "<name> <version>", lower case, ® ™ removed."""
    text = f"{os_name or ''} {os_version or ''}"
    return _SPACES.sub(" ", _SYMBOLS.sub(" ", text)).strip().lower()


class Matcher:
    """The releases of one list with their patterns compiled, and the answers already given."""

    def __init__(self, releases):
        self.releases = releases  # kept so that the cache key (its id) stays valid
        self._compiled = []
        for release in releases:
            patterns = tuple(_compile(p) for p in (release.patterns or ()))
            self._compiled.append((tuple(p for p in patterns if p is not None), release))
        self._answers: dict[str, Any] = {}

    def match(self, os_name: str, os_version: str = ""):
        text = normalise(os_name, os_version)
        try:
            return self._answers[text]
        except KeyError:
            pass
        found = None
        if text:
            for patterns, release in self._compiled:
                if any(p.search(text) for p in patterns):
                    found = release
                    break
        if len(self._answers) < 100_000:
            self._answers[text] = found
        return found


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str):
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


_MATCHERS: OrderedDict[int, Matcher] = OrderedDict()


def matcher(releases) -> Matcher:
    """The Matcher of this list (the same list object gets the same Matcher)."""
    key = id(releases)
    found = _MATCHERS.get(key)
    if found is not None and found.releases is releases:
        _MATCHERS.move_to_end(key)
        return found
    found = Matcher(releases)
    _MATCHERS[key] = found
    while len(_MATCHERS) > 8:
        _MATCHERS.popitem(last=False)
    return found


def match(os_name: str, os_version: str, releases) -> ReleaseSpec | None:
    """The release an OS string belongs to (releases: ReleaseSpec or EolRelease objects, tried in
    order, the first whose pattern matches wins); None when none does."""
    return matcher(releases).match(os_name, os_version)


# Reading files ---------------------------------------------------------------------------------
class _Checker:
    def __init__(self):
        self.problems: list[tuple[tuple, str]] = []

    def add(self, path: tuple, message: str) -> None:
        self.problems.append((path, message))


def _date(value, path: tuple, c: _Checker) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    c.add(path, _("date attendue au format AAAA-MM-JJ, pas « %(value)s ».") % {"value": value})
    return None


def _text(value, path: tuple, c: _Checker, *, limit: int, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            c.add(path, _("valeur obligatoire."))
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        c.add(path, _("texte attendu."))
        return ""
    text = str(value).strip()
    if len(text) > limit:
        c.add(path, _("%(limit)s caractères au plus.") % {"limit": limit})
    return text[:limit]


def _check_dates(spec: dict, where: tuple, c: _Checker) -> None:
    order = [
        ("released", spec["released_on"]),
        ("support", spec["support_ends_on"]),
        ("eol", spec["eol_on"]),
        ("extended", spec["extended_until"]),
    ]
    known = [(key, value) for key, value in order if value is not None]
    for (first, a), (second, b) in zip(known, known[1:], strict=False):
        if b < a:
            c.add(
                (*where, second),
                _("la date (%(b)s) précède « %(first)s » (%(a)s).")
                % {"b": b.isoformat(), "first": first, "a": a.isoformat()},
            )


def _release(
    item: Any, where: tuple, c: _Checker, *, patterns_required: bool
) -> ReleaseSpec | None:
    if not isinstance(item, dict):
        c.add(where, _("une version s'écrit comme un dictionnaire (product, cycle, patterns…)."))
        return None
    for key in sorted(set(item) - _KEYS, key=str):
        c.add(
            (*where, key),
            _("clé inconnue (clés admises : %(keys)s).") % {"keys": ", ".join(sorted(_KEYS))},
        )
    before = len(c.problems)
    product = _text(item.get("product"), (*where, "product"), c, limit=60).lower()
    if product and not _PRODUCT_RE.match(product):
        c.add((*where, "product"), _("identifiant en minuscules, chiffres, points et tirets."))
    cycle = _text(item.get("cycle"), (*where, "cycle"), c, limit=60).lower()
    label = _text(item.get("label"), (*where, "label"), c, limit=160, required=False)
    note = _text(item.get("note"), (*where, "note"), c, limit=300, required=False)
    raw_patterns = item.get("patterns")
    patterns: list[str] = []
    if raw_patterns is None:
        if patterns_required:
            c.add((*where, "patterns"), _("au moins un motif est nécessaire."))
    elif not isinstance(raw_patterns, list) or not raw_patterns:
        c.add((*where, "patterns"), _("une liste de motifs (expressions régulières) est attendue."))
    else:
        for index, pattern in enumerate(raw_patterns):
            ppath = (*where, "patterns", index)
            if not isinstance(pattern, str) or not pattern.strip() or len(pattern) > 300:
                c.add(ppath, _("motif vide, trop long (300 caractères) ou qui n'est pas du texte."))
                continue
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                c.add(ppath, _("expression régulière invalide : %(error)s") % {"error": exc})
                continue
            patterns.append(pattern)
    dates = {
        "released_on": _date(item.get("released"), (*where, "released"), c),
        "support_ends_on": _date(item.get("support"), (*where, "support"), c),
        "eol_on": _date(item.get("eol"), (*where, "eol"), c),
        "extended_until": _date(item.get("extended"), (*where, "extended"), c),
    }
    if len(c.problems) == before:
        _check_dates(dates, where, c)
    if len(c.problems) != before:
        return None
    return ReleaseSpec(
        product=product,
        cycle=cycle,
        label=label or f"{PRODUCT_LABELS.get(product, product)} {cycle}",
        patterns=tuple(patterns),
        note=note,
        **dates,
    )


def parse_yaml(data: bytes | str, name: str = "") -> list[ReleaseSpec]:
    """The releases of a file in the format of data/eol.yaml; EolFileError naming every problem's
    line and field otherwise (nothing is returned when any release is wrong)."""
    try:
        text, document = read_yaml(data, max_bytes=MAX_FILE_BYTES)
    except YamlFileError as exc:
        raise EolFileError([(exc.line, "", exc.message)], name) from None
    c = _Checker()
    specs: list[ReleaseSpec] = []
    if not isinstance(document, dict) or not isinstance(document.get("releases"), list):
        c.add((), _("le fichier doit contenir une liste « releases: »."))
    else:
        seen: dict[tuple[str, str], int] = {}
        for index, item in enumerate(document["releases"]):
            spec = _release(item, ("releases", index), c, patterns_required=True)
            if spec is None:
                continue
            key = (spec.product, spec.cycle)
            if key in seen:
                c.add(
                    ("releases", index, "cycle"),
                    _("« %(product)s %(cycle)s » figure déjà en releases[%(first)s].")
                    % {"product": spec.product, "cycle": spec.cycle, "first": seen[key]},
                )
                continue
            seen[key] = index
            specs.append(spec)
    if c.problems:
        root = compose(text)
        raise EolFileError(
            [(locate(root, path)[1], path_label(path), message) for path, message in c.problems],
            name,
        )
    return specs


def _endoflife_date(value, field: str, index: int, c: _Checker) -> dt.date | None:
    # endoflife.date writes a date, or a boolean when the date is unknown (true = already over).
    if isinstance(value, bool) or value is None:
        return None
    return _date(value, (index, field), c)


def parse_endoflife_json(data: bytes | str, product: str, name: str = "") -> list[ReleaseSpec]:
    """The releases of one product from endoflife.date's API answer (a JSON list of cycles).

    Patterns are left empty: an existing (product, cycle) keeps its own; a new cycle gets one
    derived from the product's name when Hygie knows how (see PRODUCT_NAME_PATTERNS)."""
    product = (product or "").strip().lower()
    problems: list[tuple[int | None, str, str]] = []
    if not _PRODUCT_RE.match(product):
        raise EolFileError(
            [(None, "product", _("indiquez le produit (ex. : windows-server, debian)."))], name
        )
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise EolFileError([(None, "", _("Le fichier dépasse 2 Mo."))], name)
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise EolFileError(
                [
                    (
                        None,
                        "",
                        _("Le fichier n'est pas en UTF-8 (octet %(pos)s).") % {"pos": exc.start},
                    )
                ],
                name,
            ) from None
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise EolFileError(
            [(exc.lineno, "", _("JSON invalide : %(error)s") % {"error": exc.msg})], name
        ) from None
    if not isinstance(document, list) or not document:
        raise EolFileError(
            [(None, "", _('une liste de versions est attendue ([{"cycle": …, "eol": …}]).'))],
            name,
        )
    c = _Checker()
    specs = []
    seen = set()
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            c.add((index,), _("un objet JSON est attendu."))
            continue
        before = len(c.problems)
        cycle = _text(item.get("cycle"), (index, "cycle"), c, limit=60).lower()
        dates = {
            "released_on": _endoflife_date(item.get("releaseDate"), "releaseDate", index, c),
            "support_ends_on": _endoflife_date(item.get("support"), "support", index, c),
            "eol_on": _endoflife_date(item.get("eol"), "eol", index, c),
            "extended_until": _endoflife_date(
                item.get("extendedSupport"), "extendedSupport", index, c
            ),
        }
        if cycle in seen:
            c.add((index, "cycle"), _("version « %(cycle)s » en double.") % {"cycle": cycle})
        if len(c.problems) != before:
            continue
        seen.add(cycle)
        label = item.get("label") if isinstance(item.get("label"), str) else ""
        specs.append(
            ReleaseSpec(
                product=product,
                cycle=cycle,
                label=(label or f"{PRODUCT_LABELS.get(product, product)} {cycle}")[:160],
                patterns=(),
                note="",
                **dates,
            )
        )
    if c.problems:
        for path, message in c.problems:
            field = f"[{path[0]}]" + (f".{path[1]}" if len(path) > 1 else "")
            problems.append((None, field, message))
        raise EolFileError(problems, name)
    return specs


def read_release_file(data: bytes, filename: str, product: str = "") -> list[ReleaseSpec]:
    """A YAML dataset or an endoflife.date JSON file (its product from `product` or, as
    endoflife.date names its files, from the file name: windows-server.json)."""
    stem, _dot, extension = (filename or "").rpartition(".")
    extension = extension.lower()
    if extension == "json" or data.lstrip()[:1] == b"[":
        return parse_endoflife_json(data, product or Path(stem).name, filename)
    if extension in ("yaml", "yml", ""):
        return parse_yaml(data, filename)
    raise EolFileError(
        [(None, "", _("Fichier .yaml (format de Hygie) ou .json (endoflife.date) attendu."))],
        filename,
    )


@functools.lru_cache(maxsize=1)
def _builtin() -> tuple[ReleaseSpec, ...]:
    return tuple(parse_yaml(DATA_FILE.read_bytes(), DATA_FILE.name))


def builtin_releases() -> list[ReleaseSpec]:
    """The releases of the dataset shipped with Hygie, in matching order."""
    return list(_builtin())


# Database --------------------------------------------------------------------------------------
def current_releases() -> list:
    """The EolRelease rows in matching order (what inventories are matched against)."""
    from hygie.posture.models import EolRelease

    return list(EolRelease.objects.order_by("rank", "pk"))


def _values(spec: ReleaseSpec) -> dict:
    return {
        "label": spec.label,
        "released_on": spec.released_on,
        "support_ends_on": spec.support_ends_on,
        "eol_on": spec.eol_on,
        "extended_until": spec.extended_until,
        "note": spec.note,
    }


_BUILTIN_FIELDS = (
    "label",
    "released_on",
    "support_ends_on",
    "eol_on",
    "extended_until",
    "note",
    "patterns",
    "rank",
)


def load_builtin() -> dict:
    """Create or update the shipped releases; rows a user imported are left as they are.

    Runs after every `migrate`; returns the counts. Assets are matched again when anything
    changed, so an updated dataset shows at once."""
    from hygie.posture.models import EolOrigin, EolRelease

    if EolRelease._meta.db_table not in connection.introspection.table_names():
        return {}
    counts = {"created": 0, "updated": 0, "kept": 0}
    with transaction.atomic():
        existing = {(r.product, r.cycle): r for r in EolRelease.objects.all()}
        changed = []
        for rank, spec in enumerate(builtin_releases()):
            row = existing.get((spec.product, spec.cycle))
            values = {**_values(spec), "patterns": list(spec.patterns), "rank": rank}
            if row is None:
                EolRelease.objects.create(
                    product=spec.product, cycle=spec.cycle, origin=EolOrigin.BUILTIN, **values
                )
                counts["created"] += 1
            elif row.origin != EolOrigin.BUILTIN:
                counts["kept"] += 1
            elif any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                changed.append(row)
        if changed:
            EolRelease.objects.bulk_update(changed, [*_BUILTIN_FIELDS])
            counts["updated"] = len(changed)
        if counts["created"] or counts["updated"]:
            rematch_assets()
    return counts


def import_releases(specs: list[ReleaseSpec], *, user=None, request=None, filename="") -> dict:
    """Apply releases read from a user's file, all or nothing; returns the counts and the cycles
    that were ignored (new cycles without patterns that Hygie cannot derive)."""
    from hygie.core.audit import record_event
    from hygie.posture.models import EolOrigin, EolRelease

    outcome = {"created": 0, "updated": 0, "ignored": []}
    with transaction.atomic():
        existing = {(r.product, r.cycle): r for r in EolRelease.objects.select_for_update().all()}
        lowest = min((r.rank for r in existing.values()), default=0)
        new_rank = min(lowest, 0) - len(specs) - 1
        for spec in specs:
            row = existing.get((spec.product, spec.cycle))
            values = _values(spec)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)
                if spec.patterns:
                    row.patterns = list(spec.patterns)
                row.origin = EolOrigin.IMPORTED
                row.save()
                outcome["updated"] += 1
                continue
            patterns = list(spec.patterns) or _derived_patterns(spec)
            if not patterns:
                outcome["ignored"].append(spec.label)
                continue
            new_rank += 1
            EolRelease.objects.create(
                product=spec.product,
                cycle=spec.cycle,
                patterns=patterns,
                origin=EolOrigin.IMPORTED,
                rank=new_rank,
                **values,
            )
            outcome["created"] += 1
        rematch_assets()
        record_event(
            "posture.eol_imported",
            request=request,
            actor=user,
            details={
                "filename": filename[:200],
                "created": outcome["created"],
                "updated": outcome["updated"],
                "ignored": len(outcome["ignored"]),
            },
        )
    return outcome


def _derived_patterns(spec: ReleaseSpec) -> list[str]:
    name = PRODUCT_NAME_PATTERNS.get(spec.product)
    if not name:
        return []
    cycle = re.escape(spec.cycle.replace("-", " ")).replace(r"\ ", " ")
    return [rf"{name}.*(?<![\d.]){cycle}(?!\d)"]


def rematch_assets(organisation_ids=None) -> int:
    """Link every asset (of these organisations, or all) to its release again; returns the
    number of assets whose release changed. Grouped by OS string: a few queries, not one per
    asset."""
    from hygie.posture.models import Asset

    releases = current_releases()
    assets = Asset.objects.all()
    if organisation_ids is not None:
        assets = assets.filter(organisation_id__in=organisation_ids)
    changed = 0
    groups = assets.values_list("os_name", "os_version", "eol_id").distinct()
    for os_name, os_version, eol_id in groups:
        release = match(os_name, os_version, releases)
        wanted = release.pk if release is not None else None
        if wanted != eol_id:
            changed += assets.filter(os_name=os_name, os_version=os_version, eol_id=eol_id).update(
                eol_id=wanted
            )
    return changed
