"""Offline Active Directory audits: a Snapshot read from an export instead of a live directory.

`load_export(files)` takes the uploaded files as (name, content) pairs — a zip is expanded —
detects the format and returns a complete Snapshot, or raises ExportError naming the file and
the position (line and column, or object number). Never a partial snapshot: any entry that
cannot be read stops the import; `warnings` only carries ignorable oddities.

Formats:
- ldapdomaindump JSON: domain_users.json, domain_computers.json, domain_groups.json,
  domain_policy.json, domain_trusts.json (the first four are required); values as ldap3
  formats them (dates "2024-01-02 03:04:05+00:00", durations "42 days, 0:00:00").
- BloodHound JSON (legacy v4/v5 and CE v6), the files or SharpHound's zip: bloodhound.py.
- LDIF as `ldapsearch -LLL` writes it (folded lines, base64 "::" values) of the domain
  partition: the entries are recognised by their objectClass.

Secrets an export may hold (password hashes, LAPS passwords) are dropped unread.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterator

from django.utils.translation import gettext as _

from hygie.posture.ad import attributes as attrs
from hygie.posture.ad import bloodhound
from hygie.posture.ad.snapshot import Domain, ExportError, Snapshot, key

MAX_MEMBER_SIZE = 2 * 1024**3  # an expanded zip member; 150,000 objects is a few hundred MB
# All expanded members together, checked on the sizes the archive declares before anything is
# decompressed (zipfile never produces more than a member's declared size): a small upload that
# would expand to tens of gigabytes (a "zip bomb") is refused without being expanded.
MAX_EXPANDED_SIZE = 3 * 1024**3
LDAPDOMAINDUMP_FILES = {
    "domain_users.json": "users",
    "domain_computers.json": "computers",
    "domain_groups.json": "groups",
    "domain_policy.json": "policy",
    "domain_trusts.json": "trusts",
}
LDAPDOMAINDUMP_REQUIRED = ("domain_users.json", "domain_computers.json", "domain_groups.json")
# Other files ldapdomaindump writes next to them: accepted in a zip, not read.
LDAPDOMAINDUMP_IGNORED = re.compile(
    r"^domain_(users|computers|groups|policy|trusts|users_by_group|computers_by_os)\.(html|grep)$"
)

_FILETIME_ATTRIBUTES = {
    name.lower()
    for name in (
        "lastLogonTimestamp",
        "pwdLastSet",
        attrs.LAPS_LEGACY_EXPIRY,
        attrs.LAPS_WINDOWS_EXPIRY,
    )
}
_GENERALIZED_ATTRIBUTES = {"whencreated", "whenchanged"}
_INTERVAL_ATTRIBUTES = {
    name.lower()
    for name in (
        "maxPwdAge",
        "minPwdAge",
        "lockoutDuration",
        "lockOutObservationWindow",
        "msDS-MaximumPasswordAge",
        "msDS-MinimumPasswordAge",
        "msDS-LockoutDuration",
        "msDS-LockoutObservationWindow",
    )
}
# Only what the audit reads is converted (an ldapdomaindump object has some forty attributes).
_NEEDED = {
    name.lower()
    for name in (
        *attrs.USER_ATTRIBUTES,
        *attrs.COMPUTER_ATTRIBUTES,
        *attrs.GROUP_ATTRIBUTES,
        *attrs.DOMAIN_ATTRIBUTES,
        *attrs.TRUST_ATTRIBUTES,
        *attrs.PSO_ATTRIBUTES,
        attrs.LAPS_LEGACY_EXPIRY,
        attrs.LAPS_WINDOWS_EXPIRY,
    )
}
_LOWER: dict[str, str] = {}  # attribute name -> lower case, memoised (bounded)
_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?([+-]\d\d:\d\d|Z)?$")
_DURATION = re.compile(r"^(?:(-?\d+) days?, )?(\d+):(\d\d):(\d\d)(?:\.(\d+))?$")


def _expand(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    expanded: list[tuple[str, bytes]] = []
    for name, content in files:
        if content[:4] != b"PK\x03\x04":
            expanded.append((_basename(name), content))
            continue
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
            members = [info for info in archive.infolist() if not info.is_dir()]
            if sum(info.file_size for info in members) > MAX_EXPANDED_SIZE:
                raise ExportError(
                    _("archive trop volumineuse une fois décompressée (plus de %(size)s Go)")
                    % {"size": MAX_EXPANDED_SIZE // 1024**3},
                    name,
                )
            for info in members:
                if info.file_size > MAX_MEMBER_SIZE:
                    raise ExportError(_("fichier trop volumineux dans l'archive"), info.filename)
                expanded.append((_basename(info.filename), archive.read(info)))
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, ValueError) as error:
            if isinstance(error, ExportError):
                raise
            raise ExportError(_("archive zip illisible ou tronquée"), name) from None
        except (RuntimeError, NotImplementedError):
            # SharpHound's --zippassword, or a compression method Python does not read
            raise ExportError(
                _("archive zip chiffrée ou compressée d'une façon non prise en charge"), name
            ) from None
    return expanded


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def load_export(files: list[tuple[str, bytes]]) -> Snapshot:
    """A Snapshot from exported files; raises ExportError naming the file and position."""
    if not files:
        raise ExportError(_("aucun fichier fourni"))
    files = [(name, content) for name, content in _expand(files) if name not in ("", ".")]
    names = {name.lower() for name, _content in files}
    if names & LDAPDOMAINDUMP_FILES.keys():
        return _load_ldapdomaindump(files)
    if any(bloodhound.looks_like_bloodhound(name, content) for name, content in files):
        return bloodhound.load(files)
    if len(files) == 1 and _looks_like_ldif(files[0][1]):
        return _load_ldif(*files[0])
    listed = ", ".join(sorted(names))[:300]
    raise ExportError(
        _(
            "format non reconnu (%(files)s) : attendu les fichiers JSON de ldapdomaindump"
            " (domain_users.json…), ceux de BloodHound (*_users.json… ou leur zip) ou un"
            " fichier LDIF"
        )
        % {"files": listed}
    )


# --- ldapdomaindump -------------------------------------------------------------------------


def _json(name: str, content: bytes):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExportError(
            _("texte UTF-8 invalide (octet %(byte)s)") % {"byte": error.start}, name
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        truncated = error.pos >= len(text.rstrip())
        message = _("JSON tronqué (fin de fichier inattendue)") if truncated else error.msg
        raise ExportError(
            _("%(message)s") % {"message": message},
            _("%(file)s, ligne %(line)s, colonne %(column)s")
            % {"file": name, "line": error.lineno, "column": error.colno},
        ) from None


def _filetime_text(value) -> str:
    if isinstance(value, int):
        return str(value)
    match = _DATE.match(str(value))
    if not match:
        raise ValueError(f"date attendue, « {str(value)[:40]} » reçue")
    year = int(match[1])
    if year <= 1601 or year >= 9999:
        return "0"
    when = dt.datetime(
        year,
        int(match[2]),
        int(match[3]),
        int(match[4]),
        int(match[5]),
        int(match[6]),
        tzinfo=dt.UTC,
    )
    fraction = int((match[7] or ".0")[1:8].ljust(7, "0"))  # in 100 ns
    return str((int(when.timestamp()) + 11644473600) * 10_000_000 + fraction)


def _generalized_text(value) -> str:
    match = _DATE.match(str(value))
    if not match:
        raise ValueError(f"date attendue, « {str(value)[:40]} » reçue")
    return "".join(match.groups()[:6]) + ".0Z"


def _interval_text(value) -> str:
    if isinstance(value, int):
        return str(value)
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"durée attendue, « {str(value)[:40]} » reçue")
    days = int(match[1] or 0)
    seconds = days * 86400 + int(match[2]) * 3600 + int(match[3]) * 60 + int(match[4])
    return str(-seconds * 10_000_000)


def _dump_entry(name: str, index: int, item) -> tuple[str, attrs.Entry]:
    """An ldapdomaindump object as (dn, raw entry)."""

    def where():  # built only for an error: 150,000 objects should not pay for it
        return _("%(file)s, objet n° %(index)s") % {"file": name, "index": index + 1}

    if not isinstance(item, dict) or not isinstance(item.get("attributes"), dict):
        raise ExportError(_("objet attendu avec « attributes » et « dn »"), where())
    dn = item.get("dn")
    if not isinstance(dn, str) or not dn:
        raise ExportError(_("« dn » manquant"), where())
    entry: attrs.Entry = {}
    for attribute, values in item["attributes"].items():
        lowered = _LOWER.get(attribute)
        if lowered is None:
            lowered = attribute.lower()
            if len(_LOWER) < 10_000:
                _LOWER[attribute] = lowered
        if lowered not in _NEEDED:  # secrets included: never in the list
            continue
        if not isinstance(values, list):
            values = [values]
        converted = []
        for value in values:
            if isinstance(value, dict | list) or value is None:
                raise ExportError(
                    _("%(attribute)s : valeur simple attendue") % {"attribute": attribute},
                    f"{where()} ({dn})",
                )
            try:
                if lowered in _FILETIME_ATTRIBUTES:
                    text = _filetime_text(value)
                elif lowered in _GENERALIZED_ATTRIBUTES:
                    text = _generalized_text(value)
                elif lowered in _INTERVAL_ATTRIBUTES:
                    text = _interval_text(value)
                elif isinstance(value, bool):
                    text = "TRUE" if value else "FALSE"
                else:
                    text = str(value)
            except ValueError as error:
                raise ExportError(f"{attribute} : {error}", f"{where()} ({dn})") from None
            converted.append(text.encode("utf-8"))
        entry[lowered] = converted
    return dn, entry


def _dump_list(name: str, content: bytes) -> list:
    data = _json(name, content)
    if not isinstance(data, list):
        raise ExportError(_("liste d'objets attendue"), _("%(file)s, ligne 1") % {"file": name})
    return data


def _convert(function, name: str, index: int, dn: str, entry: attrs.Entry):
    try:
        return function(dn, entry)
    except ValueError as error:
        raise ExportError(
            str(error),
            _("%(file)s, objet n° %(index)s (%(dn)s)")
            % {"file": name, "index": index + 1, "dn": dn},
        ) from None


def _load_ldapdomaindump(files: list[tuple[str, bytes]]) -> Snapshot:
    by_name: dict[str, tuple[str, bytes]] = {}
    for name, content in files:
        lowered = name.lower()
        if lowered in LDAPDOMAINDUMP_FILES:
            if lowered in by_name:
                raise ExportError(_("fichier fourni deux fois"), name)
            by_name[lowered] = (name, content)
        elif not LDAPDOMAINDUMP_IGNORED.match(lowered):
            raise ExportError(
                _("fichier inattendu dans un export ldapdomaindump (attendus : %(expected)s)")
                % {"expected": ", ".join(LDAPDOMAINDUMP_FILES)},
                name,
            )
    missing = [name for name in LDAPDOMAINDUMP_REQUIRED if name not in by_name]
    if missing:
        raise ExportError(
            _("fichier manquant dans l'export ldapdomaindump : %(missing)s")
            % {"missing": ", ".join(missing)}
        )
    warnings: list[str] = []
    domain = None
    if "domain_policy.json" in by_name:
        name, content = by_name["domain_policy.json"]
        policy = _dump_list(name, content)
        if len(policy) != 1:
            raise ExportError(
                _("un seul objet domaine attendu, %(count)s trouvés") % {"count": len(policy)},
                name,
            )
        dn, entry = _dump_entry(name, 0, policy[0])
        domain = _convert(attrs.to_domain, name, 0, dn, entry)
    else:
        warnings.append(
            _("domain_policy.json absent : stratégie de mots de passe du domaine non auditée.")
        )
    snapshot = Snapshot(
        domain=domain or Domain(dns_name=""),
        collected_at=dt.datetime.now(dt.UTC),
        source="ldapdomaindump",
        warnings=warnings,
    )
    name, content = by_name["domain_users.json"]
    for index, item in enumerate(_dump_list(name, content)):
        dn, entry = _dump_entry(name, index, item)
        snapshot.users.append(_convert(attrs.to_user, name, index, dn, entry))
    name, content = by_name["domain_computers.json"]
    for index, item in enumerate(_dump_list(name, content)):
        dn, entry = _dump_entry(name, index, item)
        snapshot.computers.append(_convert(attrs.to_computer, name, index, dn, entry))
    name, content = by_name["domain_groups.json"]
    for index, item in enumerate(_dump_list(name, content)):
        dn, entry = _dump_entry(name, index, item)
        snapshot.groups.append(_convert(attrs.to_group, name, index, dn, entry))
    if "domain_trusts.json" in by_name:
        name, content = by_name["domain_trusts.json"]
        for index, item in enumerate(_dump_list(name, content)):
            dn, entry = _dump_entry(name, index, item)
            snapshot.trusts.append(_convert(attrs.to_trust, name, index, dn, entry))
    _finish(snapshot)
    return snapshot


def _finish(snapshot: Snapshot) -> None:
    """What an export leaves implicit: the domain name from the objects' DNs."""
    if not snapshot.domain.dns_name:
        sample = next(iter(snapshot.users or snapshot.groups or snapshot.computers), None)
        if sample is None:
            raise ExportError(_("export vide : aucun utilisateur, groupe ni ordinateur"))
        parts = [p for p in sample.dn.split(",") if p.strip()[:3].lower() == "dc="]
        snapshot.domain.dn = ",".join(part.strip() for part in parts)
        snapshot.domain.dns_name = attrs.dns_name(snapshot.domain.dn)
        if not snapshot.domain.sid:
            snapshot.domain.sid = next(
                (u.sid.rpartition("-")[0] for u in snapshot.users if u.sid.count("-") > 6), ""
            )


