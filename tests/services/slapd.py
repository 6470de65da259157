"""A real OpenLDAP `slapd` for tests: own config, own data under a temporary directory.

Started once per test session on a free loopback port, stopped by PID. The directory
holds `dc=hygie,dc=test` with a read-only service account for Hygie's binds; tests put
their people under an organisational unit of their own so they never see each other's.
The server caps plain searches at 500 entries (`sizelimit`), like production
directories do, so only a paged search can read more.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import ldap3

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SCHEMA_DIR = Path("/etc/ldap/schema")
SUFFIX = "dc=hygie,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "admin-secret"
BIND_DN = f"cn=hygie-sync,ou=services,{SUFFIX}"
BIND_PASSWORD = "sync-secret-2026"
SIZE_LIMIT = 500

CONFIG = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
include {schema}/nis.schema
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit size.soft={size_limit} size.hard={size_limit} size.prtotal=unlimited

database mdb
maxsize 268435456
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {root}/db
dbnosync
TLSCACertificateFile {root}/ca.pem
TLSCertificateFile {root}/server.pem
TLSCertificateKeyFile {root}/server.key
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_certificates(root: Path) -> None:
    """A private authority and a server certificate for 127.0.0.1, as hospitals' internal PKIs do."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hygie test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (root / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (root / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@dataclass
class Slapd:
    url: str
    process: subprocess.Popen
    root: Path
    ldaps_url: str = ""

    @property
    def ca_pem(self) -> str:
        return (self.root / "ca.pem").read_text()

    def admin(self) -> ldap3.Connection:
        """A connection bound as the directory manager, to plant test entries."""
        return ldap3.Connection(
            ldap3.Server(self.url, get_info=ldap3.NONE),
            user=ROOT_DN,
            password=ROOT_PASSWORD,
            auto_bind=True,
        )

    def new_unit(self) -> str:
        """A fresh `ou=` under the suffix, for one test's entries."""
        dn = f"ou=t{uuid.uuid4().hex[:12]},ou=people,{SUFFIX}"
        with self.admin() as conn:
            conn.add(dn, ["organizationalUnit"])
            assert conn.result["result"] == 0, conn.result
        return dn

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_slapd() -> Slapd:
    root = Path(tempfile.mkdtemp(prefix="hygie-slapd-"))
    (root / "db").mkdir()
    _write_certificates(root)
    config = root / "slapd.conf"
    config.write_text(
        CONFIG.format(
            schema=SCHEMA_DIR,
            root=root,
            suffix=SUFFIX,
            root_dn=ROOT_DN,
            root_password=ROOT_PASSWORD,
            size_limit=SIZE_LIMIT,
        )
    )
    port, tls_port = free_port(), free_port()
    url = f"ldap://127.0.0.1:{port}"
    ldaps_url = f"ldaps://127.0.0.1:{tls_port}"
    log = (root / "slapd.log").open("wb")
    process = subprocess.Popen(
        [SLAPD, "-h", f"{url}/ {ldaps_url}/", "-f", str(config), "-d", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Slapd(url=url, process=process, root=root, ldaps_url=ldaps_url)
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            output = (root / "slapd.log").read_text(errors="replace")
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"slapd exited with {process.returncode}:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError("slapd did not start listening within 10 s") from None
            time.sleep(0.05)
    _plant_base(server)
    return server


def _plant_base(server: Slapd) -> None:
    with server.admin() as conn:
        for dn, classes, attrs in [
            (SUFFIX, ["dcObject", "organization"], {"o": "Hygie tests"}),
            (f"ou=people,{SUFFIX}", ["organizationalUnit"], {}),
            (f"ou=services,{SUFFIX}", ["organizationalUnit"], {}),
            (
                BIND_DN,
                ["person"],
                {"sn": "Hygie", "userPassword": BIND_PASSWORD},
            ),
        ]:
            conn.add(dn, classes, attrs)
            assert conn.result["result"] == 0, conn.result


class Directory:
    """One test's corner of the directory: people under their own `ou=`."""

    def __init__(self, server: Slapd):
        self.server = server
        self.base = server.new_unit()
        self.conn = server.admin()

    def dn(self, uid: str) -> str:
        return f"uid={uid},{self.base}"

    def add_person(self, uid: str, given: str | None, sn: str, **attributes) -> str:
        """Add an inetOrgPerson; extra attributes by LDAP name (mail, title, departmentNumber…)."""
        attrs = {"uid": uid, "sn": sn, "cn": f"{given or ''} {sn}".strip()}
        if given is not None:
            attrs["givenName"] = given
        attrs.update({name: value for name, value in attributes.items() if value is not None})
        self.conn.add(self.dn(uid), ["inetOrgPerson"], attrs)
        assert self.conn.result["result"] == 0, self.conn.result
        return self.dn(uid)

    def add_many(self, count: int, prefix: str = "agent") -> None:
        for index in range(count):
            self.add_person(
                f"{prefix}{index:05d}",
                "Agent",
                f"Numéro {index}",
                mail=f"{prefix}{index:05d}@ch.example",
                employeeType="Soignant",
            )

    def modify(self, uid: str, **attributes) -> None:
        changes = {
            name: [(ldap3.MODIFY_REPLACE, [] if value is None else [value])]
            for name, value in attributes.items()
        }
        self.conn.modify(self.dn(uid), changes)
        assert self.conn.result["result"] == 0, self.conn.result

    def delete(self, uid: str) -> None:
        self.conn.delete(self.dn(uid))
        assert self.conn.result["result"] == 0, self.conn.result

    def close(self) -> None:
        self.conn.unbind()
