"""BloodHound JSON exports read into a Snapshot (called by exports.load_export).

Both collectors write one JSON file per object type, usually zipped together:
`20250301090000_users.json`, `_computers.json`, `_groups.json`, `_domains.json` (plus gpos, ous,
containers, certificate objects… which an audit does not need). Each file is
`{"data": [...], "meta": {"type": "users", "count": N, "version": V, "methods": M}}`:

- version 4 and 5 — "legacy" BloodHound (SharpHound 1.x, dirkjanm's BloodHound.py);
- version 6 — BloodHound CE (SharpHound 2.x), same objects with more properties: the raw
  `useraccountcontrol`, `encryptedtextpwdallowed`, `usedeskeyonly`, `supportedencryptiontypes`,
  the domain's password policy and machine account quota, `TrustAttributes` of trusts.

Objects carry `ObjectIdentifier` (the SID), `PrimaryGroupSID`, `Properties` (lower-case names,
times as Unix seconds with -1/0 for "never", DNs in upper case) and, for groups, `Members` as
SIDs (well-known SIDs prefixed with the domain: "HYGIE.TEST-S-1-5-32-544"). Where BloodHound gives
booleans instead of userAccountControl the matching flags are set; what it does not carry is
left at the Snapshot's defaults and the rules that would depend on it are listed in
`snapshot.not_judged` and in a warning (decision 0702). Secrets BloodHound may hold
(userpassword, unixpassword, unicodepassword, sfupassword) are never read.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _

from hygie.posture.ad import snapshot as ad
from hygie.posture.ad.attributes import dns_name, interval
from hygie.posture.ad.snapshot import (
    Computer,
    Domain,
    ExportError,
    Group,
    Snapshot,
    Trust,
    User,
    key,
    rid,
)

VERSIONS = (4, 5, 6)
REQUIRED = ("users", "computers", "groups", "domains")
# Other types both collectors write: accepted, not read.
IGNORED_TYPES = {
    "gpos",
    "ous",
    "containers",
    "aiacas",
    "rootcas",
    "enterprisecas",
    "ntauthstores",
    "certtemplates",
    "issuancepolicies",
    "sessions",
}
# `20250301090000_users.json`, `PREFIX_20250301090000_users.json`, `users.json`
FILE_NAME = re.compile(r"(?:^|_)([a-z]+)\.json$", re.IGNORECASE)
FUNCTIONAL_LEVELS = {
    "2000 mixed/native": 0,
    "2003 interim": 1,
    "2003": 2,
    "2008": 3,
    "2008 r2": 4,
    "2012": 5,
    "2012 r2": 6,
    "2016": 7,
    "2025": 10,  # msDS-Behavior-Version of Windows Server 2025
}
ENCRYPTION_TYPES = {
    "des-cbc-crc": 0x1,
    "des-cbc-md5": 0x2,
    "rc4-hmac-md5": 0x4,
    "aes128-cts-hmac-sha1-96": 0x8,
    "aes256-cts-hmac-sha1-96": 0x10,
    "not defined": 0,
}
TRUST_DIRECTIONS = {"disabled": 0, "inbound": 1, "outbound": 2, "bidirectional": 3}
# BloodHound's trust types, as numbers (legacy) or names (CE).
TRUST_TYPES = {0: "parentchild", 1: "crosslink", 2: "forest", 3: "external", 4: "unknown"}
_DURATION_PART = re.compile(r"^(\d+) (day|hour|minute|second)s?$")
_WELL_KNOWN_PREFIXED = re.compile(r"^.+-(S-1-[0-9-]+)$", re.IGNORECASE)

# Rule identifiers that depend on what a BloodHound export may lack, by the missing property.
USER_FLAG_RULES = {
    "encryptedtextpwdallowed": ("S-REVERSIBLE-PWD",),
    "usedeskeyonly": ("S-DES-ONLY",),
}
POLICY_RULES = ("A-MIN-PWD-LENGTH", "A-NO-LOCKOUT", "A-REVERSIBLE-POLICY")
ALWAYS_NOT_JUDGED = ("T-INACTIVE", "T-DOWNLEVEL")  # no whenChanged, no trustType in BloodHound


def looks_like_bloodhound(name: str, content: bytes) -> bool:
    """A JSON object with "meta" near its start or end (SharpHound writes "meta" last)."""
    if not name.lower().endswith(".json"):
        return False
    head = content[:2000].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and (b'"meta"' in head or b'"meta"' in content[-2000:])


def _where(name: str, index: int, label: str = "") -> str:
    position = _("%(file)s, objet n° %(index)s") % {"file": name, "index": index + 1}
    return f"{position} ({label})" if label else position


def _epoch(value, field: str) -> dt.datetime | None:
    """BloodHound times: Unix seconds; -1 (absent) and 0 (never) are None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            _("%(field)s : nombre de secondes attendu, « %(value)s » reçu")
            % {"field": field, "value": str(value)[:40]}
        )
    if value <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None  # beyond year 9999: AD's "never" spelled as a huge number


