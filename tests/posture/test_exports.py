"""Offline audits: ldapdomaindump JSON and LDIF exports, made by the real tools from the Samba
test domain, read into the same snapshot as a live collection; bad input named precisely."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hygie.posture.ad import collect as live
from hygie.posture.ad.exports import load_export
from hygie.posture.ad.snapshot import ExportError, key, principal_sid
from hygie.posture.models import DirectoryConnection

LDAPDOMAINDUMP = Path(sys.executable).with_name("ldapdomaindump")
DUMP_FILES = [
    "domain_users.json",
    "domain_computers.json",
    "domain_groups.json",
    "domain_policy.json",
    "domain_trusts.json",
]


@pytest.fixture(scope="module")
def live_snapshot(samba_dc):
    # The administrator reads what ldapdomaindump reads (PSOs included).
    return live.collect(
        DirectoryConnection(
            host=samba_dc.host,
            port=samba_dc.ldaps_port,
            security="ldaps",
            ca_certificate=samba_dc.ca_pem,
            bind_user=samba_dc.admin_user,
            bind_password=samba_dc.admin_password,
        )
    )


@pytest.fixture(scope="module")
def dump_dir(samba_dc, tmp_path_factory):
    if not LDAPDOMAINDUMP.exists():
        pytest.skip("ldapdomaindump (PyPI, test extra) is not installed")
    out = tmp_path_factory.mktemp("dump")
    subprocess.run(
        [
            str(LDAPDOMAINDUMP),
            "-u",
            f"{samba_dc.netbios}\\audit.hygie",
            "-p",
            samba_dc.audit_password,
            "--authtype",
            "SIMPLE",
            "--no-html",
            "--no-grep",
            "-o",
            str(out),
            f"ldaps://{samba_dc.host}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="module")
def ldif(samba_dc, tmp_path_factory):
    if not shutil.which("ldapsearch"):
        pytest.skip("ldapsearch (ldap-utils) is not installed")
    ca = tmp_path_factory.mktemp("ldif") / "ca.pem"
    ca.write_text(samba_dc.ca_pem)
    result = subprocess.run(
        [
            "ldapsearch",
            "-LLL",
            "-x",
            "-H",
            f"ldaps://{samba_dc.host}",
            "-D",
            samba_dc.admin_user,
            "-w",
            samba_dc.admin_password,
            "-b",
            samba_dc.base_dn,
            "-E",
            "pr=5/noprompt",
            "(|(objectClass=user)(objectClass=group)(objectClass=domain)(objectClass=trustedDomain)"
            "(objectClass=msDS-PasswordSettings)(objectClass=foreignSecurityPrincipal))",
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "LDAPTLS_CACERT": str(ca)},
    )
    return result.stdout


def dump_files(directory: Path) -> list[tuple[str, bytes]]:
    return [(name, (directory / name).read_bytes()) for name in DUMP_FILES]


def second(when):
    return when.replace(microsecond=0) if when else when


def facts(snapshot):
    """The planted facts, comparable between sources (ldapdomaindump keeps whole seconds)."""
    return {
        "users": {
            u.sam: (
                u.sid,
                u.uac,
                u.created,
                second(u.last_logon),
                second(u.pwd_last_set),
                u.spns,
                u.primary_group_id,
                u.encryption_types,
                u.sid_history,
                frozenset(key(dn) for dn in u.member_of),
            )
            for u in snapshot.users
        },
        "computers": {
            c.sam: (c.uac, c.os, c.os_version, second(c.last_logon), c.created, c.dns_hostname)
            for c in snapshot.computers
        },
        "groups": {g.sam: (g.sid, frozenset(key(dn) for dn in g.members)) for g in snapshot.groups},
        "domain": (
            snapshot.domain.dns_name,
            snapshot.domain.sid,
            snapshot.domain.functional_level,
            snapshot.domain.min_pwd_length,
            snapshot.domain.pwd_properties,
            snapshot.domain.lockout_threshold,
            snapshot.domain.max_pwd_age,
            snapshot.domain.machine_account_quota,
        ),
        "pre2000": {
            principal_sid(snapshot, dn)
            for g in snapshot.groups
            if g.sid == "S-1-5-32-554"
            for dn in g.members
        },
    }


def test_ldapdomaindump_equals_live_collection(dump_dir, live_snapshot):
    snapshot = load_export(dump_files(dump_dir))
    assert snapshot.source == "ldapdomaindump"
    assert facts(snapshot) == facts(live_snapshot)
    assert snapshot.domain.netbios == ""  # not in the dump


def test_ldapdomaindump_as_a_zip(dump_dir, live_snapshot):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in dump_files(dump_dir):
            archive.writestr(f"dump/{name}", content)
        archive.writestr("dump/domain_users.html", "<html></html>")
    snapshot = load_export([("hygie.zip", buffer.getvalue())])
    assert facts(snapshot) == facts(live_snapshot)


def test_ldif_from_ldapsearch_equals_live_collection(ldif, live_snapshot):
    assert b"::" in ldif  # binary SIDs are base64
    assert b"\n " in ldif  # long lines folded
    snapshot = load_export([("hygie.ldif", ldif)])
    assert snapshot.source == "ldif"
    assert facts(snapshot) == facts(live_snapshot)
    [pso] = snapshot.password_settings
    assert pso.min_length == 20


# --- bad input (no directory needed) --------------------------------------------------------

USER = {
    "attributes": {
        "sAMAccountName": ["a"],
        "userAccountControl": [512],
        "objectSid": ["S-1-5-21-1-2-3-1001"],
    },
    "dn": "CN=a,CN=Users,DC=x,DC=test",
}


def minimal(users=None, **replace) -> list[tuple[str, bytes]]:
    files = {
        "domain_users.json": json.dumps(users if users is not None else [USER]).encode(),
        "domain_computers.json": b"[]",
        "domain_groups.json": b"[]",
    }
    files.update(replace)
    return list(files.items())


def test_minimal_dump_reads():
    snapshot = load_export(minimal())
    assert snapshot.domain.dns_name == "x.test"
    assert [u.sam for u in snapshot.users] == ["a"]
    assert snapshot.warnings  # no domain_policy.json: said


def test_truncated_json_names_file_line_and_column():
    content = json.dumps([USER, USER], indent=1).encode()[:-40]
    with pytest.raises(ExportError) as error:
        load_export(minimal(**{"domain_users.json": content}))
    assert "domain_users.json, ligne" in str(error.value)
    assert "colonne" in str(error.value)
    assert "tronqué" in str(error.value)


def test_malformed_json_names_the_line():
    with pytest.raises(ExportError, match=r"domain_groups.json, ligne 2, colonne 3"):
        load_export(minimal(**{"domain_groups.json": b"[\n  ,]"}))


def test_wrong_type_names_the_object():
    bad = json.loads(json.dumps(USER))
    bad["attributes"]["userAccountControl"] = ["beaucoup"]
    with pytest.raises(ExportError, match=r"objet n° 2 .*userAccountControl : nombre attendu"):
        load_export(minimal(users=[USER, bad]))
    bad["attributes"]["userAccountControl"] = [{"x": 1}]
    with pytest.raises(ExportError, match="valeur simple attendue"):
        load_export(minimal(users=[bad]))
    with pytest.raises(ExportError, match="liste d'objets attendue"):
        load_export(minimal(users={"a": 1}))


def test_zip_with_a_missing_or_unexpected_file():
    def zipped(files):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in files:
                archive.writestr(name, content)
        return [("export.zip", buffer.getvalue())]

    with pytest.raises(ExportError, match="fichier manquant.*domain_groups.json"):
        load_export(zipped(minimal()[:2]))
    with pytest.raises(ExportError, match="notes.txt : fichier inattendu"):
        load_export(zipped([*minimal(), ("notes.txt", b"x")]))
    with pytest.raises(ExportError, match="export.zip : archive zip illisible"):
        load_export([("export.zip", zipped(minimal())[0][1][:100])])


def test_a_zip_that_would_expand_beyond_the_limit_is_refused_unexpanded(monkeypatch):
    from hygie.posture.ad import exports

    monkeypatch.setattr(exports, "MAX_EXPANDED_SIZE", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in minimal():
            archive.writestr(name, content)
        archive.writestr("padding.json", b" " * (2 * 1024 * 1024))  # 2 MiB, compresses to ~2 KB
    assert len(buffer.getvalue()) < 20_000  # a small upload
    with pytest.raises(ExportError, match="bomb.zip : archive trop volumineuse une fois"):
        load_export([("bomb.zip", buffer.getvalue())])


def test_ldif_errors_name_the_line():
    good = b"dn: CN=a,CN=Users,DC=x,DC=test\nobjectClass: user\nsAMAccountName: a\n"
    assert load_export([("x.ldif", good)]).users[0].sam == "a"
    with pytest.raises(ExportError, match=r"x.ldif, ligne 3 : ligne sans"):
        load_export([("x.ldif", good.replace(b"sAMAccountName: a", b"sAMAccountName a"))])
    with pytest.raises(ExportError, match=r"x.ldif, ligne 3 : valeur base64 invalide"):
        load_export([("x.ldif", good.replace(b"sAMAccountName: a", b"sAMAccountName:: ***"))])
    with pytest.raises(ExportError, match=r"x.ldif, ligne 1 .*userAccountControl : nombre"):
        load_export([("x.ldif", good + b"userAccountControl: lots\n")])


def test_secrets_in_an_export_are_dropped():
    with_secret = json.loads(json.dumps(USER))
    with_secret["attributes"]["ms-Mcs-AdmPwd"] = ["Secret!"]
    with_secret["attributes"]["unicodePwd"] = ["Secret!"]
    snapshot = load_export(minimal(users=[with_secret]))
    assert "Secret!" not in repr(snapshot)


def test_unknown_format():
    with pytest.raises(ExportError, match="format non reconnu"):
        load_export([("rapport.pdf", b"%PDF-1.7")])
