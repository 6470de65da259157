"""Plants the test domain's weaknesses into a provisioned, stopped Samba AD DC.

Run by tests/posture/samba.py with the system Python (`/usr/bin/python3`), which has Samba's
own bindings (`samba.samdb.SamDB`, the same module stack samba-tool uses): everything goes
through Samba's directory modules (schema checks, group membership, RID allocation), in one
process, in well under a second — and with Samba's "bypass password hash" control it can do
what no LDAP client can: put an old date in `pwdLastSet` (P-ADMIN-PWD-OLD, P-KRBTGT-PWD-OLD).

Arguments: smb.conf path, sam.ldb path, the JSON file of the plan written by samba.py (accounts,
memberships, attributes). Not a test module (no Django, no pytest): only Samba's Python.
"""

import json
import sys

import ldb
from samba import dsdb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

BYPASS_PASSWORD_HASH = f"local_oid:{dsdb.DSDB_CONTROL_BYPASS_PASSWORD_HASH_OID}:0"


def replace(db, dn, values, controls=()):
    message = ldb.Message()
    message.dn = ldb.Dn(db, dn)
    for name, value in values.items():
        value = [str(v) for v in value] if isinstance(value, list) else str(value)
        message[name] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, name)
    db.modify(message, controls=list(controls))


def main(conf, url, plan_path):
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    lp = LoadParm()
    lp.load(conf)
    db = SamDB(url=url, session_info=system_session(), lp=lp)
    base = str(db.domain_dn())
    names = {}

    def dn_of(sam):
        if sam not in names:
            found = db.search(
                base, scope=ldb.SCOPE_SUBTREE, expression=f"(sAMAccountName={sam})", attrs=["dn"]
            )
            if len(found) != 1:
                raise SystemExit(f"{sam}: {len(found)} objects")
            names[sam] = str(found[0].dn)
        return names[sam]

    for group in plan["groups"]:
        db.newgroup(group)
    for user in plan["users"]:
        db.newuser(user["sam"], plan["password"], givenname=user.get("given"), surname="Test")
    for computer in plan["computers"]:
        db.newcomputer(computer["name"])
    for group, members in plan["members"].items():
        # Well-known principals (Anonymous, Everyone) are added by SID (Samba creates their
        # foreign security principal), the rest by name.
        plain = [m for m in members if not m.startswith("S-1-")]
        if plain:
            db.add_remove_group_members(group, plain, add_members_operation=True)
        for member in members:
            if member.startswith("S-1-"):
                message = ldb.Message()
                message.dn = ldb.Dn(db, dn_of(group))
                message["member"] = ldb.MessageElement(
                    f"<SID={member}>", ldb.FLAG_MOD_ADD, "member"
                )
                db.modify(message)
    for sam, values in plan["attributes"].items():
        values = dict(values)
        password_date = values.pop("pwdLastSet", None)
        if values:
            replace(db, dn_of(sam), values)
        if password_date is not None:
            replace(db, dn_of(sam), {"pwdLastSet": password_date}, [BYPASS_PASSWORD_HASH])
    replace(db, base, plan["domain"])
    for pso in plan["psos"]:
        pso = dict(pso)
        name = pso.pop("cn")
        applies = [dn_of(sam) for sam in pso.pop("appliesTo")]
        message = ldb.Message()
        message.dn = ldb.Dn(db, f"CN={name},CN=Password Settings Container,CN=System,{base}")
        message["objectClass"] = ldb.MessageElement(
            "msDS-PasswordSettings", ldb.FLAG_MOD_ADD, "objectClass"
        )
        for attr, value in pso.items():
            message[attr] = ldb.MessageElement(str(value), ldb.FLAG_MOD_ADD, attr)
        message["msDS-PSOAppliesTo"] = ldb.MessageElement(
            applies, ldb.FLAG_MOD_ADD, "msDS-PSOAppliesTo"
        )
        db.add(message)


if __name__ == "__main__":
    main(*sys.argv[1:4])
