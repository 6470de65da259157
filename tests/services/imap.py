"""A real IMAP server for tests (Debian's dovecot): one user, a Maildir in a temporary
directory, plain IMAP with STARTTLS and implicit TLS (IMAPS) on free loopback ports, the
certificate signed by a throw-away authority (`server.ca_pem`).

`imap_server()` starts it in the foreground (`dovecot -F`) and stops it by its PID;
A failed login makes dovecot slow down the next ones from the same address (its
"auth penalty"): a test doing one starts its own server. `server.append(raw, folder="INBOX")` delivers a message over IMAP APPEND, `server.folder(name)`
lists what a folder holds (flags and raw bytes) to check what the poll did.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services.smtp import _certificates, _free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USERNAME = "signalement@chu-a.example"
PASSWORD = "boite-Abus-2026"
# Mail is owned by an unprivileged account: dovecot refuses to deliver as root.
MAIL_UID = MAIL_GID = 65534

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
info_log_path = {tmp}/dovecot.log
ssl = yes
ssl_cert = <{tmp}/server.pem
ssl_key = <{tmp}/server.key
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{tmp}/mail/%n
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={tmp}/home/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class ImapServer:
    host: str
    port: int
    tls_port: int
    ca_pem: str
    username: str = USERNAME
    password: str = PASSWORD

    def connect(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4(self.host, self.port, timeout=5)
        connection.login(self.username, self.password)
        return connection

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        connection = self.connect()
        try:
            connection.create(folder)  # harmless when it exists
            status, data = connection.append(folder, "", None, raw)
            assert status == "OK", data
        finally:
            connection.logout()

    def folder(self, name: str) -> list[tuple[str, bytes]]:
        """(flags, raw message) of every message in the folder; [] when it does not exist."""
        connection = self.connect()
        try:
            status, _ = connection.select(_quote(name), readonly=True)
            if status != "OK":
                return []
            _, data = connection.uid("SEARCH", None, "ALL")
            found = []
            for uid in data[0].split():
                _, parts = connection.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                flags = parts[0][0].decode()
                found.append((flags, parts[0][1]))
            return found
        finally:
            connection.logout()


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                "dovecot stopped at start-up:\n" + (log.read_text() if log.exists() else "")
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dovecot did not listen within 10 s")


@contextmanager
def imap_server():
    if not os.path.exists(DOVECOT):
        raise RuntimeError(
            "dovecot is missing: apt-get install -y --no-install-recommends dovecot-imapd"
        )
    with tempfile.TemporaryDirectory(prefix="hygie-imap-") as name:
        tmp = Path(name)
        tmp.chmod(0o755)
        ca_pem, _, _ = _certificates(tmp)
        for sub in ("run", "state", "mail", "home"):
            (tmp / sub).mkdir()
        for sub in ("mail", "home"):
            os.chown(tmp / sub, MAIL_UID, MAIL_GID)
        (tmp / "users").write_text(f"{USERNAME}:{{PLAIN}}{PASSWORD}\n")
        port, tls_port = _free_port(), _free_port()
        config = tmp / "dovecot.conf"
        config.write_text(
            CONFIG.format(tmp=tmp, port=port, tls_port=tls_port, uid=MAIL_UID, gid=MAIL_GID)
        )
        process = subprocess.Popen(  # noqa: S603 - fixed program, arguments built here
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole below
        )
        try:
            _wait_for(port, process, tmp / "dovecot.log")
            _wait_for(tls_port, process, tmp / "dovecot.log")
            yield ImapServer("127.0.0.1", port, tls_port, ca_pem)
        finally:
            # The mail is throw-away: no graceful shutdown (which takes a second) is needed.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
