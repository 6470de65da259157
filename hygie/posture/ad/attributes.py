"""Active Directory attributes as the directory sends them, turned into snapshot objects.

Shared by the live collector (collect.py) and the LDIF reader (exports.py): both see an entry
as its DN and a mapping of lower-case attribute names to lists of raw byte values. What is
read is listed here and nowhere else — and no secret is in these lists: never unicodePwd,
supplementalCredentials, the LAPS passwords (ms-Mcs-AdmPwd, msLAPS-Password,
msLAPS-EncryptedPassword) nor any other credential; of LAPS only the expiry date is read.

A value that does not have its attribute's type raises ValueError naming the attribute.
"""

from __future__ import annotations

import datetime as dt
import struct

from hygie.posture.ad.snapshot import (
    Computer,
    Domain,
    Group,
    PasswordSettings,
    Trust,
    User,
)

ACCOUNT_ATTRIBUTES = [
    "objectClass",
    "sAMAccountName",
    "objectSid",
    "userAccountControl",
    "whenCreated",
    "lastLogonTimestamp",
    "pwdLastSet",
    "adminCount",
    "servicePrincipalName",
    "memberOf",
    "primaryGroupID",
    "msDS-SupportedEncryptionTypes",
    "msDS-AllowedToDelegateTo",
    "sIDHistory",
    "description",
]
USER_ATTRIBUTES = [*ACCOUNT_ATTRIBUTES, "displayName", "mail"]
LAPS_LEGACY_EXPIRY = "ms-Mcs-AdmPwdExpirationTime"
LAPS_WINDOWS_EXPIRY = "msLAPS-PasswordExpirationTime"
COMPUTER_ATTRIBUTES = [
    *ACCOUNT_ATTRIBUTES,
    "dNSHostName",
    "operatingSystem",
    "operatingSystemVersion",
]
GROUP_ATTRIBUTES = [
    "objectClass",
    "sAMAccountName",
    "objectSid",
    "member",
    "adminCount",
    "description",
]
DOMAIN_ATTRIBUTES = [
    "objectClass",
    "objectSid",
    "msDS-Behavior-Version",
    "whenCreated",
    "minPwdLength",
    "pwdHistoryLength",
    "maxPwdAge",
    "minPwdAge",
    "lockoutThreshold",
    "lockoutDuration",
    "lockOutObservationWindow",
    "pwdProperties",
    "ms-DS-MachineAccountQuota",
]
TRUST_ATTRIBUTES = [
    "objectClass",
    "trustPartner",
    "flatName",
    "trustDirection",
    "trustType",
    "trustAttributes",
    "whenCreated",
    "whenChanged",
    "securityIdentifier",
]
PSO_ATTRIBUTES = [
    "objectClass",
    "cn",
    "msDS-PasswordSettingsPrecedence",
    "msDS-MinimumPasswordLength",
    "msDS-PasswordHistoryLength",
    "msDS-PasswordComplexityEnabled",
    "msDS-PasswordReversibleEncryptionEnabled",
    "msDS-MaximumPasswordAge",
    "msDS-MinimumPasswordAge",
    "msDS-LockoutThreshold",
    "msDS-LockoutDuration",
    "msDS-LockoutObservationWindow",
    "msDS-PSOAppliesTo",
]
# Never read, whatever an export holds: dropped before anything is parsed.
SECRET_ATTRIBUTES = frozenset(
    name.lower()
    for name in (
        "unicodePwd",
        "dBCSPwd",
        "userPassword",
        "ntPwdHistory",
        "lmPwdHistory",
        "supplementalCredentials",
        "ms-Mcs-AdmPwd",
        "msLAPS-Password",
        "msLAPS-EncryptedPassword",
        "msLAPS-EncryptedPasswordHistory",
        "msLAPS-EncryptedDSRMPassword",
        "msLAPS-EncryptedDSRMPasswordHistory",
        "msDS-ManagedPassword",
        "currentValue",
        "priorValue",
        "trustAuthIncoming",
        "trustAuthOutgoing",
    )
)

Entry = dict[str, list[bytes]]

_EPOCH_OFFSET = 11644473600  # seconds between 1601-01-01 and 1970-01-01
_NEVER = (0, 0x7FFFFFFFFFFFFFFF)