def _duration(value, field: str) -> dt.timedelta | None:
    """SharpHound CE durations: "42 days, 1 hour", "Forever", "" (zero) or the raw interval."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return interval(value)
    text = str(value).strip()
    if text.lower() in ("", "forever", "never"):
        return None
    total = dt.timedelta()
    for part in text.split(","):
        match = _DURATION_PART.match(part.strip().lower())
        if not match:
            raise ValueError(
                _("%(field)s : durée attendue, « %(value)s » reçue")
                % {"field": field, "value": text[:40]}
            )
        total += dt.timedelta(**{f"{match[2]}s": int(match[1])})
    return total or None


def _integer(props: dict, field: str, default):
    value = props.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            _("%(field)s : nombre attendu, « %(value)s » reçu")
            % {"field": field, "value": str(value)[:40]}
        )
    return value


def _strings(props: dict, field: str) -> tuple[str, ...]:
    value = props.get(field)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(_("%(field)s : liste de textes attendue") % {"field": field})
    return tuple(value)


def _text(props: dict, field: str) -> str:
    value = props.get(field)
    return value if isinstance(value, str) else ""


def _sid(value) -> str:
    """An ObjectIdentifier as a SID; well-known ones lose their domain prefix."""
    if not isinstance(value, str):
        return ""
    if value.upper().startswith("S-1-"):
        return value.upper()
    match = _WELL_KNOWN_PREFIXED.match(value)
    return match[1].upper() if match else ""


def _sam(props: dict) -> str:
    sam = _text(props, "samaccountname")
    if sam:
        return sam
    return _text(props, "name").partition("@")[0]


class _Reader:
    """One export being read: files by type, and what the export turned out to lack."""

    def __init__(self, files: list[tuple[str, bytes]]):
        from hygie.posture.ad.exports import _json  # exports imports this module lazily

        self.documents: dict[str, tuple[str, list]] = {}
        self.version = 0
        self.lacking: set[str] = set()
        self.warnings: list[str] = []
        for name, content in files:
            match = FILE_NAME.search(name)
            if not name.lower().endswith(".json") or not match:
                raise ExportError(
                    _(
                        "fichier inattendu dans un export BloodHound (attendus : *_users.json,"
                        " *_computers.json, *_groups.json, *_domains.json)"
                    ),
                    name,
                )
            document = _json(name, content)
            kind, data, version = self._check(name, document, match[1].lower())
            if kind in IGNORED_TYPES:
                continue
            if kind in self.documents:
                raise ExportError(
                    _("deux fichiers de type « %(type)s » (%(other)s)")
                    % {"type": kind, "other": self.documents[kind][0]},
                    name,
                )
            self.documents[kind] = (name, data)
            self.version = max(self.version, version)
        missing = [kind for kind in REQUIRED if kind not in self.documents]
        if missing:
            raise ExportError(
                _("fichier manquant dans l'export BloodHound : %(missing)s")
                % {"missing": ", ".join(f"*_{kind}.json" for kind in missing)}
            )

    @staticmethod
    def _check(name: str, document, named: str) -> tuple[str, list, int]:
        where = _("%(file)s, « meta »") % {"file": name}
        if not isinstance(document, dict) or not isinstance(document.get("meta"), dict):
            raise ExportError(
                _("objet JSON avec « meta » et « data » attendu (export BloodHound)"),
                _("%(file)s, ligne 1") % {"file": name},
            )
        meta = document["meta"]
        kind = meta.get("type")
        version = meta.get("version")
        if not isinstance(kind, str) or not kind:
            raise ExportError(_("« type » manquant"), where)
        kind = kind.lower()
        if kind not in (*REQUIRED, *IGNORED_TYPES):
            raise ExportError(
                _("type « %(type)s » inconnu d'un export BloodHound") % {"type": kind}, where
            )
        if named in (*REQUIRED, *IGNORED_TYPES) and named != kind:
            raise ExportError(
                _("le fichier s'appelle *_%(named)s.json mais contient le type « %(type)s »")
                % {"named": named, "type": kind},
                where,
            )
        if isinstance(version, bool) or version not in VERSIONS:
            raise ExportError(
                _(
                    "version %(version)s du format BloodHound non prise en charge (versions"
                    " 4 et 5 : BloodHound « legacy », SharpHound 1 et BloodHound.py ; 6 :"
                    " BloodHound CE)"
                )
                % {"version": version},
                where,
            )
        data = document.get("data")
        if not isinstance(data, list):
            raise ExportError(
                _("« data » doit être une liste d'objets"),
                _("%(file)s, « data »") % {"file": name},
            )
        return kind, data, version

    def objects(self, kind: str):
        """(file name, index, SID, Properties, object) for each object of a type."""
        name, data = self.documents[kind]
        for index, item in enumerate(data):
            if not isinstance(item, dict) or not isinstance(item.get("Properties"), dict):
                raise ExportError(
                    _("objet attendu avec « ObjectIdentifier » et « Properties »"),
                    _where(name, index),
                )
            sid = _sid(item.get("ObjectIdentifier"))
            props = item["Properties"]
            if not sid:
                raise ExportError(
                    _("« ObjectIdentifier » n'est pas un SID"),
                    _where(name, index, _text(props, "name")),
                )
            yield name, index, sid, props, item

    def lacks(self, what: str) -> None:
        self.lacking.add(what)


def _flags(props: dict, reader: _Reader, names: dict[str, int], base: int) -> int:
    """userAccountControl from BloodHound's raw value (CE) or its booleans (legacy)."""
    raw = props.get("useraccountcontrol")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    uac = base
    enabled = props.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ValueError(_("%(field)s : vrai/faux attendu") % {"field": "enabled"})
    if enabled is None:
        raise ValueError(
            _(
                "enabled : propriété absente (export BloodHound collecté sans les propriétés"
                " des objets, méthode ObjectProps)"
            )
        )
    if not enabled:
        uac |= ad.UAC_ACCOUNTDISABLE
    for field, flag in names.items():
        value = props.get(field)
        if value is None:
            if field in USER_FLAG_RULES:
                reader.lacks(field)
            continue
        if not isinstance(value, bool):
            raise ValueError(_("%(field)s : vrai/faux attendu") % {"field": field})
        if value:
            uac |= flag
    return uac


