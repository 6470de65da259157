"""Offline audits from BloodHound exports (legacy v5 as BloodHound.py writes it, CE v6 as
SharpHound 2 writes it): the same snapshot as the domain they describe, the rules a BloodHound
export cannot judge said, bad input named by file and position.

The exports are written by hand in the collectors' shapes (tests/posture/bloodhound_files.py):
BloodHound.py cannot authenticate to the Samba test DC (decision 0704)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import zipfile

import pytest

from hygie.posture.ad import rules
from hygie.posture.ad import snapshot as ad
from hygie.posture.ad.exports import load_export
from hygie.posture.ad.snapshot import ExportError, key, principal_sid
from tests.posture import bloodhound_files as bh
from tests.posture.snapshots import BASE, NOW, SID, USERS, weak_domain

PARTNER_SID = "S-1-5-21-9-8-7"


def domain() -> ad.Snapshot:
    """weak_domain() plus what only some BloodHound versions carry: reversible and DES-only
    accounts, a SID history, Anonymous in Pre-Windows 2000, an unfiltered external trust."""
    snapshot = weak_domain()
    snapshot.warnings = []
    for index, computer in enumerate(snapshot.computers):
        computer.dns_hostname = f"{computer.sam.rstrip('$').lower()}.chu-exemple.local"
        computer.primary_group_id = 516 if index == 0 else 515
    extra = [
        ad.User(
            dn=f"CN=rev.user,{USERS}",
            sam="rev.user",
            sid=f"{SID}-1106",
            uac=ad.UAC_NORMAL_ACCOUNT | ad.UAC_ENCRYPTED_TEXT_PWD_ALLOWED,
            created=NOW - dt.timedelta(days=50),
            last_logon=NOW - dt.timedelta(days=2),
            pwd_last_set=NOW - dt.timedelta(days=40),
            primary_group_id=513,
        ),
        ad.User(
            dn=f"CN=des.user,{USERS}",
            sam="des.user",
            sid=f"{SID}-1107",
            created=NOW - dt.timedelta(days=50),
            last_logon=NOW - dt.timedelta(days=2),
            pwd_last_set=NOW - dt.timedelta(days=40),
            primary_group_id=513,
            encryption_types=0x3,
            sid_history=("S-1-5-21-5-6-7-1105",),
        ),
    ]
    snapshot.users.extend(extra)
    anonymous = f"CN=S-1-5-7,CN=ForeignSecurityPrincipals,{BASE}"
    snapshot.principals[key(anonymous)] = "S-1-5-7"
    snapshot.groups.append(
        ad.Group(
            dn=f"CN=Pre-Windows 2000 Compatible Access,CN=Builtin,{BASE}",
            sam="Pre-Windows 2000 Compatible Access",
            sid=ad.SID_PRE_WINDOWS_2000,
            members=(anonymous,),
        )
    )
    snapshot.trusts.append(
        ad.Trust(
            partner="labo-partenaire.fr",
            direction=ad.TRUST_DIRECTION_INBOUND | ad.TRUST_DIRECTION_OUTBOUND,
            attributes=ad.TRUST_ATTRIBUTE_NON_TRANSITIVE,
            sid=PARTNER_SID,
        )
    )
    snapshot.domain.lockout_window = dt.timedelta(minutes=30)
    snapshot.domain.min_pwd_age = dt.timedelta(days=1)
    # member_of as a directory gives it (the inverse of the groups' direct members)
    parents: dict[str, list[str]] = {}
    for group in snapshot.groups:
        for member in group.members:
            parents.setdefault(key(member), []).append(group.dn)
    for account in (*snapshot.users, *snapshot.computers):
        account.member_of = tuple(parents.get(key(account.dn), ()))
    return snapshot


def facts(snapshot: ad.Snapshot, *, legacy: bool = False) -> dict:
    """What the audit reads, comparable between the domain and its export (BloodHound upper-cases
    DNs: compared through key())."""
    hidden = ad.UAC_ENCRYPTED_TEXT_PWD_ALLOWED | ad.UAC_USE_DES_KEY_ONLY if legacy else 0
    domain = snapshot.domain
    return {
        "users": {
            u.sam: (
                u.sid,
                u.uac & ~hidden,
                u.created,
                u.last_logon,
                u.pwd_last_set,
                u.spns,
                u.primary_group_id,
                None if legacy else u.encryption_types,
                u.sid_history,
                u.admin_count,
                u.display_name,
                frozenset(key(dn) for dn in u.member_of),
            )
            for u in snapshot.users
        },
        "computers": {
            c.sam: (
                c.sid,
                c.uac,
                c.os,
                "" if not legacy else c.os_version,
                c.last_logon,
                c.created,
                c.dns_hostname,
                c.is_dc,
                c.laps_expiry is not None or c.laps_managed,
            )
            for c in snapshot.computers
        },
        "groups": {
            g.sam: (g.sid, key(g.dn), frozenset(key(dn) for dn in g.members))
            for g in snapshot.groups
        },
        "domain": (
            domain.dns_name,
            key(domain.dn),
            domain.sid,
            domain.functional_level,
            domain.created,
        ),
        "policy": None
        if legacy
        else (
            domain.min_pwd_length,
            domain.pwd_history,
            domain.pwd_properties,
            domain.lockout_threshold,
            domain.max_pwd_age,
            domain.min_pwd_age,
            domain.lockout_duration,
            domain.lockout_window,
            domain.machine_account_quota,
        ),
        "trusts": [(t.partner, t.direction, t.attributes, t.sid) for t in snapshot.trusts],
        "pre2000": {
            principal_sid(snapshot, dn)
            for g in snapshot.groups
            if g.sid == ad.SID_PRE_WINDOWS_2000
            for dn in g.members
        },
    }


def findings(snapshot: ad.Snapshot, ignored: frozenset[str]) -> dict[str, set[str]]:
    return {
        finding.rule.id: {name.lower() for name in finding.objects}
        for finding in rules.evaluate(snapshot, now=NOW)
        if finding.rule.id not in ignored
    }


def load(files: dict[str, bytes]) -> ad.Snapshot:
    return load_export(list(files.items()))


def test_community_export_reads_as_the_domain_it_describes():
    original = domain()
    snapshot = load_export([bh.zipped(bh.community(original))])
    assert snapshot.source == "bloodhound"
    assert facts(snapshot) == facts(original)
    assert snapshot.domain.netbios == "CHUEX"
    # CE carries the flags, the encryption types, the policy and the trust attributes: only
    # what BloodHound never has is left out, and said.
    assert snapshot.not_judged == {"T-INACTIVE", "T-DOWNLEVEL"}
    assert any("T-DOWNLEVEL, T-INACTIVE" in warning for warning in snapshot.warnings)
    # LAPS is judged per computer once rules read laps_managed (see the MERGE test below).
    ignored = snapshot.not_judged | {"A-LAPS-MISSING"}
    found = findings(snapshot, ignored)
    assert found == findings(original, ignored)
    for rule_id in ("S-REVERSIBLE-PWD", "S-DES-ONLY", "S-SID-HISTORY", "A-PRE-WIN2000"):
        assert rule_id in found
    assert found["T-SID-FILTERING"] == {"labo-partenaire.fr"}
    assert found["P-ADMIN-SPN"] == {"adm-sql"}
    assert "A-MIN-PWD-LENGTH" in found and "A-NO-LOCKOUT" in found


def test_legacy_export_from_bloodhound_py_sets_the_flags_and_says_what_it_lacks():
    original = domain()
    snapshot = load(bh.legacy(original))
    assert facts(snapshot, legacy=True) == facts(original, legacy=True)
    dc = next(c for c in snapshot.computers if c.sam == "DC01$")
    assert dc.is_dc and dc.has(ad.UAC_TRUSTED_FOR_DELEGATION)  # from PrimaryGroupSID …-516
    svc = next(u for u in snapshot.users if u.sam == "svc-scan")
    assert svc.uac == ad.UAC_NORMAL_ACCOUNT | ad.UAC_DONT_REQ_PREAUTH
    # No reversible/DES flags, no encryption types, no policy, no quota, no TGT delegation.
    assert snapshot.not_judged == {
        "S-REVERSIBLE-PWD",
        "S-DES-ONLY",
        "A-MIN-PWD-LENGTH",
        "A-NO-LOCKOUT",
        "A-REVERSIBLE-POLICY",
        "A-MACHINE-ACCOUNT-QUOTA",
        "T-INACTIVE",
        "T-DOWNLEVEL",
        "T-TGT-DELEGATION",
    }
    assert any("stratégie non auditée" in warning for warning in snapshot.warnings)
    ignored = snapshot.not_judged | {"A-LAPS-MISSING"}
    assert findings(snapshot, ignored) == findings(original, ignored)


def test_laps_and_secrets():
    original = domain()
    snapshot = load(bh.legacy(original))
    managed = {c.sam: c.laps_managed for c in snapshot.computers}
    assert managed == {"DC01$": False, "PC-RADIO-01$": False, "PC-ACCUEIL-02$": True}
    assert all(c.laps_expiry is None for c in snapshot.computers)  # the expiry is not known
    assert snapshot.laps_legacy_schema is None and snapshot.laps_windows_schema is None
    assert "Secret-userPassword!" not in repr(snapshot)


def test_rules_leave_out_what_the_export_cannot_judge():
    snapshot = load(bh.legacy(domain()))
    found = {finding.rule.id: finding for finding in rules.evaluate(snapshot, now=NOW)}
    assert not set(found) & snapshot.not_judged  # no policy finding from default values
    assert set(found["A-LAPS-MISSING"].objects) == {"PC-RADIO-01$"}


def test_blank_times_and_prefixed_members():
    original = domain()
    files = bh.legacy(original)
    users = json.loads(files[f"{bh.STAMP}_users.json"])
    for item in users["data"]:
        if item["Properties"]["samaccountname"] == "krbtgt":
            assert item["Properties"]["lastlogontimestamp"] == -1  # never: BloodHound's -1
    groups = json.loads(files[f"{bh.STAMP}_groups.json"])
    prefixed = [
        g["ObjectIdentifier"] for g in groups["data"] if "-S-1-5-32-" in g["ObjectIdentifier"]
    ]
    assert "CHU-EXEMPLE.LOCAL-S-1-5-32-544" in prefixed
    snapshot = load(files)
    krbtgt = next(u for u in snapshot.users if u.sam == "krbtgt")
    assert krbtgt.last_logon is None
    administrators = next(g for g in snapshot.groups if g.sam == "Administrators")
    assert administrators.sid == "S-1-5-32-544"


# --- bad input --------------------------------------------------------------------------------

USERS_FILE = f"{bh.STAMP}_users.json"


def edited(change) -> dict[str, bytes]:
    files = bh.legacy(domain())
    document = json.loads(files[USERS_FILE])
    change(document)
    files[USERS_FILE] = json.dumps(document, indent=1).encode()
    return files


def test_truncated_json_names_file_line_and_column():
    files = bh.legacy(domain())
    files[USERS_FILE] = files[USERS_FILE][:-200]
    with pytest.raises(ExportError) as error:
        load(files)
    message = str(error.value)
    assert f"{USERS_FILE}, ligne" in message and "colonne" in message and "tronqué" in message


def test_truncated_zip():
    name, content = bh.zipped(bh.community(domain()))
    with pytest.raises(ExportError, match=f"{name} : archive zip illisible"):
        load_export([(name, content[: len(content) // 2])])


def test_wrong_meta_type_and_version():
    def wrong_type(document):
        document["meta"]["type"] = "groups"

    with pytest.raises(ExportError, match=rf"{USERS_FILE}, « meta » : .*type « groups »"):
        load(edited(wrong_type))

    def old_version(document):
        document["meta"]["version"] = 3

    with pytest.raises(ExportError, match=r"« meta » : version 3 du format BloodHound"):
        load(edited(old_version))

    def no_data(document):
        document["data"] = {"a": 1}

    with pytest.raises(ExportError, match=r"« data » : « data » doit être une liste"):
        load(edited(no_data))


def test_missing_and_unexpected_files():
    files = bh.legacy(domain())
    del files[f"{bh.STAMP}_domains.json"]
    with pytest.raises(ExportError, match=r"fichier manquant .*\*_domains.json"):
        load(files)
    files = bh.legacy(domain())
    with pytest.raises(
        ExportError, match="notes.txt : fichier inattendu dans un export BloodHound"
    ):
        load_export([bh.zipped({**files, "notes.txt": b"x"})])
    files["20250302000000_users.json"] = files[USERS_FILE]
    with pytest.raises(ExportError, match="deux fichiers de type « users »"):
        load(files)


def test_bad_objects_are_named():
    def bad_flag(document):
        document["data"][1]["Properties"]["enabled"] = "oui"

    with pytest.raises(ExportError, match=rf"{USERS_FILE}, objet n° 2 \(KRBTGT@.*enabled : vrai"):
        load(edited(bad_flag))

    def no_properties(document):
        for item in document["data"]:
            item["Properties"] = {"name": item["Properties"]["name"]}

    with pytest.raises(ExportError, match="objet n° 1 .*méthode ObjectProps"):
        load(edited(no_properties))

    def not_a_sid(document):
        document["data"][2]["ObjectIdentifier"] = "abc"

    with pytest.raises(ExportError, match=r"objet n° 3 \(ADM-SQL@.*n'est pas un SID"):
        load(edited(not_a_sid))

    def bad_time(document):
        document["data"][0]["Properties"]["pwdlastset"] = "hier"

    with pytest.raises(ExportError, match="pwdlastset : nombre de secondes attendu"):
        load(edited(bad_time))


def test_one_domain_per_audit():
    files = bh.community(domain())
    name = f"{bh.STAMP}_domains.json"
    document = json.loads(files[name])
    second = dataclasses.replace(domain().domain, dns_name="autre.local", sid="S-1-5-21-4-4-4")
    document["data"].append({**document["data"][0], "ObjectIdentifier": second.sid})
    files[name] = json.dumps(document).encode()
    with pytest.raises(ExportError, match="2 domaines dans l'export"):
        load(files)


def test_encrypted_zip_is_refused_clearly():
    name, content = bh.zipped(bh.community(domain()))
    # Mark every entry as encrypted (general purpose flag bit 0), as SharpHound --zippassword does.
    raw = bytearray(content)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            raw[start + offset] |= 1
            start += 4
    with pytest.raises(ExportError, match="archive zip chiffrée"):
        load_export([(name, bytes(raw))])


def test_detection_does_not_take_other_json_for_bloodhound():
    with pytest.raises(ExportError, match="format non reconnu"):
        load_export([("rapport.json", b'[{"a": 1}]')])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.json", b'{"meta": {"type": "users", "version": 5}, "data": []}')
    with pytest.raises(ExportError, match="fichier manquant dans l'export BloodHound"):
        load_export([("x.zip", buffer.getvalue())])
