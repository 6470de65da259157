"""BloodHound exports written by hand in the collectors' real shapes, from a Snapshot.

BloodHound.py could not collect from the Samba test DC (decision 0704), so the test exports are
built here, object by object as the collectors write them:

- `legacy(snapshot)`: what dirkjanm's BloodHound.py 1.x writes (format version 5, as SharpHound
  1.x): booleans for the account flags, no userAccountControl, no password policy, trusts as
  numbers, well-known group SIDs prefixed with the domain, the sessions/ACE blocks left empty;
- `community(snapshot)`: what SharpHound 2.x for BloodHound CE writes (version 6): the same plus
  the raw `useraccountcontrol`, `supportedencryptiontypes` as names, the domain's password policy
  (durations as "42 days, 1 hour" text, the observation window as the raw interval) and
  `TrustAttributes`.

Each returns {file name: bytes}; `zipped(files)` packs them as SharpHound does.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from hygie.posture.ad import snapshot as ad

STAMP = "20250301090000"
WELL_KNOWN = ("S-1-5-32-", "S-1-1-0", "S-1-5-7", "S-1-5-11")
ENCRYPTION_NAMES = (
    (0x1, "DES-CBC-CRC"),
    (0x2, "DES-CBC-MD5"),
    (0x4, "RC4-HMAC-MD5"),
    (0x8, "AES128-CTS-HMAC-SHA1-96"),
    (0x10, "AES256-CTS-HMAC-SHA1-96"),
)
DIRECTIONS = {0: "Disabled", 1: "Inbound", 2: "Outbound", 3: "Bidirectional"}


def _epoch(when: dt.datetime | None, never: int) -> int:
    return int(when.timestamp()) if when else never


def _object_id(sid: str, domain: str) -> str:
    return f"{domain.upper()}-{sid}" if sid.startswith(WELL_KNOWN) else sid


def _nano(delta: dt.timedelta | None) -> str:
    if delta is None:
        return "Forever"
    seconds = int(delta.total_seconds())
    parts = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count > 1 else ''}")
    return ", ".join(parts)


def _account(account: ad.Account, snapshot: ad.Snapshot, ce: bool) -> dict:
    domain = snapshot.domain
    uac = account.uac
    props = {
        "domain": domain.dns_name.upper(),
        "domainsid": domain.sid,
        "distinguishedname": account.dn.upper(),
        "unconstraineddelegation": bool(uac & ad.UAC_TRUSTED_FOR_DELEGATION),
        "trustedtoauth": bool(uac & ad.UAC_TRUSTED_TO_AUTH_FOR_DELEGATION),
        "enabled": not uac & ad.UAC_ACCOUNTDISABLE,
        "samaccountname": account.sam,
        "lastlogon": _epoch(account.last_logon, 0),
        "lastlogontimestamp": _epoch(account.last_logon, -1),
        "pwdlastset": _epoch(account.pwd_last_set, 0),
        "whencreated": _epoch(account.created, 0),
        "serviceprincipalnames": list(account.spns),
        "description": account.description or None,
        "admincount": account.admin_count,
        "sidhistory": list(account.sid_history),
    }
    if account.allowed_to_delegate_to:
        props["allowedtodelegate"] = list(account.allowed_to_delegate_to)
    if ce:
        types = account.encryption_types
        props.update(
            useraccountcontrol=uac,
            encryptedtextpwdallowed=bool(uac & ad.UAC_ENCRYPTED_TEXT_PWD_ALLOWED),
            usedeskeyonly=bool(uac & ad.UAC_USE_DES_KEY_ONLY),
            lockedout=False,
            passwordexpired=False,
            supportedencryptiontypes=None
            if types is None
            else (["Not defined"] if types == 0 else [n for b, n in ENCRYPTION_NAMES if types & b]),
        )
    return {
        "ObjectIdentifier": account.sid,
        "PrimaryGroupSID": f"{domain.sid}-{account.primary_group_id}",
        "Properties": props,
        "AllowedToDelegate": [],
        "Aces": [],
        "HasSIDHistory": [
            {"ObjectIdentifier": s, "ObjectType": "User"} for s in account.sid_history
        ],
        "IsDeleted": False,
        "IsACLProtected": False,
    }


def _user(user: ad.User, snapshot: ad.Snapshot, ce: bool) -> dict:
    data = _account(user, snapshot, ce)
    uac = user.uac
    data["Properties"].update(
        name=f"{user.sam.upper()}@{snapshot.domain.dns_name.upper()}",
        passwordnotreqd=bool(uac & ad.UAC_PASSWD_NOTREQD),
        dontreqpreauth=bool(uac & ad.UAC_DONT_REQ_PREAUTH),
        pwdneverexpires=bool(uac & ad.UAC_DONT_EXPIRE_PASSWORD),
        sensitive=bool(uac & ad.UAC_NOT_DELEGATED),
        hasspn=bool(user.spns),
        displayname=user.display_name or None,
        email=user.mail or None,
        title=None,
        homedirectory=None,
        logonscript=None,
        # The secrets BloodHound copies when they are set (Hygie must never keep them).
        userpassword="Secret-userPassword!",
        unixpassword=None,
        unicodepassword=None,
        sfupassword=None,
    )
    data["SPNTargets"] = []
    return data


def _computer(computer: ad.Computer, snapshot: ad.Snapshot, ce: bool) -> dict:
    data = _account(computer, snapshot, ce)
    host = computer.dns_hostname or f"{computer.sam.rstrip('$')}.{snapshot.domain.dns_name}"
    props = data["Properties"]
    props.update(
        name=host.upper(),
        haslaps=computer.laps_expiry is not None or computer.laps_managed,
        operatingsystem=computer.os or None,
    )
    if ce:
        props["isdc"] = bool(computer.uac & ad.UAC_SERVER_TRUST_ACCOUNT)
        props["isreadonlydc"] = bool(computer.uac & ad.UAC_PARTIAL_SECRETS_ACCOUNT)
    else:
        props.update(
            operatingsystemname=computer.os or None,
            operatingsystemservicepack=None,
            operatingsystemversion=computer.os_version or None,
        )
    for block in ("LocalAdmins", "PSRemoteUsers", "RemoteDesktopUsers", "DcomUsers", "Sessions"):
        data[block] = {"Collected": False, "FailureReason": None, "Results": []}
    data.update(AllowedToAct=[], Status=None)
    return data


def _groups(snapshot: ad.Snapshot) -> list[dict]:
    kinds = {}
    for kind, objects in (
        ("User", snapshot.users),
        ("Computer", snapshot.computers),
        ("Group", snapshot.groups),
    ):
        for item in objects:
            kinds[ad.key(item.dn)] = (item.sid, kind)
    domain = snapshot.domain.dns_name.upper()
    out = []
    for group in snapshot.groups:
        members = []
        for dn in group.members:
            sid, kind = kinds.get(ad.key(dn)) or (ad.principal_sid(snapshot, dn), "Base")
            members.append({"ObjectIdentifier": _object_id(sid, domain), "ObjectType": kind})
        out.append(
            {
                "ObjectIdentifier": _object_id(group.sid, domain),
                "Properties": {
                    "domain": domain,
                    "domainsid": snapshot.domain.sid,
                    "name": f"{group.sam.upper()}@{domain}",
                    "distinguishedname": group.dn.upper(),
                    "admincount": group.admin_count,
                    "description": group.description or None,
                    "samaccountname": group.sam,
                    "highvalue": group.sid.endswith(("-512", "-519", "-544")),
                },
                "Members": members,
                "Aces": [],
                "IsDeleted": False,
            }
        )
    return out


def _domain(snapshot: ad.Snapshot, ce: bool) -> dict:
    domain = snapshot.domain
    levels = {4: "2008 R2", 5: "2012", 6: "2012 R2", 7: "2016"}
    props = {
        "name": domain.dns_name.upper(),
        "domain": domain.dns_name.upper(),
        "domainsid": domain.sid,
        "distinguishedname": domain.dn.upper(),
        "description": None,
        "functionallevel": levels.get(domain.functional_level, "Unknown"),
        "highvalue": True,
        "whencreated": _epoch(domain.created, 0),
    }
    trusts = []
    for trust in snapshot.trusts:
        within = trust.attributes & ad.TRUST_ATTRIBUTE_WITHIN_FOREST
        forest = trust.attributes & ad.TRUST_ATTRIBUTE_FOREST_TRANSITIVE
        filtering = bool(trust.attributes & ad.TRUST_ATTRIBUTE_QUARANTINED_DOMAIN) or bool(
            forest and not trust.attributes & ad.TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL
        )
        kind = 0 if within else 2 if forest else 3
        out = {
            "TargetDomainName": trust.partner.upper(),
            "TargetDomainSid": trust.sid,
            "IsTransitive": not trust.attributes & ad.TRUST_ATTRIBUTE_NON_TRANSITIVE,
            "TrustDirection": trust.direction,
            "TrustType": kind,
            "SidFilteringEnabled": filtering,
        }
        if ce:
            out.update(
                TrustDirection=DIRECTIONS[trust.direction],
                TrustType=("ParentChild", "CrossLink", "Forest", "External")[kind],
                TrustAttributes=trust.attributes,
                TGTDelegationEnabled=bool(
                    trust.attributes & ad.TRUST_ATTRIBUTE_CROSS_ORGANIZATION_ENABLE_TGT_DELEGATION
                ),
            )
        trusts.append(out)
    if ce:
        props.update(
            netbios=domain.netbios,
            machineaccountquota=domain.machine_account_quota,
            minpwdlength=domain.min_pwd_length,
            pwdproperties=domain.pwd_properties,
            pwdhistorylength=domain.pwd_history,
            lockoutthreshold=domain.lockout_threshold,
            minpwdage=_nano(domain.min_pwd_age),
            maxpwdage=_nano(domain.max_pwd_age),
            lockoutduration=_nano(domain.lockout_duration),
            # SharpHound CE writes this one as the raw (negative, 100 ns) interval.
            lockoutobservationwindow=-int(domain.lockout_window.total_seconds() * 10**7)
            if domain.lockout_window
            else 0,
            expirepasswordsonsmartcardonlyaccounts=False,
            dsheuristics=None,
        )
    return {
        "ObjectIdentifier": domain.sid,
        "Properties": props,
        "Trusts": trusts,
        "Aces": [],
        "Links": [],
        "ChildObjects": [],
        "GPOChanges": {"AffectedComputers": [], "LocalAdmins": [], "RemoteDesktopUsers": []},
        "IsDeleted": False,
    }


def _files(snapshot: ad.Snapshot, ce: bool) -> dict[str, bytes]:
    version = 6 if ce else 5
    meta = {"methods": 521215 if ce else 0, "version": version}
    if ce:
        meta["collectorversion"] = "2.5.7.0"
    documents = {
        "users": [_user(u, snapshot, ce) for u in snapshot.users],
        "computers": [_computer(c, snapshot, ce) for c in snapshot.computers],
        "groups": _groups(snapshot),
        "domains": [_domain(snapshot, ce)],
        "gpos": [],
        "ous": [],
    }
    files = {}
    for kind, data in documents.items():
        # SharpHound writes "data" first and "meta" last; BloodHound.py the same.
        document = {"data": data, "meta": {**meta, "type": kind, "count": len(data)}}
        files[f"{STAMP}_{kind}.json"] = json.dumps(document, indent=None if ce else 4).encode()
    return files


def legacy(snapshot: ad.Snapshot) -> dict[str, bytes]:
    return _files(snapshot, ce=False)


def community(snapshot: ad.Snapshot) -> dict[str, bytes]:
    return _files(snapshot, ce=True)


def zipped(files: dict[str, bytes], name: str = f"{STAMP}_BloodHound.zip") -> tuple[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file_name, content in files.items():
            archive.writestr(file_name, content)
    return name, buffer.getvalue()