USER_FLAGS = {
    "passwordnotreqd": ad.UAC_PASSWD_NOTREQD,
    "pwdneverexpires": ad.UAC_DONT_EXPIRE_PASSWORD,
    "dontreqpreauth": ad.UAC_DONT_REQ_PREAUTH,
    "unconstraineddelegation": ad.UAC_TRUSTED_FOR_DELEGATION,
    "sensitive": ad.UAC_NOT_DELEGATED,
    "trustedtoauth": ad.UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
    "encryptedtextpwdallowed": ad.UAC_ENCRYPTED_TEXT_PWD_ALLOWED,
    "usedeskeyonly": ad.UAC_USE_DES_KEY_ONLY,
}
COMPUTER_FLAGS = {
    field: USER_FLAGS[field]
    for field in (
        "unconstraineddelegation",
        "trustedtoauth",
        "encryptedtextpwdallowed",
        "usedeskeyonly",
        "passwordnotreqd",
        "pwdneverexpires",
    )
}


def _encryption_types(props: dict, reader: _Reader) -> int | None:
    if "supportedencryptiontypes" not in props:
        reader.lacks("supportedencryptiontypes")
        return None
    value = props["supportedencryptiontypes"]
    if value is None:
        return None  # attribute not set on the object
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, list):
        raise ValueError(_("supportedencryptiontypes : liste attendue"))
    bits = 0
    for name in value:
        flag = ENCRYPTION_TYPES.get(str(name).lower())
        if flag is None:
            raise ValueError(
                _("supportedencryptiontypes : type « %(name)s » inconnu") % {"name": name}
            )
        bits |= flag
    return bits


