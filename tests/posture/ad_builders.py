"""A small, clean Active Directory snapshot to plant weaknesses in (rules and password tests).

`clean_snapshot()` raises no finding at all; each test adds or changes the objects it needs.
"""

from __future__ import annotations

import datetime as dt

from hygie.posture.ad import snapshot as ad

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
BASE = "DC=chu-exemple,DC=local"
DOMAIN_SID = "S-1-5-21-1111-2222-3333"
SECURE_ADMIN = ad.UAC_NORMAL_ACCOUNT | ad.UAC_NOT_DELEGATED


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def user_dn(sam: str, ou: str = "OU=Utilisateurs") -> str:
    return f"CN={sam},{ou},{BASE}"


def group_dn(name: str, container: str = "CN=Users") -> str:
    return f"CN={name},{container},{BASE}"


class Builder:
    """Keeps a snapshot and the DNs of its well-known groups."""

    def __init__(self):
        self._rid = 1100
        self.domain = ad.Domain(
            dns_name="chu-exemple.local",
            dn=BASE,
            netbios="CHUEX",
            sid=DOMAIN_SID,
            functional_level=7,
            created=days_ago(3000),
            min_pwd_length=12,
            pwd_history=24,
            max_pwd_age=None,
            min_pwd_age=dt.timedelta(days=1),
            lockout_threshold=10,
            lockout_duration=dt.timedelta(minutes=15),
            lockout_window=dt.timedelta(minutes=15),
            pwd_properties=ad.DOMAIN_PASSWORD_COMPLEX,
            machine_account_quota=0,
        )
        self.snapshot = ad.Snapshot(
            domain=self.domain,
            collected_at=NOW,
            source="ldapdomaindump",
            laps_legacy_schema=False,
            laps_windows_schema=True,
        )
        self.groups: dict[str, ad.Group] = {}
        builtin = "CN=Builtin"
        for name, sid, container in (
            ("Administrators", ad.SID_ADMINISTRATORS, builtin),
            ("Account Operators", ad.SID_ACCOUNT_OPERATORS, builtin),
            ("Server Operators", ad.SID_SERVER_OPERATORS, builtin),
            ("Print Operators", ad.SID_PRINT_OPERATORS, builtin),
            ("Backup Operators", ad.SID_BACKUP_OPERATORS, builtin),
            ("Pre-Windows 2000 Compatible Access", ad.SID_PRE_WINDOWS_2000, builtin),
            ("Domain Admins", f"{DOMAIN_SID}-512", "CN=Users"),
            ("Domain Users", f"{DOMAIN_SID}-513", "CN=Users"),
            ("Domain Computers", f"{DOMAIN_SID}-515", "CN=Users"),
            ("Domain Controllers", f"{DOMAIN_SID}-516", "CN=Users"),
            ("Schema Admins", f"{DOMAIN_SID}-518", "CN=Users"),
            ("Enterprise Admins", f"{DOMAIN_SID}-519", "CN=Users"),
            ("Protected Users", f"{DOMAIN_SID}-525", "CN=Users"),
        ):
            group = ad.Group(dn=group_dn(name, container), sam=name, sid=sid)
            self.groups[name] = group
            self.snapshot.groups.append(group)
        self.add_members("Administrators", self.groups["Domain Admins"].dn)
        self.add_members("Administrators", self.groups["Enterprise Admins"].dn)
        self.add_members(
            "Pre-Windows 2000 Compatible Access",
            f"CN={ad.SID_AUTHENTICATED_USERS},CN=ForeignSecurityPrincipals,{BASE}",
        )
        self.user("Administrator", rid=500, uac=SECURE_ADMIN, groups=["Domain Admins"])
        self.add_members("Protected Users", user_dn("Administrator"))
        self.user("krbtgt", rid=502, uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_ACCOUNTDISABLE)
        self.user(
            "Guest",
            rid=501,
            uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_ACCOUNTDISABLE | ad.UAC_PASSWD_NOTREQD,
            primary_group=514,
        )
        self.user("jmartin")
        self.computer("DC01", dc=True)
        self.computer("PC-URG-001")

    def next_sid(self, rid: int | None = None) -> str:
        if rid is None:
            self._rid += 1
            rid = self._rid
        return f"{DOMAIN_SID}-{rid}"

    def add_members(self, group: str, *dns: str) -> None:
        g = self.groups[group]
        g.members = (*g.members, *dns)

    def group(self, name: str, *, members=(), rid: int | None = None) -> ad.Group:
        group = ad.Group(dn=group_dn(name, "OU=Groupes"), sam=name, sid=self.next_sid(rid))
        group.members = tuple(members)
        self.groups[name] = group
        self.snapshot.groups.append(group)
        return group

    def user(
        self,
        sam,
        *,
        rid=None,
        uac=ad.UAC_NORMAL_ACCOUNT,
        groups=(),
        primary_group=513,
        logon=10,
        pwd=30,
        created=2000,
        **extra,
    ) -> ad.User:
        user = ad.User(
            dn=user_dn(sam),
            sam=sam,
            sid=self.next_sid(rid),
            uac=uac,
            created=days_ago(created) if created is not None else None,
            last_logon=days_ago(logon) if logon is not None else None,
            pwd_last_set=days_ago(pwd) if pwd is not None else None,
            primary_group_id=primary_group,
            **extra,
        )
        self.snapshot.users.append(user)
        for name in groups:
            self.add_members(name, user.dn)
        return user

    def admin(self, sam, *, groups=("Domain Admins",), protected=True, **extra) -> ad.User:
        extra.setdefault("uac", SECURE_ADMIN)
        user = self.user(sam, groups=groups, admin_count=True, **extra)
        if protected:
            self.add_members("Protected Users", user.dn)
        return user

    def computer(
        self,
        sam,
        *,
        dc=False,
        uac=None,
        os="Windows 11 Entreprise",
        os_version="10.0 (22631)",
        logon=5,
        created=1000,
        laps=True,
        **extra,
    ) -> ad.Computer:
        if uac is None:
            uac = (
                ad.UAC_SERVER_TRUST_ACCOUNT | ad.UAC_TRUSTED_FOR_DELEGATION
                if dc
                else (ad.UAC_WORKSTATION_TRUST_ACCOUNT)
            )
        computer = ad.Computer(
            dn=f"CN={sam},{'OU=Domain Controllers' if dc else 'OU=Postes'},{BASE}",
            sam=f"{sam}$",
            sid=self.next_sid(),
            uac=uac,
            created=days_ago(created),
            last_logon=days_ago(logon) if logon is not None else None,
            pwd_last_set=days_ago(20),
            primary_group_id=extra.pop("primary_group_id", 516 if dc else 515),
            os="Windows Server 2022 Standard" if dc else os,
            os_version="10.0 (20348)" if dc else os_version,
            laps_expiry=None if dc or not laps else NOW + dt.timedelta(days=20),
            dns_hostname=f"{sam.lower()}.chu-exemple.local",
            **extra,
        )
        self.snapshot.computers.append(computer)
        return computer

    def user_named(self, sam: str) -> ad.User:
        return next(u for u in self.snapshot.users if u.sam == sam)


def clean_snapshot() -> ad.Snapshot:
    return Builder().snapshot