# --- LDIF -----------------------------------------------------------------------------------


def _looks_like_ldif(content: bytes) -> bool:
    head = content.lstrip()[:200].lower()
    while head.startswith(b"#"):
        head = head.partition(b"\n")[2].lstrip()
    return head.startswith((b"dn:", b"version:"))


def _ldif_records(name: str, content: bytes) -> Iterator[tuple[int, str, attrs.Entry]]:
    """(first line number, dn, entry) for each record; folded lines joined, base64 decoded."""
    record: list[tuple[int, bytes]] = []
    logical: list[tuple[int, bytearray]] = []

    def flush():
        if not logical:
            return None
        lines = [(number, bytes(text)) for number, text in logical]
        logical.clear()
        return lines

    def parse(lines: list[tuple[int, bytes]]):
        start = lines[0][0]
        dn = None
        entry: attrs.Entry = {}
        for number, line in lines:
            if line.startswith(b"#"):
                continue
            attribute, sep, rest = line.partition(b":")
            if not sep or not attribute or b" " in attribute.strip():
                raise ExportError(
                    _("ligne sans « attribut: valeur »"),
                    _("%(file)s, ligne %(line)s") % {"file": name, "line": number},
                )
            attribute_name = attribute.decode("ascii", "replace").strip()
            if rest.startswith(b":"):
                try:
                    value = base64.b64decode(rest[1:].strip(), validate=True)
                except (binascii.Error, ValueError):
                    raise ExportError(
                        _("valeur base64 invalide pour %(attribute)s")
                        % {"attribute": attribute_name},
                        _("%(file)s, ligne %(line)s") % {"file": name, "line": number},
                    ) from None
            elif rest.startswith(b"<"):
                raise ExportError(
                    _("valeur par URL (« :< ») non acceptée"),
                    _("%(file)s, ligne %(line)s") % {"file": name, "line": number},
                )
            else:
                value = rest[1:] if rest.startswith(b" ") else rest
            lowered = attribute_name.lower()
            if dn is None:
                if lowered == "version":
                    continue
                if lowered != "dn":
                    raise ExportError(
                        _("un enregistrement doit commencer par « dn: »"),
                        _("%(file)s, ligne %(line)s") % {"file": name, "line": number},
                    )
                try:
                    dn = value.decode("utf-8")
                except UnicodeDecodeError:
                    raise ExportError(
                        _("DN en UTF-8 invalide"),
                        _("%(file)s, ligne %(line)s") % {"file": name, "line": number},
                    ) from None
                continue
            if lowered in attrs.SECRET_ATTRIBUTES:
                continue
            entry.setdefault(lowered.split(";", 1)[0], []).append(value)
        return start, dn, entry

    for number, raw in enumerate(content.split(b"\n"), start=1):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if line.startswith(b" "):
            if not logical:
                raise ExportError(
                    _("ligne de continuation sans ligne précédente"),
                    _("%(file)s, ligne %(line)s") % {"file": name, "line": number},
                )
            logical[-1][1].extend(line[1:])
            continue
        if not line.strip():
            lines = flush()
            if lines:
                record.extend(lines)
            if record:
                start, dn, entry = parse(record)
                record = []
                if dn is not None:
                    yield start, dn, entry
            continue
        if logical:
            record.extend(flush())
        logical.append((number, bytearray(line)))
    lines = flush()
    if lines:
        record.extend(lines)
    if record:
        start, dn, entry = parse(record)
        if dn is not None:
            yield start, dn, entry


