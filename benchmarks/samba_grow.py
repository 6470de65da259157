"""Grows a provisioned, stopped Samba AD DC to a hospital-sized domain, offline, in batches.

Run by benchmarks/posture_ad_live.py with the system Python (`/usr/bin/python3 -I`), which has
Samba's own bindings — the technique tests/posture/samba_plant.py uses to plant the test
domain: everything goes through Samba's directory modules (schema checks, RID allocation,
linked attributes), but in one process and one transaction per batch instead of one LDAP
request and one transaction per object.

Arguments: smb.conf path, sam.ldb path, number of users, number of computers, batch size.
Prints one JSON line: {"users": n, "computers": n, "groups": n, "seconds": {...}}.
Deterministic (fixed seed): two runs grow the same domain. No password is set (no Kerberos
key is derived: that alone would cost more than everything else); accounts carry the
attributes the audit reads (flags, logon and creation dates, operating systems, groups).
"""

import json
import random
import sys
import time

import ldb
from samba import dsdb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

RELAX = "relax:0"
BYPASS_PASSWORD_HASH = f"local_oid:{dsdb.DSDB_CONTROL_BYPASS_PASSWORD_HASH_OID}:0"
SITES = ["Site-Nord", "Site-Sud", "Site-Est", "Site-Ouest"]
SERVICES = 200  # service groups; every user is in one, plus the all-staff group
FIRST = ["Marie", "Jean", "Claire", "Paul", "Sophie", "Luc", "Anne", "Marc", "Julie", "Eric"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"]
SYSTEMS = [  # (weight, operatingSystem, operatingSystemVersion)
    (55, "Windows 10 Entreprise", "10.0 (19045)"),
    (25, "Windows 11 Entreprise", "10.0 (22631)"),
    (10, "Windows Server 2019 Standard", "10.0 (17763)"),
    (5, "Windows Server 2012 R2 Standard", "6.3 (9600)"),
    (4, "Windows 7 Professionnel", "6.1 (7601)"),
    (1, "Windows XP Professional", "5.1 (2600)"),
]
NOW = time.time()


def filetime(days_ago: float) -> int:
    return int((NOW - days_ago * 86400 + 11644473600) * 10_000_000)


def generalized(days_ago: float) -> str:
    return time.strftime("%Y%m%d%H%M%S.0Z", time.gmtime(NOW - days_ago * 86400))


def element(value, name, flag=ldb.FLAG_MOD_ADD):
    value = [str(v) for v in value] if isinstance(value, list) else str(value)
    return ldb.MessageElement(value, flag, name)


def add(db, dn, values, controls):
    message = ldb.Message()
    message.dn = ldb.Dn(db, dn)
    for name, value in values.items():
        message[name] = element(value, name)
    db.add(message, controls=controls)


def set_created(db, dn, when):
    # Samba stamps whenCreated itself on add; the system session may replace it afterwards.
    message = ldb.Message()
    message.dn = ldb.Dn(db, dn)
    message["whenCreated"] = element(when, "whenCreated", ldb.FLAG_MOD_REPLACE)
    db.modify(message)


def batched(db, items, size, work):
    for start in range(0, len(items), size):
        db.transaction_start()
        try:
            for item in items[start : start + size]:
                work(item)
        except BaseException:
            db.transaction_cancel()
            raise
        db.transaction_commit()


def main(conf, url, users, computers, batch):
    users, computers, batch = int(users), int(computers), int(batch)
    rng = random.Random(20261130)
    lp = LoadParm()
    lp.load(conf)
    db = SamDB(url=url, session_info=system_session(), lp=lp)
    base = str(db.domain_dn())
    timings = {}

    mark = time.monotonic()
    top = f"OU=Hopital,{base}"
    db.transaction_start()
    add(db, top, {"objectClass": "organizationalUnit"}, [])
    for site in SITES:
        add(db, f"OU={site},{top}", {"objectClass": "organizationalUnit"}, [])
        for kind in ("Personnels", "Postes"):
            add(db, f"OU={kind},OU={site},{top}", {"objectClass": "organizationalUnit"}, [])
    groups_ou = f"OU=Groupes,{top}"
    add(db, groups_ou, {"objectClass": "organizationalUnit"}, [])
    group_dns = []
    for number in range(SERVICES + 1):
        name = "GG-Tous-Personnels" if number == SERVICES else f"GG-Service-{number:03d}"
        dn = f"CN={name},{groups_ou}"
        add(db, dn, {"objectClass": "group", "sAMAccountName": name}, [])
        group_dns.append(dn)
    db.transaction_commit()
    timings["ous_groups"] = time.monotonic() - mark

    mark = time.monotonic()
    user_dns = []

    def add_user(number):
        sam = f"agent{number:05d}"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        site = SITES[number % len(SITES)]
        dn = f"CN={sam},OU=Personnels,OU={site},{top}"
        roll = rng.random()
        uac = 0x200
        if roll < 0.08:
            uac |= 0x2  # disabled (left after departure)
        elif roll < 0.13:
            uac |= 0x10000  # password never expires
        elif roll < 0.14:
            uac |= 0x400000  # no Kerberos pre-authentication
        created = rng.uniform(10, 4000)
        values = {
            "objectClass": "user",
            "sAMAccountName": sam,
            "userPrincipalName": f"{sam}@hygie.test",
            "givenName": first,
            "sn": last,
            "displayName": f"{first} {last}",
            "mail": f"{sam}@chu-hygie.fr",
            "description": f"Agent du service {number % SERVICES:03d}",
            "userAccountControl": uac,
            "pwdLastSet": filetime(rng.uniform(0, min(created, 1500))),
        }
        if rng.random() < 0.9:
            values["lastLogonTimestamp"] = filetime(rng.uniform(0, min(created, 600)))
        if rng.random() < 0.01:
            values["servicePrincipalName"] = f"HTTP/app{number}.hygie.test"
        add(db, dn, values, [RELAX, BYPASS_PASSWORD_HASH])
        set_created(db, dn, generalized(created))
        user_dns.append(dn)

    batched(db, list(range(users)), batch, add_user)
    timings["users"] = time.monotonic() - mark

    mark = time.monotonic()
    weights = [w for w, _os, _v in SYSTEMS]

    def add_computer(number):
        name = f"PC-{number:05d}"
        site = SITES[number % len(SITES)]
        _w, system, version = rng.choices(SYSTEMS, weights)[0]
        created = rng.uniform(10, 3000)
        values = {
            "objectClass": "computer",
            "sAMAccountName": f"{name}$",
            "userAccountControl": 0x1000 if rng.random() < 0.95 else 0x1002,
            "dNSHostName": f"{name.lower()}.hygie.test",
            "operatingSystem": system,
            "operatingSystemVersion": version,
            "pwdLastSet": filetime(rng.uniform(0, min(created, 60))),
            "lastLogonTimestamp": filetime(rng.uniform(0, min(created, 400))),
        }
        dn = f"CN={name},OU=Postes,OU={site},{top}"
        add(db, dn, values, [RELAX, BYPASS_PASSWORD_HASH])
        set_created(db, dn, generalized(created))

    batched(db, list(range(computers)), batch, add_computer)
    timings["computers"] = time.monotonic() - mark

    mark = time.monotonic()
    memberships = [(group_dns[n % SERVICES], dn) for n, dn in enumerate(user_dns)]
    memberships += [(group_dns[SERVICES], dn) for dn in user_dns]
    by_group: dict[str, list[str]] = {}
    for group, member in memberships:
        by_group.setdefault(group, []).append(member)
    chunks = []
    for group, members in by_group.items():
        for start in range(0, len(members), batch):
            chunks.append((group, members[start : start + batch]))

    def add_members(chunk):
        group, members = chunk
        message = ldb.Message()
        message.dn = ldb.Dn(db, group)
        message["member"] = element(members, "member")
        db.modify(message)

    batched(db, chunks, 20, add_members)
    timings["members"] = time.monotonic() - mark
    print(
        json.dumps(
            {
                "users": users,
                "computers": computers,
                "groups": len(group_dns),
                "memberships": len(memberships),
                "seconds": {k: round(v, 1) for k, v in timings.items()},
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:6])
