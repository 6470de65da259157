"""Live collection from the real Samba AD test domain (tests/posture/samba.py)."""

from __future__ import annotations

import datetime as dt

import ldap3
import pytest

from hygie.posture.ad import collect as live
from hygie.posture.ad.snapshot import CollectError, key, principal_sid
from hygie.posture.models import DirectoryConnection
from tests.posture import samba
from tests.services.slapd import _write_certificates


def connection(dc, **overrides) -> DirectoryConnection:
    values = {
        "name": "Test",
        "host": dc.host,
        "port": dc.ldaps_port,
        "security": "ldaps",
        "ca_certificate": dc.ca_pem,
        "bind_user": dc.audit_user,
        "bind_password": dc.audit_password,
        "page_size": 7,  # several pages even in the small test domain
    }
    values.update(overrides)
    return DirectoryConnection(**values)


@pytest.fixture(scope="module")
def snapshot(samba_dc):
    return live.collect(connection(samba_dc))


def by_sam(items):
    return {item.sam: item for item in items}


def test_reads_the_domain_and_its_policy(snapshot, samba_dc):
    domain = snapshot.domain
    assert domain.dns_name == "hygie.test"
    assert domain.dn == samba_dc.base_dn
    assert domain.netbios == "HYGIE"
    assert domain.sid.startswith("S-1-5-21-")
    assert domain.functional_level == 4  # Windows Server 2008 R2
    assert domain.min_pwd_length == 6
    assert domain.pwd_properties == 0x11
    assert domain.lockout_threshold == 0
    assert domain.machine_account_quota == 10
    assert domain.max_pwd_age == dt.timedelta(days=42)
    assert snapshot.source == "live"
    assert snapshot.laps_legacy_schema is False and snapshot.laps_windows_schema is False


def test_reads_every_planted_user_with_its_facts(snapshot):
    users = by_sam(snapshot.users)
    for name in samba.USERS:
        assert name in users, name
    assert {"Administrator", "Guest", "krbtgt"} <= users.keys()
    assert not any(name.endswith("$") for name in users)
    now = dt.datetime.now(dt.UTC)
    old = users["adm.old"]
    assert now - old.pwd_last_set > dt.timedelta(days=1400)
    assert now - old.created > dt.timedelta(days=1900)
    assert now - users["krbtgt"].pwd_last_set > dt.timedelta(days=790)
    stale = users["stale.user"]
    assert dt.timedelta(days=399) < now - stale.last_logon < dt.timedelta(days=401)
    assert users["neverexp.user"].has(samba.UAC_DONT_EXPIRE)
    assert users["asrep.user"].has(samba.UAC_DONT_REQ_PREAUTH)
    assert users["des2.user"].encryption_types == 3
    assert users["sidhist.user"].sid_history == ("S-1-5-21-1111111111-2222222222-3333333333-1105",)
    assert users["primary.user"].primary_group_id == 514
    assert users["adm.spn"].spns == ("MSSQLSvc/sql01.hygie.test:1433",)
    assert users["Guest"].enabled
    clean = users["clean.user"]
    assert clean.enabled and clean.uac == 0x200 and not clean.spns and not clean.sid_history
    assert clean.sid.startswith(snapshot.domain.sid + "-")
    assert now - clean.pwd_last_set < dt.timedelta(days=1)


def test_reads_computers_groups_and_the_pso(snapshot):
    computers = by_sam(snapshot.computers)
    assert {f"{name}$" for name in samba.COMPUTERS} | {"DC1$"} == computers.keys()
    assert computers["DC1$"].is_dc
    assert computers["SRV-2008$"].os == "Windows Server 2008 R2 Standard"
    assert computers["SRV-2008$"].os_version == "6.1 (7601)"
    assert computers["DELEG-SRV$"].has(samba.UAC_TRUSTED_FOR_DELEGATION)
    assert computers["WS-CLEAN$"].laps_expiry is None

    groups = by_sam(snapshot.groups)
    admins = {key(dn) for dn in groups["Domain Admins"].members}
    assert key(groups["Hygie Admins"].dn) in admins
    assert f"cn=adm.old,cn=users,{key(snapshot.domain.dn)}" in admins
    assert groups["Domain Admins"].sid == snapshot.domain.sid + "-512"
    assert groups["Administrators"].sid == "S-1-5-32-544"
    pre2000 = groups["Pre-Windows 2000 Compatible Access"].members
    assert {principal_sid(snapshot, dn) for dn in pre2000} == {"S-1-5-11", "S-1-5-7"}
    assert snapshot.trusts == []