def _load_ldif(name: str, content: bytes) -> Snapshot:
    domain = None
    snapshot = Snapshot(
        domain=Domain(dns_name=""), collected_at=dt.datetime.now(dt.UTC), source="ldif"
    )
    count = 0
    for line, dn, entry in _ldif_records(name, content):
        count += 1
        classes = attrs.Reader(entry).object_classes()
        where = _("%(file)s, ligne %(line)s (%(dn)s)") % {"file": name, "line": line, "dn": dn}
        try:
            if "computer" in classes:
                snapshot.computers.append(attrs.to_computer(dn, entry))
            elif "user" in classes:
                snapshot.users.append(attrs.to_user(dn, entry))
            elif "group" in classes:
                snapshot.groups.append(attrs.to_group(dn, entry))
            elif "domaindns" in classes or "domain" in classes:
                if domain is not None:
                    raise ExportError(_("deux objets domaine dans l'export"), where)
                domain = attrs.to_domain(dn, entry)
            elif "trusteddomain" in classes:
                snapshot.trusts.append(attrs.to_trust(dn, entry))
            elif "msds-passwordsettings" in classes:
                snapshot.password_settings.append(attrs.to_password_settings(dn, entry))
            elif "foreignsecurityprincipal" in classes:
                sid = attrs.Reader(entry).sid("objectSid")
                if sid:
                    snapshot.principals[key(dn)] = sid
        except ValueError as error:
            if isinstance(error, ExportError):
                raise
            raise ExportError(str(error), where) from None
    if not count:
        raise ExportError(_("aucun enregistrement LDIF"), name)
    if domain is None:
        snapshot.warnings.append(
            _(
                "L'objet du domaine n'est pas dans l'export : stratégie de mots de passe du"
                " domaine non auditée."
            )
        )
    else:
        snapshot.domain = domain
    _finish(snapshot)
    return snapshot
