"""Active Directory snapshots built in code, with known weaknesses and one clean account.

`weak_domain()` is a small hospital domain:

- `adm-sql` — a Domain Admin with an SPN (Kerberoastable: P-ADMIN-SPN), password never expires;
- `adm-backup` — nested admin (in "Admins IT", itself in Domain Admins), no logon for a year;
- `old.user` — an enabled user with no logon for over 180 days (S-INACTIVE-USER);
- `svc-scan` — a user without Kerberos pre-authentication (S-NO-PREAUTH);
- `PC-RADIO-01` — a Windows 7 workstation (S-OBSOLETE-OS);
- `marie.curie` — the clean account: recent logon, recent password, nothing special;
- a domain policy with a 6-character minimum and no lockout (A-MIN-PWD-LENGTH, A-NO-LOCKOUT).

`weak_domain(fixed=("spn",))` is the same domain after the Kerberoastable admin lost its SPN.
"""

from __future__ import annotations

import datetime as dt

from hygie.posture.ad.snapshot import (
    RID_DOMAIN_ADMINS,
    RID_DOMAIN_USERS,
    UAC_DONT_EXPIRE_PASSWORD,
    UAC_DONT_REQ_PREAUTH,
    UAC_NORMAL_ACCOUNT,
    UAC_SERVER_TRUST_ACCOUNT,
    UAC_TRUSTED_FOR_DELEGATION,
    UAC_WORKSTATION_TRUST_ACCOUNT,
    Computer,
    Domain,
    Group,
    Snapshot,
    User,
)

NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
DOMAIN = "chu-exemple.local"
BASE = "DC=chu-exemple,DC=local"
SID = "S-1-5-21-1111111111-2222222222-3333333333"
USERS = f"CN=Users,{BASE}"


def _days(n: int, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=n)


def _user(sam, now, *, rid, uac=UAC_NORMAL_ACCOUNT, logon=3, pwd=30, created=900, **extra):
    return User(
        dn=f"CN={sam},{USERS}",
        sam=sam,
        sid=f"{SID}-{rid}",
        uac=uac,
        created=_days(created, now),
        last_logon=_days(logon, now) if logon is not None else None,
        pwd_last_set=_days(pwd, now),
        primary_group_id=RID_DOMAIN_USERS,
        **extra,
    )


def weak_domain(*, now: dt.datetime = NOW, fixed: tuple[str, ...] = (), domain: str = DOMAIN):
    admins_dn = f"CN=Domain Admins,{USERS}"
    it_dn = f"CN=Admins IT,{USERS}"
    users = [
        _user("Administrator", now, rid=500, admin_count=True, member_of=(admins_dn,)),
        _user("krbtgt", now, rid=502, uac=UAC_NORMAL_ACCOUNT | 0x2, logon=None, pwd=200),
        _user(
            "adm-sql",
            now,
            rid=1101,
            uac=UAC_NORMAL_ACCOUNT | UAC_DONT_EXPIRE_PASSWORD,
            pwd=2000,
            admin_count=True,
            spns=() if "spn" in fixed else ("MSSQLSvc/sql01.chu-exemple.local:1433",),
            member_of=(admins_dn,),
        ),
        _user("adm-backup", now, rid=1102, logon=365, admin_count=True, member_of=(it_dn,)),
        _user("old.user", now, rid=1103, logon=400, pwd=400),
        _user("svc-scan", now, rid=1104, uac=UAC_NORMAL_ACCOUNT | UAC_DONT_REQ_PREAUTH),
        _user("marie.curie", now, rid=1105, logon=1, pwd=20, display_name="Marie Curie"),
    ]
    computers = [
        Computer(
            dn=f"CN=DC01,OU=Domain Controllers,{BASE}",
            sam="DC01$",
            sid=f"{SID}-1000",
            uac=UAC_SERVER_TRUST_ACCOUNT | UAC_TRUSTED_FOR_DELEGATION,
            created=_days(2000, now),
            last_logon=_days(1, now),
            pwd_last_set=_days(10, now),
            primary_group_id=516,
            os="Windows Server 2019 Standard",
            os_version="10.0 (17763)",
            dns_hostname=f"dc01.{domain}",
        ),
        Computer(
            dn=f"CN=PC-RADIO-01,CN=Computers,{BASE}",
            sam="PC-RADIO-01$",
            sid=f"{SID}-1200",
            uac=UAC_WORKSTATION_TRUST_ACCOUNT,
            created=_days(3000, now),
            last_logon=_days(2, now),
            pwd_last_set=_days(20, now),
            primary_group_id=515,
            os="Windows 7 Professionnel",
            os_version="6.1 (7601)",
            dns_hostname=f"pc-radio-01.{domain}",
        ),
        Computer(
            dn=f"CN=PC-ACCUEIL-02,CN=Computers,{BASE}",
            sam="PC-ACCUEIL-02$",
            sid=f"{SID}-1201",
            uac=UAC_WORKSTATION_TRUST_ACCOUNT,
            created=_days(300, now),
            last_logon=_days(1, now),
            pwd_last_set=_days(15, now),
            primary_group_id=515,
            os="Windows 11 Entreprise",
            os_version="10.0 (22631)",
            laps_expiry=now + dt.timedelta(days=20),
        ),
    ]
    groups = [
        Group(
            dn=admins_dn,
            sam="Domain Admins",
            sid=f"{SID}-{RID_DOMAIN_ADMINS}",
            members=(users[0].dn, users[2].dn, it_dn),
            admin_count=True,
        ),
        Group(dn=it_dn, sam="Admins IT", sid=f"{SID}-1300", members=(users[3].dn,)),
        Group(
            dn=f"CN=Administrators,CN=Builtin,{BASE}",
            sam="Administrators",
            sid="S-1-5-32-544",
            members=(admins_dn,),
        ),
        Group(dn=f"CN=Radiologie,{USERS}", sam="Radiologie", sid=f"{SID}-1301"),
    ]
    return Snapshot(
        domain=Domain(
            dns_name=domain,
            dn=BASE,
            netbios="CHUEX",
            sid=SID,
            functional_level=7,
            created=_days(4000, now),
            min_pwd_length=6,
            pwd_history=24,
            max_pwd_age=dt.timedelta(days=365),
            lockout_threshold=0,
            pwd_properties=1,
            machine_account_quota=0,
        ),
        collected_at=now,
        source="ldapdomaindump",
        users=users,
        computers=computers,
        groups=groups,
        laps_legacy_schema=False,
        laps_windows_schema=True,
        warnings=["1 objet illisible ignoré : CN=Objet cassé"],
    )