def sid_from_bytes(raw: bytes) -> str:
    """The string form of a binary SID ([MS-DTYP] 2.4.2.2)."""
    if len(raw) < 8 or raw[0] != 1 or len(raw) != 8 + 4 * raw[1]:
        raise ValueError("SID binaire invalide")
    authority = int.from_bytes(raw[2:8], "big")
    subs = struct.unpack(f"<{raw[1]}I", raw[8:])
    return "-".join(["S-1", str(authority), *map(str, subs)])


def sid_value(raw: bytes) -> str:
    """A SID as an export or a directory may give it: binary, or already "S-1-…" text."""
    if raw[:4] == b"S-1-":
        return raw.decode("ascii")
    return sid_from_bytes(raw)


def filetime(value: int) -> dt.datetime | None:
    """A Windows FILETIME (100 ns since 1601) as an aware UTC datetime; 0 and "never" → None."""
    if value in _NEVER or value < 0:
        return None
    return dt.datetime.fromtimestamp(value / 10_000_000 - _EPOCH_OFFSET, dt.UTC)


def generalized_time(text: str) -> dt.datetime:
    """An LDAP GeneralizedTime such as 20240102030405.0Z."""
    digits = text.rstrip("Z").split(".")[0]
    if len(digits) != 14 or not digits.isdigit():
        raise ValueError(f"date invalide « {text[:40]} »")
    d = digits
    return dt.datetime(
        int(d[:4]),
        int(d[4:6]),
        int(d[6:8]),
        int(d[8:10]),
        int(d[10:12]),
        int(d[12:14]),
        tzinfo=dt.UTC,
    )


def interval(value: int) -> dt.timedelta | None:
    """A negative 100 ns interval of the policy attributes; 0 or "never" → None."""
    if value == 0 or value <= -0x8000000000000000 or value == 0x7FFFFFFFFFFFFFFF:
        return None
    return dt.timedelta(microseconds=abs(value) // 10)


class Reader:
    """Typed access to one entry's values; errors name the attribute."""

    __slots__ = ("entry",)

    def __init__(self, entry: Entry):
        self.entry = entry

    def _values(self, name: str) -> list[bytes]:
        return self.entry.get(name.lower(), [])

    def text(self, name: str, default: str = "") -> str:
        values = self._values(name)
        if not values:
            return default
        try:
            return values[0].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{name} : texte UTF-8 invalide") from None

    def texts(self, name: str) -> tuple[str, ...]:
        try:
            return tuple(value.decode("utf-8") for value in self._values(name))
        except UnicodeDecodeError:
            raise ValueError(f"{name} : texte UTF-8 invalide") from None

    def integer(self, name: str, default: int | None = 0) -> int | None:
        values = self._values(name)
        if not values:
            return default
        try:
            return int(values[0])
        except ValueError:
            raise ValueError(
                f"{name} : nombre attendu, « {values[0][:40].decode(errors='replace')} » reçu"
            ) from None

    def boolean(self, name: str) -> bool:
        text = self.text(name).upper()
        if text in ("", "FALSE", "0"):
            return False
        if text in ("TRUE", "1"):
            return True
        raise ValueError(f"{name} : TRUE ou FALSE attendu, « {text[:40]} » reçu")

    def time(self, name: str) -> dt.datetime | None:
        value = self.integer(name, None)
        return None if value is None else filetime(value)

    def generalized(self, name: str) -> dt.datetime | None:
        text = self.text(name)
        if not text:
            return None
        try:
            return generalized_time(text)
        except ValueError as error:
            raise ValueError(f"{name} : {error}") from None

    def interval(self, name: str) -> dt.timedelta | None:
        value = self.integer(name, None)
        return None if value is None else interval(value)

    def sid(self, name: str) -> str:
        values = self._values(name)
        if not values:
            return ""
        try:
            return sid_value(values[0])
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"{name} : SID invalide") from None

    def sids(self, name: str) -> tuple[str, ...]:
        try:
            return tuple(sid_value(value) for value in self._values(name))
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"{name} : SID invalide") from None

    def object_classes(self) -> set[str]:
        return {value.decode("utf-8", "replace").lower() for value in self._values("objectClass")}