def _account_fields(props: dict, item: dict, reader: _Reader) -> dict:
    dn = _text(props, "distinguishedname")
    if not dn:
        raise ValueError(_("distinguishedname : propriété absente"))
    return {
        "dn": dn,
        "sam": _sam(props),
        "created": _epoch(props.get("whencreated"), "whencreated"),
        "last_logon": _epoch(props.get("lastlogontimestamp"), "lastlogontimestamp"),
        "pwd_last_set": _epoch(props.get("pwdlastset"), "pwdlastset"),
        "admin_count": bool(props.get("admincount")),
        "spns": _strings(props, "serviceprincipalnames"),
        "primary_group_id": rid(_sid(item.get("PrimaryGroupSID"))) or 0,
        "encryption_types": _encryption_types(props, reader),
        "allowed_to_delegate_to": _strings(props, "allowedtodelegate"),
        "sid_history": tuple(sid.upper() for sid in _strings(props, "sidhistory")),
        "description": _text(props, "description"),
    }


def _user(sid: str, props: dict, item: dict, reader: _Reader) -> User:
    return User(
        sid=sid,
        uac=_flags(props, reader, USER_FLAGS, ad.UAC_NORMAL_ACCOUNT),
        display_name=_text(props, "displayname"),
        mail=_text(props, "email"),
        **_account_fields(props, item, reader),
    )


def _computer(sid: str, props: dict, item: dict, reader: _Reader) -> Computer:
    primary = rid(_sid(item.get("PrimaryGroupSID")))
    if props.get("isreadonlydc") is True or primary == 521:
        base = ad.UAC_WORKSTATION_TRUST_ACCOUNT | ad.UAC_PARTIAL_SECRETS_ACCOUNT
    elif props.get("isdc") is True or primary == ad.RID_DOMAIN_CONTROLLERS:
        base = ad.UAC_SERVER_TRUST_ACCOUNT
    else:
        base = ad.UAC_WORKSTATION_TRUST_ACCOUNT
    fields = _account_fields(props, item, reader)
    if not _text(props, "samaccountname"):  # the name is the host's DNS name
        fields["sam"] = _text(props, "name").split(".")[0].upper() + "$"
    has_laps = props.get("haslaps")
    if has_laps is None:
        reader.lacks("haslaps")
    name = _text(props, "name")
    return Computer(
        sid=sid,
        uac=_flags(props, reader, COMPUTER_FLAGS, base),
        dns_hostname=name.lower() if "." in name else "",
        os=_text(props, "operatingsystemname") or _text(props, "operatingsystem"),
        os_version=_text(props, "operatingsystemversion"),
        laps_managed=has_laps is True,
        **fields,
    )


