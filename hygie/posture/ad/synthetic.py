"""Synthetic hospital domains for the benchmark, the demo and tests (decision 0713).

`generate` builds a realistic `Snapshot` — OUs per site and service, French names, service
accounts with SPNs, administrators in nested groups, spread logon and password dates, an OS mix
with some obsolete systems, and a few of every weakness at realistic rates — deterministic for a
seed. `write_ldapdomaindump` writes it as the five JSON files of ldapdomaindump (one ldap3
`entry_to_json` object per entry: {"attributes": {name: [values]}, "dn": ...}), so the exports
parser reads it like a real dump.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from hygie.posture.ad import snapshot as ad

SITES = ("Site-Nord", "Site-Sud", "Hopital-Mere-Enfant", "EHPAD-Les-Tilleuls")
SERVICES = (
    "Urgences",
    "Cardiologie",
    "Pediatrie",
    "Radiologie",
    "Laboratoire",
    "Pharmacie",
    "Bloc-Operatoire",
    "Reanimation",
    "Maternite",
    "Administration",
    "DSI",
    "Accueil",
)
FIRST = (
    "Marie",
    "Jean",
    "Nathalie",
    "Pierre",
    "Isabelle",
    "Philippe",
    "Sylvie",
    "Michel",
    "Catherine",
    "Alain",
    "Sophie",
    "Nicolas",
    "Julie",
    "Thomas",
    "Camille",
    "Lucas",
    "Emma",
    "Hugo",
    "Chloe",
    "Louis",
    "Léa",
    "Gabriel",
    "Manon",
    "Hélène",
    "François",
)
LAST = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
)
# (operatingSystem, operatingSystemVersion, weight) for workstations and servers
WORKSTATION_OS = (
    ("Windows 11 Entreprise", "10.0 (22631)", 30),
    ("Windows 10 Entreprise", "10.0 (19045)", 55),
    ("Windows 10 Entreprise LTSC", "10.0 (17763)", 6),
    ("Windows 7 Professionnel", "6.1 (7601)", 6),
    ("Windows XP Professional", "5.1 (2600)", 2),
    ("Windows 8.1 Entreprise", "6.3 (9600)", 1),
)
SERVER_OS = (
    ("Windows Server 2022 Standard", "10.0 (20348)", 30),
    ("Windows Server 2019 Standard", "10.0 (17763)", 35),
    ("Windows Server 2016 Standard", "10.0 (14393)", 20),
    ("Windows Server 2012 R2 Standard", "6.3 (9600)", 10),
    ("Windows Server 2008 R2 Standard", "6.1 (7601)", 5),
)
APPLICATIONS = ("dpi", "pacs", "lis", "pharma", "rh", "gam", "sql", "web", "print", "backup")
EPOCH = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC)


def _ascii(text: str) -> str:
    table = str.maketrans("éèêëàâîïôöûüçÉÈ", "eeeeaaiioouucEE")
    return text.translate(table).lower().replace(" ", "")


def _pick(rng: random.Random, weighted):
    return rng.choices(weighted, weights=[w for *_rest, w in weighted])[0]


def generate(*, users: int = 1000, computers: int = 500, seed: int = 1) -> ad.Snapshot:
    """A hospital domain of this size, the same for the same arguments."""
    rng = random.Random(seed)  # noqa: S311 — test data, not secrets
    now = EPOCH
    base = "DC=chu-synthetique,DC=local"
    sid = f"S-1-5-21-{1000 + seed % 1000}-{2000 + seed % 997}-{3000 + seed % 991}"
    next_rid = [1100]

    def new_sid() -> str:
        next_rid[0] += 1
        return f"{sid}-{next_rid[0]}"

    def ago(low: int, high: int) -> dt.datetime:
        return now - dt.timedelta(days=rng.randint(low, high), seconds=rng.randint(0, 86399))

    domain = ad.Domain(
        dns_name="chu-synthetique.local",
        dn=base,
        netbios="CHUSYNTH",
        sid=sid,
        functional_level=rng.choice((6, 7, 7)),
        created=now - dt.timedelta(days=5200),
        min_pwd_length=rng.choice((7, 8, 10, 12)),
        pwd_history=24,
        max_pwd_age=rng.choice((None, dt.timedelta(days=90), dt.timedelta(days=365))),
        min_pwd_age=dt.timedelta(days=1),
        lockout_threshold=rng.choice((0, 5, 10)),
        lockout_duration=dt.timedelta(minutes=30),
        lockout_window=dt.timedelta(minutes=30),
        pwd_properties=ad.DOMAIN_PASSWORD_COMPLEX,
        machine_account_quota=10,
    )
    snap = ad.Snapshot(
        domain=domain,
        collected_at=now,
        source="ldapdomaindump",
        laps_legacy_schema=True,
        laps_windows_schema=False,
    )
    groups: dict[str, ad.Group] = {}

    def group(name, container, group_sid) -> ad.Group:
        g = ad.Group(dn=f"CN={name},{container},{base}", sam=name, sid=group_sid)
        groups[name] = g
        snap.groups.append(g)
        return g

    builtin, users_cn = "CN=Builtin", "CN=Users"
    for name, gsid in (
        ("Administrators", ad.SID_ADMINISTRATORS),
        ("Account Operators", ad.SID_ACCOUNT_OPERATORS),
        ("Server Operators", ad.SID_SERVER_OPERATORS),
        ("Print Operators", ad.SID_PRINT_OPERATORS),
        ("Backup Operators", ad.SID_BACKUP_OPERATORS),
        ("Pre-Windows 2000 Compatible Access", ad.SID_PRE_WINDOWS_2000),
    ):
        group(name, builtin, gsid)
    for name, group_rid in (
        ("Domain Admins", 512),
        ("Domain Users", 513),
        ("Domain Guests", 514),
        ("Domain Computers", 515),
        ("Domain Controllers", 516),
        ("Schema Admins", 518),
        ("Enterprise Admins", 519),
        ("Protected Users", 525),
    ):
        group(name, users_cn, f"{sid}-{group_rid}")
    admin_ou = "OU=Administration,OU=Groupes"
    tier0 = group("GG-Admins-Tier0", admin_ou, new_sid())
    support = group("GG-Support-N3", admin_ou, new_sid())
    members: dict[str, list[str]] = {name: [] for name in groups}

    def member(group_name: str, dn: str) -> None:
        members[group_name].append(dn)

    member("Administrators", groups["Domain Admins"].dn)
    member("Administrators", groups["Enterprise Admins"].dn)
    member("Domain Admins", tier0.dn)
    member("GG-Admins-Tier0", support.dn)
    # A pre-Windows 2000 group still opened to everyone in a fraction of the domains.
    world = "S-1-1-0" if rng.random() < 0.5 else ad.SID_AUTHENTICATED_USERS
    member("Pre-Windows 2000 Compatible Access", f"CN={world},CN=ForeignSecurityPrincipals,{base}")

    def account_user(
        sam,
        *,
        ou,
        uac=ad.UAC_NORMAL_ACCOUNT,
        display="",
        spns=(),
        rid=None,
        logon=(0, 30),
        pwd=(0, 400),
        admin=False,
        primary=513,
        created=(200, 4000),
    ):
        user = ad.User(
            dn=f"CN={display or sam},{ou},{base}",
            sam=sam,
            sid=f"{sid}-{rid}" if rid else new_sid(),
            uac=uac,
            created=ago(*created),
            last_logon=ago(*logon) if logon else None,
            pwd_last_set=ago(*pwd) if pwd else None,
            admin_count=admin,
            spns=tuple(spns),
            primary_group_id=primary,
            display_name=display,
            mail=f"{sam}@chu-synthetique.fr" if display else "",
        )
        snap.users.append(user)
        return user

    account_user(
        "Administrator",
        ou="CN=Users",
        rid=500,
        admin=True,
        pwd=(300, 2500),
        uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_DONT_EXPIRE_PASSWORD,
    )
    member("Domain Admins", snap.users[-1].dn)
    account_user(
        "Guest",
        ou="CN=Users",
        rid=501,
        primary=514,
        logon=None,
        pwd=None,
        uac=ad.UAC_NORMAL_ACCOUNT
        | ad.UAC_ACCOUNTDISABLE
        | ad.UAC_PASSWD_NOTREQD
        | ad.UAC_DONT_EXPIRE_PASSWORD,
    )
    account_user(
        "krbtgt",
        ou="CN=Users",
        rid=502,
        logon=None,
        pwd=(200, 3000),
        uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_ACCOUNTDISABLE,
    )

    # Administrators: a handful, some in nested groups, some with bad habits.
    admin_count = max(3, min(25, users // 4000 + 6))
    for index in range(admin_count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        sam = f"adm-{_ascii(first)[0]}{_ascii(last)}{index}"
        uac = ad.UAC_NORMAL_ACCOUNT
        if rng.random() < 0.4:
            uac |= ad.UAC_DONT_EXPIRE_PASSWORD
        if rng.random() < 0.3:
            uac |= ad.UAC_NOT_DELEGATED
        user = account_user(
            sam,
            ou="OU=Comptes-Admin,OU=DSI",
            display=f"{first} {last} (admin)",
            admin=True,
            uac=uac,
            pwd=(10, 1600),
            logon=(0, 150),
        )
        member(rng.choice(("Domain Admins", "GG-Admins-Tier0", "GG-Support-N3")), user.dn)
        if rng.random() < 0.3:
            member("Protected Users", user.dn)
    svc_sql = account_user(
        "svc-sql-adm",
        ou="OU=Comptes-Service,OU=DSI",
        admin=True,
        spns=("MSSQLSvc/sql-dpi.chu-synthetique.local:1433",),
        uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_DONT_EXPIRE_PASSWORD,
        pwd=(1200, 3000),
    )
    member("GG-Admins-Tier0", svc_sql.dn)
    backup = account_user(
        "svc-sauvegarde",
        ou="OU=Comptes-Service,OU=DSI",
        pwd=(400, 2000),
        uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_DONT_EXPIRE_PASSWORD,
    )
    member("Backup Operators", backup.dn)

    # Service accounts with SPNs.
    for index, app in enumerate(APPLICATIONS):
        account_user(
            f"svc-{app}",
            ou="OU=Comptes-Service,OU=DSI",
            spns=(f"HTTP/{app}.chu-synthetique.local",) if index % 2 == 0 else (),
            uac=ad.UAC_NORMAL_ACCOUNT
            | ad.UAC_DONT_EXPIRE_PASSWORD
            | (ad.UAC_TRUSTED_FOR_DELEGATION if app == "web" else 0),
            pwd=(300, 3500),
        )

    # Staff: per site and service, with realistic weaknesses.
    for index in range(max(0, users - len(snap.users))):
        site, service = rng.choice(SITES), rng.choice(SERVICES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        sam = f"{_ascii(first)}.{_ascii(last)}{index}"
        roll = rng.random()
        uac = ad.UAC_NORMAL_ACCOUNT
        if roll < 0.06:
            uac |= ad.UAC_ACCOUNTDISABLE
        if rng.random() < 0.04:
            uac |= ad.UAC_DONT_EXPIRE_PASSWORD
        if rng.random() < 0.003:
            uac |= ad.UAC_PASSWD_NOTREQD
        if rng.random() < 0.001:
            uac |= ad.UAC_DONT_REQ_PREAUTH
        if rng.random() < 0.0005:
            uac |= ad.UAC_ENCRYPTED_TEXT_PWD_ALLOWED
        if rng.random() < 0.0003:
            uac |= ad.UAC_USE_DES_KEY_ONLY
        stale = rng.random() < 0.08
        never = rng.random() < 0.02
        user = account_user(
            sam,
            ou=f"OU={service},OU={site},OU=Utilisateurs",
            display=f"{first} {last}",
            uac=uac,
            logon=None if never else ((200, 1500) if stale else (0, 60)),
            pwd=None
            if rng.random() < 0.01
            else rng.choice(((0, 89), (90, 364), (365, 729), (730, 1094), (1095, 3000), (0, 364))),
            primary=1200 if rng.random() < 0.0005 else 513,
        )
        if rng.random() < 0.0005:
            user.sid_history = (f"S-1-5-21-9-9-9-{rng.randint(1000, 9999)}",)

    # Computers: DCs, servers and workstations, some stale, some obsolete, LAPS on most.
    dcs = max(2, computers // 20000 + 2)
    for index in range(computers):
        dc = index < dcs
        server = dc or rng.random() < 0.12
        os_name, os_version, _w = _pick(rng, SERVER_OS if server else WORKSTATION_OS)
        site = rng.choice(SITES)
        if dc:
            os_name, os_version = "Windows Server 2019 Standard", "10.0 (17763)"
            name, ou = f"DC{index + 1:02d}", "OU=Domain Controllers"
            uac = ad.UAC_SERVER_TRUST_ACCOUNT | ad.UAC_TRUSTED_FOR_DELEGATION
        else:
            prefix = "SRV" if server else "PC"
            name = f"{prefix}-{site[:4].upper()}-{index:05d}"
            ou = f"OU={'Serveurs' if server else 'Postes'},OU={site},OU=Ordinateurs"
            uac = ad.UAC_WORKSTATION_TRUST_ACCOUNT
            if rng.random() < 0.04:
                uac |= ad.UAC_ACCOUNTDISABLE
            if server and rng.random() < 0.02:
                uac |= ad.UAC_TRUSTED_FOR_DELEGATION
        stale = not dc and rng.random() < 0.07
        computer = ad.Computer(
            dn=f"CN={name},{ou},{base}",
            sam=f"{name}$",
            sid=new_sid(),
            uac=uac,
            created=ago(200, 3500),
            last_logon=ago(200, 1200) if stale else ago(0, 14),
            pwd_last_set=ago(200, 1200) if stale else ago(0, 30),
            primary_group_id=516 if dc else 515,
            dns_hostname=f"{name.lower()}.chu-synthetique.local",
            os=os_name,
            os_version=os_version,
            laps_expiry=None
            if dc or rng.random() < 0.15
            else now + dt.timedelta(days=rng.randint(1, 30)),
        )
        snap.computers.append(computer)
        if dc:
            member("Domain Controllers", computer.dn)

    for name, dns in members.items():
        groups[name].members = tuple(dns)
    for g in snap.groups:
        g.admin_count = g.sam in (
            "Administrators",
            "Domain Admins",
            "Schema Admins",
            "Enterprise Admins",
            "Backup Operators",
            "GG-Admins-Tier0",
            "GG-Support-N3",
        )
    # memberOf mirrors member, as the directory computes it.
    member_of: dict[str, list[str]] = {}
    for g in snap.groups:
        for dn in g.members:
            member_of.setdefault(ad.key(dn), []).append(g.dn)
    for account in (*snap.users, *snap.computers):
        account.member_of = tuple(member_of.get(ad.key(account.dn), ()))

    snap.trusts.append(
        ad.Trust(
            partner="ght-voisin.local",
            direction=ad.TRUST_DIRECTION_INBOUND | ad.TRUST_DIRECTION_OUTBOUND,
            trust_type=ad.TRUST_TYPE_UPLEVEL,
            attributes=0 if rng.random() < 0.5 else ad.TRUST_ATTRIBUTE_QUARANTINED_DOMAIN,
            created=now - dt.timedelta(days=2000),
            changed=ago(0, 25) if rng.random() < 0.7 else ago(100, 600),
            flat_name="GHTVOISIN",
            sid="S-1-5-21-7777-8888-9999",
        )
    )
    return snap


# ldapdomaindump writer ---------------------------------------------------------------------------
NEVER = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
FILES = (
    "domain_users.json",
    "domain_computers.json",
    "domain_groups.json",
    "domain_policy.json",
    "domain_trusts.json",
)


def _time(value: dt.datetime | None) -> str:
    # ldap3 renders Generalized Time and FILETIME attributes as str(datetime).
    return str((value or NEVER).astimezone(dt.UTC))


def _interval(value: dt.timedelta | None) -> str:
    # AD stores intervals as negative 100-ns counts; ldap3 renders them as str(timedelta),
    # "never" (the most negative value) as timedelta.min.
    return str(dt.timedelta.min if value is None else -value)


def _entry(dn: str, attributes: dict) -> dict:
    return {
        "attributes": {
            k: v if isinstance(v, list) else [v]
            for k, v in attributes.items()
            if v not in (None, [], ())
        },
        "dn": dn,
    }


def _cn(dn: str) -> str:
    return dn.split(",", 1)[0].partition("=")[2]


def _account(account: ad.Account, object_class: list[str]) -> dict:
    attributes = {
        "objectClass": object_class,
        "cn": _cn(account.dn),
        "distinguishedName": account.dn,
        "sAMAccountName": account.sam,
        "objectSid": account.sid,
        "userAccountControl": account.uac,
        "whenCreated": _time(account.created),
        "pwdLastSet": _time(account.pwd_last_set),
        "primaryGroupID": account.primary_group_id,
        "memberOf": list(account.member_of),
        "servicePrincipalName": list(account.spns),
        "description": account.description or None,
    }
    if account.last_logon is not None:
        attributes["lastLogonTimestamp"] = _time(account.last_logon)
    if account.admin_count:
        attributes["adminCount"] = 1
    if account.encryption_types is not None:
        attributes["msDS-SupportedEncryptionTypes"] = account.encryption_types
    if account.sid_history:
        attributes["sIDHistory"] = list(account.sid_history)
    if account.allowed_to_delegate_to:
        attributes["msDS-AllowedToDelegateTo"] = list(account.allowed_to_delegate_to)
    return attributes


def _user(user: ad.User) -> dict:
    attributes = _account(user, ["top", "person", "organizationalPerson", "user"])
    attributes["name"] = _cn(user.dn)
    attributes["displayName"] = user.display_name or None
    attributes["mail"] = user.mail or None
    return _entry(user.dn, attributes)


def _computer(computer: ad.Computer) -> dict:
    attributes = _account(computer, ["top", "person", "organizationalPerson", "user", "computer"])
    attributes["dNSHostName"] = computer.dns_hostname or None
    attributes["operatingSystem"] = computer.os or None
    attributes["operatingSystemVersion"] = computer.os_version or None
    if computer.laps_expiry is not None:
        # FILETIME, as ldap3 leaves this schema extension's integer unformatted.
        delta = computer.laps_expiry - NEVER
        attributes["ms-Mcs-AdmPwdExpirationTime"] = (
            delta.days * 86400 + delta.seconds
        ) * 10_000_000 + delta.microseconds * 10
    return _entry(computer.dn, attributes)


def _group(group: ad.Group) -> dict:
    attributes = {
        "objectClass": ["top", "group"],
        "cn": _cn(group.dn),
        "distinguishedName": group.dn,
        "sAMAccountName": group.sam,
        "objectSid": group.sid,
        "member": list(group.members),
        "description": group.description or None,
    }
    if group.admin_count:
        attributes["adminCount"] = 1
    return _entry(group.dn, attributes)


def _policy(snapshot: ad.Snapshot) -> dict:
    domain = snapshot.domain
    return _entry(
        domain.dn,
        {
            "objectClass": ["top", "domain", "domainDNS"],
            "distinguishedName": domain.dn,
            "dc": domain.dns_name.split(".")[0],
            "name": domain.netbios or domain.dns_name.split(".")[0],
            "objectSid": domain.sid,
            "whenCreated": _time(domain.created),
            "msDS-Behavior-Version": domain.functional_level,
            "minPwdLength": domain.min_pwd_length,
            "pwdHistoryLength": domain.pwd_history,
            "maxPwdAge": _interval(domain.max_pwd_age),
            "minPwdAge": _interval(domain.min_pwd_age) if domain.min_pwd_age else "0:00:00",
            "lockoutThreshold": domain.lockout_threshold,
            "lockoutDuration": _interval(domain.lockout_duration),
            "lockOutObservationWindow": _interval(domain.lockout_window),
            "pwdProperties": domain.pwd_properties,
            "ms-DS-MachineAccountQuota": domain.machine_account_quota,
        },
    )


def _trust(trust: ad.Trust, base: str) -> dict:
    dn = f"CN={trust.partner},CN=System,{base}"
    return _entry(
        dn,
        {
            "objectClass": ["top", "leaf", "trustedDomain"],
            "cn": trust.partner,
            "distinguishedName": dn,
            "name": trust.partner,
            "trustPartner": trust.partner,
            "flatName": trust.flat_name or None,
            "securityIdentifier": trust.sid or None,
            "trustDirection": trust.direction,
            "trustType": trust.trust_type,
            "trustAttributes": trust.attributes,
            "whenCreated": _time(trust.created),
            "whenChanged": _time(trust.changed),
        },
    )


def write_ldapdomaindump(snapshot: ad.Snapshot, directory) -> list[Path]:
    """Write the five ldapdomaindump JSON files into `directory`; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    content = {
        "domain_users.json": [_user(u) for u in snapshot.users],
        "domain_computers.json": [_computer(c) for c in snapshot.computers],
        "domain_groups.json": [_group(g) for g in snapshot.groups],
        "domain_policy.json": [_policy(snapshot)],
        "domain_trusts.json": [_trust(t, snapshot.domain.dn) for t in snapshot.trusts],
    }
    paths = []
    for name in FILES:
        path = directory / name
        with path.open("w", encoding="utf-8") as handle:
            json.dump(content[name], handle, ensure_ascii=False, indent=4, sort_keys=True)
        paths.append(path)
    return paths