def test_psos_need_a_privileged_reader(snapshot, samba_dc):
    # As in Windows AD, an ordinary account does not see fine-grained password policies:
    # the audit says so instead of pretending there are none.
    assert snapshot.password_settings == []
    assert any("PSO" in warning for warning in snapshot.warnings)
    admin = live.collect(
        connection(samba_dc, bind_user=samba_dc.admin_user, bind_password=samba_dc.admin_password)
    )
    groups = by_sam(admin.groups)
    [pso] = admin.password_settings
    assert pso.name == "PSO-Comptes-Service"
    assert pso.min_length == 20 and pso.lockout_threshold == 5 and pso.complexity
    assert pso.max_age == dt.timedelta(days=365)
    assert [key(dn) for dn in pso.applies_to] == [key(groups["Service Accounts"].dn)]


def test_never_reads_a_secret(samba_dc, monkeypatch):
    requested: list[str] = []
    original = live._entries

    def spy(conn, base, search_filter, attributes, page_size, **kwargs):
        requested.extend(name.lower() for name in attributes)
        return original(conn, base, search_filter, attributes, page_size, **kwargs)

    monkeypatch.setattr(live, "_entries", spy)
    live.collect(connection(samba_dc))
    assert requested
    assert not set(requested) & live.attrs.SECRET_ATTRIBUTES
    assert "*" not in requested


def test_starttls_on_389_works_too(samba_dc):
    snapshot = live.collect(connection(samba_dc, security="starttls", port=samba_dc.ldap_port))
    assert any(user.sam == "clean.user" for user in snapshot.users)


def test_plain_ldap_is_refused_before_connecting(samba_dc):
    with pytest.raises(CollectError, match="en clair refusée"):
        live.collect(connection(samba_dc, security="plain", port=samba_dc.ldap_port))
    # …and the DC itself refuses a simple bind without TLS.
    server = ldap3.Server(samba_dc.host, port=samba_dc.ldap_port, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=samba_dc.audit_user, password=samba_dc.audit_password)
    assert not conn.bind()
    assert conn.result["result"] == 8  # strongerAuthRequired


def test_wrong_password_is_a_bind_refusal(samba_dc):
    with pytest.raises(CollectError, match="authentification refusée.*mot de passe refusé"):
        live.collect(connection(samba_dc, bind_password="not-the-password"))


def test_unknown_authority_is_a_certificate_refusal(samba_dc, tmp_path):
    _write_certificates(tmp_path)
    other_ca = (tmp_path / "ca.pem").read_text()
    with pytest.raises(CollectError, match="certificat TLS de 127.0.0.1 non reconnu"):
        live.collect(connection(samba_dc, ca_certificate=other_ca))
    # No authority given: the system's do not know the test one either.
    with pytest.raises(CollectError, match="non reconnu"):
        live.collect(connection(samba_dc, ca_certificate=""))


def test_wrong_host_name_is_a_certificate_refusal(samba_dc):
    with pytest.raises(CollectError, match="nom d'hôte"):
        live.collect(connection(samba_dc, host="localhost"))


def test_unreadable_authority_and_closed_port(samba_dc):
    with pytest.raises(CollectError, match="illisible"):
        live.collect(connection(samba_dc, ca_certificate="-----BEGIN CERTIFICATE-----\nxx"))
    with pytest.raises(CollectError, match="connexion refusée par 127.0.0.1:1"):
        live.collect(connection(samba_dc, port=1))
    with pytest.raises(CollectError, match="mot de passe du compte de lecture manquant"):
        live.collect(connection(samba_dc, bind_password=""))