def _domain(reader: _Reader) -> tuple[Domain, list[Trust]]:
    name, data = reader.documents["domains"]
    if len(data) != 1:
        raise ExportError(
            _(
                "%(count)s domaines dans l'export : un audit porte sur un seul domaine"
                " (collectez-les séparément)"
            )
            % {"count": len(data)},
            name,
        )
    [(name, index, sid, props, item)] = list(reader.objects("domains"))
    label = _text(props, "name")
    try:
        dn = _text(props, "distinguishedname")
        level = props.get("functionallevel")
        domain = Domain(
            dns_name=(label or dns_name(dn)).lower(),
            dn=dn,
            netbios=_text(props, "netbios"),
            sid=sid,
            functional_level=FUNCTIONAL_LEVELS.get(str(level).lower()) if level else None,
            created=_epoch(props.get("whencreated"), "whencreated"),
        )
        if "minpwdlength" in props and "lockoutthreshold" in props:
            domain.min_pwd_length = _integer(props, "minpwdlength", 0)
            domain.pwd_history = _integer(props, "pwdhistorylength", 0)
            domain.pwd_properties = _integer(props, "pwdproperties", 0)
            domain.lockout_threshold = _integer(props, "lockoutthreshold", 0)
            domain.max_pwd_age = _duration(props.get("maxpwdage"), "maxpwdage")
            domain.min_pwd_age = _duration(props.get("minpwdage"), "minpwdage")
            domain.lockout_duration = _duration(props.get("lockoutduration"), "lockoutduration")
            domain.lockout_window = _duration(
                props.get("lockoutobservationwindow"), "lockoutobservationwindow"
            )
        else:
            reader.lacks("policy")
        if "machineaccountquota" in props:
            domain.machine_account_quota = _integer(props, "machineaccountquota", 10)
        else:
            reader.lacks("machineaccountquota")
        trusts = item.get("Trusts") or []
        if not isinstance(trusts, list):
            raise ValueError(_("Trusts : liste attendue"))
        return domain, [_trust(trust, n, reader) for n, trust in enumerate(trusts, 1)]
    except ValueError as error:
        if isinstance(error, ExportError):
            raise
        raise ExportError(str(error), _where(name, index, label)) from None


def _trust(value, position: int, reader: _Reader) -> Trust:
    if not isinstance(value, dict):
        raise ValueError(_("Trusts n° %(n)s : objet attendu") % {"n": position})
    partner = str(value.get("TargetDomainName") or "").lower()
    direction = value.get("TrustDirection")
    if isinstance(direction, str):
        direction = TRUST_DIRECTIONS.get(direction.lower())
    if not isinstance(direction, int) or isinstance(direction, bool):
        raise ValueError(
            _("Trusts n° %(n)s (%(partner)s) : TrustDirection inconnu")
            % {"n": position, "partner": partner}
        )
    kind = value.get("TrustType")
    kind = TRUST_TYPES.get(kind, "unknown") if isinstance(kind, int) else str(kind).lower()
    raw = value.get("TrustAttributes")
    if isinstance(raw, int) and not isinstance(raw, bool):
        attributes = raw
    else:
        # Legacy output: the attributes rebuilt from what BloodHound derived from them.
        attributes = 0
        filtering = value.get("SidFilteringEnabled") is not False
        if kind in ("parentchild", "crosslink"):
            attributes |= ad.TRUST_ATTRIBUTE_WITHIN_FOREST
        elif kind == "forest":
            attributes |= ad.TRUST_ATTRIBUTE_FOREST_TRANSITIVE
            if not filtering:
                attributes |= ad.TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL
        elif filtering:
            attributes |= ad.TRUST_ATTRIBUTE_QUARANTINED_DOMAIN
        if value.get("IsTransitive") is False:
            attributes |= ad.TRUST_ATTRIBUTE_NON_TRANSITIVE
        if "TGTDelegationEnabled" not in value:
            reader.lacks("tgtdelegation")
        if value.get("TGTDelegationEnabled") is True and not (
            attributes & ad.TRUST_ATTRIBUTE_WITHIN_FOREST
        ):
            attributes |= ad.TRUST_ATTRIBUTE_CROSS_ORGANIZATION_ENABLE_TGT_DELEGATION
    return Trust(
        partner=partner,
        direction=direction,
        trust_type=3 if kind == "kerberos" else ad.TRUST_TYPE_UPLEVEL,
        attributes=attributes,
        sid=_sid(value.get("TargetDomainSid")),
    )