def _account_fields(dn: str, read: Reader) -> dict:
    sam = read.text("sAMAccountName")
    if not sam:
        raise ValueError("sAMAccountName manquant")
    return {
        "dn": dn,
        "sam": sam,
        "sid": read.sid("objectSid"),
        "uac": read.integer("userAccountControl", 0),
        "created": read.generalized("whenCreated"),
        "last_logon": read.time("lastLogonTimestamp"),
        "pwd_last_set": read.time("pwdLastSet"),
        "admin_count": bool(read.integer("adminCount", 0)),
        "spns": read.texts("servicePrincipalName"),
        "member_of": read.texts("memberOf"),
        "primary_group_id": read.integer("primaryGroupID", 0),
        "encryption_types": read.integer("msDS-SupportedEncryptionTypes", None),
        "allowed_to_delegate_to": read.texts("msDS-AllowedToDelegateTo"),
        "sid_history": read.sids("sIDHistory"),
        "description": read.text("description"),
    }


def to_user(dn: str, entry: Entry) -> User:
    read = Reader(entry)
    return User(
        **_account_fields(dn, read), display_name=read.text("displayName"), mail=read.text("mail")
    )


def to_computer(dn: str, entry: Entry) -> Computer:
    read = Reader(entry)
    expiry = read.time(LAPS_WINDOWS_EXPIRY) or read.time(LAPS_LEGACY_EXPIRY)
    return Computer(
        **_account_fields(dn, read),
        dns_hostname=read.text("dNSHostName"),
        os=read.text("operatingSystem"),
        os_version=read.text("operatingSystemVersion"),
        laps_expiry=expiry,
    )


def to_group(dn: str, entry: Entry) -> Group:
    read = Reader(entry)
    return Group(
        dn=dn,
        sam=read.text("sAMAccountName"),
        sid=read.sid("objectSid"),
        members=read.texts("member"),
        admin_count=bool(read.integer("adminCount", 0)),
        description=read.text("description"),
    )


def dns_name(base_dn: str) -> str:
    """hygie.test for DC=hygie,DC=test."""
    parts = [part.strip() for part in base_dn.split(",")]
    return ".".join(part[3:] for part in parts if part[:3].lower() == "dc=")


def to_domain(dn: str, entry: Entry, netbios: str = "") -> Domain:
    read = Reader(entry)
    return Domain(
        dns_name=dns_name(dn),
        dn=dn,
        netbios=netbios,
        sid=read.sid("objectSid"),
        functional_level=read.integer("msDS-Behavior-Version", None),
        created=read.generalized("whenCreated"),
        min_pwd_length=read.integer("minPwdLength", 0),
        pwd_history=read.integer("pwdHistoryLength", 0),
        max_pwd_age=read.interval("maxPwdAge"),
        min_pwd_age=read.interval("minPwdAge"),
        lockout_threshold=read.integer("lockoutThreshold", 0),
        lockout_duration=read.interval("lockoutDuration"),
        lockout_window=read.interval("lockOutObservationWindow"),
        pwd_properties=read.integer("pwdProperties", 0),
        machine_account_quota=read.integer("ms-DS-MachineAccountQuota", 10),
    )


def to_trust(dn: str, entry: Entry) -> Trust:
    read = Reader(entry)
    return Trust(
        partner=read.text("trustPartner"),
        direction=read.integer("trustDirection", 0),
        trust_type=read.integer("trustType", 2),
        attributes=read.integer("trustAttributes", 0),
        created=read.generalized("whenCreated"),
        changed=read.generalized("whenChanged"),
        flat_name=read.text("flatName"),
        sid=read.sid("securityIdentifier"),
    )


def to_password_settings(dn: str, entry: Entry) -> PasswordSettings:
    read = Reader(entry)
    return PasswordSettings(
        name=read.text("cn") or dn.split(",")[0].partition("=")[2],
        precedence=read.integer("msDS-PasswordSettingsPrecedence", 0),
        min_length=read.integer("msDS-MinimumPasswordLength", 0),
        history=read.integer("msDS-PasswordHistoryLength", 0),
        complexity=read.boolean("msDS-PasswordComplexityEnabled"),
        reversible=read.boolean("msDS-PasswordReversibleEncryptionEnabled"),
        max_age=read.interval("msDS-MaximumPasswordAge"),
        min_age=read.interval("msDS-MinimumPasswordAge"),
        lockout_threshold=read.integer("msDS-LockoutThreshold", 0),
        lockout_duration=read.interval("msDS-LockoutDuration"),
        lockout_window=read.interval("msDS-LockoutObservationWindow"),
        applies_to=read.texts("msDS-PSOAppliesTo"),
    )
