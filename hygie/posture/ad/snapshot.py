"""What an Active Directory audit reads: a plain, in-memory picture of one domain.

Every collector produces a `Snapshot` — live LDAP (collect.py), ldapdomaindump JSON, LDIF and
BloodHound JSON (exports.py) — and the rules (rules.py) and the password analysis
(passwords.py) only ever read one. Nothing here touches the database.

Conventions: times are aware UTC datetimes (None when never set: `pwdLastSet` 0,
`lastLogonTimestamp` absent); SIDs are strings ("S-1-5-21-…-512"); DNs are kept as the directory
spelled them and compared case-insensitively through `key(dn)`; durations are timedeltas (None
for "never"/0 where AD means "no limit").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# userAccountControl flags ([MS-ADTS] 2.2.16)
UAC_ACCOUNTDISABLE = 0x0002
UAC_PASSWD_NOTREQD = 0x0020
UAC_ENCRYPTED_TEXT_PWD_ALLOWED = 0x0080
UAC_NORMAL_ACCOUNT = 0x0200
UAC_WORKSTATION_TRUST_ACCOUNT = 0x1000
UAC_SERVER_TRUST_ACCOUNT = 0x2000
UAC_DONT_EXPIRE_PASSWORD = 0x10000
UAC_TRUSTED_FOR_DELEGATION = 0x80000
UAC_NOT_DELEGATED = 0x100000
UAC_USE_DES_KEY_ONLY = 0x200000
UAC_DONT_REQ_PREAUTH = 0x400000
UAC_TRUSTED_TO_AUTH_FOR_DELEGATION = 0x1000000
UAC_PARTIAL_SECRETS_ACCOUNT = 0x4000000  # read-only domain controller

# pwdProperties flags of the domain object
DOMAIN_PASSWORD_COMPLEX = 0x1
DOMAIN_PASSWORD_STORE_CLEARTEXT = 0x10

# trustDirection / trustType / trustAttributes ([MS-ADTS] 6.1.6.7)
TRUST_DIRECTION_INBOUND = 1
TRUST_DIRECTION_OUTBOUND = 2
TRUST_TYPE_DOWNLEVEL = 1
TRUST_TYPE_UPLEVEL = 2
TRUST_ATTRIBUTE_NON_TRANSITIVE = 0x1
TRUST_ATTRIBUTE_QUARANTINED_DOMAIN = 0x4  # SID filtering on an external trust
TRUST_ATTRIBUTE_FOREST_TRANSITIVE = 0x8
TRUST_ATTRIBUTE_WITHIN_FOREST = 0x20
TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL = 0x40
TRUST_ATTRIBUTE_CROSS_ORGANIZATION_ENABLE_TGT_DELEGATION = 0x800

# Well-known relative identifiers and SIDs
RID_ADMINISTRATOR = 500
RID_GUEST = 501
RID_KRBTGT = 502
RID_DOMAIN_ADMINS = 512
RID_DOMAIN_USERS = 513
RID_DOMAIN_COMPUTERS = 515
RID_DOMAIN_CONTROLLERS = 516
RID_SCHEMA_ADMINS = 518
RID_ENTERPRISE_ADMINS = 519
RID_PROTECTED_USERS = 525
SID_ADMINISTRATORS = "S-1-5-32-544"
SID_ACCOUNT_OPERATORS = "S-1-5-32-548"
SID_SERVER_OPERATORS = "S-1-5-32-549"
SID_PRINT_OPERATORS = "S-1-5-32-550"
SID_BACKUP_OPERATORS = "S-1-5-32-551"
SID_PRE_WINDOWS_2000 = "S-1-5-32-554"
SID_EVERYONE = "S-1-1-0"
SID_ANONYMOUS = "S-1-5-7"
SID_AUTHENTICATED_USERS = "S-1-5-11"


def key(dn: str) -> str:
    """A DN as compared: case and spaces after commas do not matter."""
    return ",".join(part.strip() for part in dn.split(",")).lower()


def rid(sid: str) -> int | None:
    """The last sub-authority of a domain SID, e.g. 512 for Domain Admins."""
    head, _sep, tail = sid.rpartition("-")
    return int(tail) if head and tail.isdigit() else None


@dataclass(slots=True)
class Account:
    """A user or computer object."""

    dn: str
    sam: str
    sid: str = ""
    uac: int = UAC_NORMAL_ACCOUNT
    created: dt.datetime | None = None
    last_logon: dt.datetime | None = None  # lastLogonTimestamp (replicated, ~14 days precision)
    pwd_last_set: dt.datetime | None = None
    admin_count: bool = False
    spns: tuple[str, ...] = ()
    member_of: tuple[str, ...] = ()  # DNs of the groups it is a direct member of
    primary_group_id: int = 0
    encryption_types: int | None = None  # msDS-SupportedEncryptionTypes
    allowed_to_delegate_to: tuple[str, ...] = ()  # constrained delegation targets
    sid_history: tuple[str, ...] = ()
    description: str = ""

    @property
    def enabled(self) -> bool:
        return not self.uac & UAC_ACCOUNTDISABLE

    def has(self, flag: int) -> bool:
        return bool(self.uac & flag)


@dataclass(slots=True)
class User(Account):
    display_name: str = ""
    mail: str = ""


@dataclass(slots=True)
class Computer(Account):
    dns_hostname: str = ""
    os: str = ""  # operatingSystem, e.g. "Windows Server 2012 R2 Standard"
    os_version: str = ""  # operatingSystemVersion, e.g. "6.3 (9600)"
    # LAPS: the expiry of the managed password (legacy ms-Mcs-AdmPwdExpirationTime or Windows
    # LAPS msLAPS-PasswordExpirationTime); None when the computer has no managed password. The
    # password itself is never read.
    laps_expiry: dt.datetime | None = None
    # A managed LAPS password exists but its expiry is unknown (BloodHound's "haslaps"): the
    # computer counts as managed for A-LAPS-MISSING.
    laps_managed: bool = False

    @property
    def is_dc(self) -> bool:
        return bool(self.uac & (UAC_SERVER_TRUST_ACCOUNT | UAC_PARTIAL_SECRETS_ACCOUNT))


@dataclass(slots=True)
class Group:
    dn: str
    sam: str
    sid: str = ""
    members: tuple[str, ...] = ()  # DNs of direct members (users, computers, groups)
    admin_count: bool = False
    description: str = ""


@dataclass(slots=True)
class Trust:
    partner: str  # trustPartner, the other domain's DNS name
    direction: int = 0
    trust_type: int = TRUST_TYPE_UPLEVEL
    attributes: int = 0
    created: dt.datetime | None = None
    changed: dt.datetime | None = None  # whenChanged: moves when the trust password rotates
    flat_name: str = ""
    sid: str = ""


@dataclass(slots=True)
class PasswordSettings:
    """A fine-grained password policy (msDS-PasswordSettings) and the DNs it applies to."""

    name: str
    precedence: int = 0
    min_length: int = 0
    history: int = 0
    complexity: bool = False
    reversible: bool = False
    max_age: dt.timedelta | None = None
    min_age: dt.timedelta | None = None
    lockout_threshold: int = 0
    lockout_duration: dt.timedelta | None = None
    lockout_window: dt.timedelta | None = None
    applies_to: tuple[str, ...] = ()


@dataclass(slots=True)
class Domain:
    dns_name: str  # e.g. "chu-exemple.local"
    dn: str = ""  # e.g. "DC=chu-exemple,DC=local"
    netbios: str = ""
    sid: str = ""
    functional_level: int | None = None  # msDS-Behavior-Version: 7 = Windows Server 2016
    created: dt.datetime | None = None
    # Default domain password and lockout policy (attributes of the domain object)
    min_pwd_length: int = 0
    pwd_history: int = 0
    max_pwd_age: dt.timedelta | None = None  # None: passwords never expire
    min_pwd_age: dt.timedelta | None = None
    lockout_threshold: int = 0  # 0: accounts never lock
    lockout_duration: dt.timedelta | None = None  # None: until an administrator unlocks
    lockout_window: dt.timedelta | None = None
    pwd_properties: int = 0
    machine_account_quota: int = 10  # ms-DS-MachineAccountQuota


@dataclass(slots=True)
class Snapshot:
    domain: Domain
    collected_at: dt.datetime
    source: str  # one of models.AuditSource
    users: list[User] = field(default_factory=list)
    computers: list[Computer] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    trusts: list[Trust] = field(default_factory=list)
    password_settings: list[PasswordSettings] = field(default_factory=list)
    # Whether the schema knows the LAPS attributes (legacy Microsoft LAPS / Windows LAPS).
    # None when the source does not say (an export without the schema).
    laps_legacy_schema: bool | None = None
    laps_windows_schema: bool | None = None
    # Group members that are not accounts of the domain, key(dn) -> SID: foreign security
    # principals (CN=S-1-5-7,CN=ForeignSecurityPrincipals,…) and, in Samba, the well-known ones
    # (CN=Anonymous Logon,CN=WellKnown Security Principals,CN=Configuration,…). Exports that do
    # not list them leave it empty; see `principal_sid`.
    principals: dict[str, str] = field(default_factory=dict)
    # What the collector could not read or understand, for the report (never a secret).
    warnings: list[str] = field(default_factory=list)
    # Rule identifiers the source cannot judge (e.g. a BloodHound export has no password policy):
    # their findings would only reflect the defaults above, so they are not reported.
    not_judged: frozenset[str] = frozenset()


def principal_sid(snapshot: Snapshot, dn: str) -> str:
    """The SID of a group member that is a foreign or well-known principal, else ""."""
    found = snapshot.principals.get(key(dn))
    if found:
        return found
    first, _sep, rest = dn.partition(",")
    name = first.partition("=")[2].strip()
    if name.upper().startswith("S-1-"):
        return name.upper()
    if key(rest).startswith("cn=wellknown security principals,"):
        return WELL_KNOWN_PRINCIPALS.get(name.lower(), "")
    return ""


# Samba's well-known principals (CN=…,CN=WellKnown Security Principals,CN=Configuration,…).
WELL_KNOWN_PRINCIPALS = {
    "everyone": SID_EVERYONE,
    "anonymous logon": SID_ANONYMOUS,
    "authenticated users": SID_AUTHENTICATED_USERS,
}


class ExportError(ValueError):
    """An export that cannot be read; `position` names where (line, object index or byte)."""

    def __init__(self, message: str, position: str = ""):
        super().__init__(f"{position} : {message}" if position else message)
        self.message = message
        self.position = position


class CollectError(RuntimeError):
    """A live collection that failed (connection, TLS, bind, search), in words for the user."""