def load(files: list[tuple[str, bytes]]) -> Snapshot:
    reader = _Reader(files)
    domain, trusts = _domain(reader)
    snapshot = Snapshot(
        domain=domain,
        collected_at=dt.datetime.now(dt.UTC),
        source="bloodhound",
        trusts=trusts,
    )
    by_sid: dict[str, str] = {}

    def convert(kind, function, target):
        for name, index, sid, props, item in reader.objects(kind):
            try:
                account = function(sid, props, item, reader)
            except ValueError as error:
                if isinstance(error, ExportError):
                    raise
                raise ExportError(str(error), _where(name, index, _text(props, "name"))) from None
            target.append(account)
            by_sid.setdefault(sid, account.dn)

    convert("users", _user, snapshot.users)
    convert("computers", _computer, snapshot.computers)
    members: list[tuple[Group, list]] = []
    for name, index, sid, props, item in reader.objects("groups"):
        dn = _text(props, "distinguishedname")
        listed = item.get("Members") or []
        if not dn or not isinstance(listed, list):
            raise ExportError(
                _("distinguishedname absent ou « Members » qui n'est pas une liste"),
                _where(name, index, _text(props, "name")),
            )
        group = Group(
            dn=dn,
            sam=_sam(props),
            sid=sid,
            admin_count=bool(props.get("admincount")),
            description=_text(props, "description"),
        )
        snapshot.groups.append(group)
        by_sid.setdefault(sid, dn)
        members.append((group, listed))
    _resolve_members(snapshot, members, by_sid)
    _judge(snapshot, reader)
    return snapshot


def _resolve_members(snapshot: Snapshot, members, by_sid: dict[str, str]) -> None:
    """Members are SIDs in BloodHound, DNs in a Snapshot; outsiders become foreign principals."""
    base = snapshot.domain.dn
    member_of: dict[str, list[str]] = {}
    for group, listed in members:
        dns = []
        for member in listed:
            sid = _sid(member.get("ObjectIdentifier") if isinstance(member, dict) else member)
            if not sid:
                continue
            dn = by_sid.get(sid)
            if dn is None:
                dn = f"CN={sid},CN=ForeignSecurityPrincipals,{base}"
                snapshot.principals[key(dn)] = sid
            dns.append(dn)
            member_of.setdefault(key(dn), []).append(group.dn)
        group.members = tuple(dns)
    for account in (*snapshot.users, *snapshot.computers):
        account.member_of = tuple(member_of.get(key(account.dn), ()))


def _judge(snapshot: Snapshot, reader: _Reader) -> None:
    """The rules this export cannot judge, kept and said (decision 0702)."""
    rules = set(ALWAYS_NOT_JUDGED)
    for field, ids in USER_FLAG_RULES.items():
        if field in reader.lacking:
            rules.update(ids)
    if "supportedencryptiontypes" in reader.lacking:
        rules.add("S-DES-ONLY")
    if "policy" in reader.lacking:
        rules.update(POLICY_RULES)
    if "machineaccountquota" in reader.lacking:
        rules.add("A-MACHINE-ACCOUNT-QUOTA")
    if "tgtdelegation" in reader.lacking:
        rules.add("T-TGT-DELEGATION")
    if "haslaps" in reader.lacking:
        rules.add("A-LAPS-MISSING")
    if not snapshot.trusts:
        rules -= set(ALWAYS_NOT_JUDGED)  # nothing to judge: no need to say so
    snapshot.not_judged = frozenset(rules)
    if rules:
        snapshot.warnings.append(
            _(
                "Export BloodHound : règles non évaluables faute de données (%(rules)s)."
                " Une collecte LDAP ou un export ldapdomaindump les couvre."
            )
            % {"rules": ", ".join(sorted(rules))}
        )
    if "policy" in reader.lacking:
        snapshot.warnings.append(
            _(
                "Export BloodHound sans la stratégie de mots de passe du domaine (BloodHound"
                " « legacy ») : stratégie non auditée."
            )
        )
    snapshot.warnings.append(
        _("Export BloodHound : les stratégies de mots de passe affinées (PSO) n'y figurent pas.")
    )
