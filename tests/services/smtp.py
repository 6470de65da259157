"""A real SMTP server for tests (aiosmtpd): STARTTLS with a certificate from a throw-away
authority, LOGIN/PLAIN authentication required after TLS, messages kept in memory.

`smtp_server()` starts one on a free loopback port; `server.ca_pem` is the authority's
certificate a sending profile must trust, `server.messages` what was accepted. `fail_with`
makes the next RCPT answer a given SMTP code (4xx or 5xx) to exercise retries and errors.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "simulations@chu-a.example"
PASSWORD = "relais-Secret-2026"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _certificates(directory: Path) -> tuple[str, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Autorite de test Hygie")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca.public_bytes(serialization.Encoding.PEM).decode(), cert_path, key_path


@dataclass
class SmtpServer:
    host: str
    port: int
    ca_pem: str
    messages: list = field(default_factory=list)
    logins: list = field(default_factory=list)
    fail_with: list = field(default_factory=list)  # (code, text) answered to the next RCPTs
    # Called with the recipient address before each RCPT is answered (e.g. to kill a client).
    on_rcpt: object = None


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if self.server.on_rcpt is not None:
            self.server.on_rcpt(address)
        if self.server.fail_with:
            code, text = self.server.fail_with.pop(0)
            return f"{code} {text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        self.server.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 Message accepted"


def _authenticator(server: SmtpServer):
    def authenticate(smtp, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username, password = auth_data.login.decode(), auth_data.password.decode()
        ok = (username, password) == (USERNAME, PASSWORD)
        if ok:
            server.logins.append(username)
        return AuthResult(success=ok, handled=False)

    return authenticate


@contextmanager
def smtp_server():
    with tempfile.TemporaryDirectory(prefix="hygie-smtp-") as tmp:
        ca_pem, cert, key = _certificates(Path(tmp))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server = SmtpServer("127.0.0.1", _free_port(), ca_pem)
        controller = Controller(
            _Handler(server),
            hostname=server.host,
            port=server.port,
            server_hostname="localhost",
            tls_context=context,
            require_starttls=True,
            authenticator=_authenticator(server),
            auth_required=True,
            auth_require_tls=True,
        )
        controller.start()
        try:
            yield server
        finally:
            controller.stop()
