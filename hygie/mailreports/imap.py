"""Reading an abuse mailbox over IMAP (stdlib imaplib), with errors a person can act on.

A poll takes every message of the folder in UID order, stores it (once: the report keeps the
folder's UIDVALIDITY and the message's UID, and its Message-ID), then marks it \\Seen and moves
it to the processed folder (MOVE when the server offers it, else COPY + \\Deleted + EXPUNGE).
The folder to read therefore only ever holds what is new; if Hygie stops between storing and
moving, the next poll finds the message already stored and just moves it (decision 0420).
"""

from __future__ import annotations

import imaplib
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.core.net import verified_tls_context
from hygie.mailreports import analysis, services
from hygie.mailreports.models import Mailbox, Security, Source

BATCH = 200
LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?P<sep>"[^"]*"|NIL) ')


class ImapProblem(Exception):
    pass


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tls_context(mailbox: Mailbox) -> ssl.SSLContext:
    try:
        return verified_tls_context(mailbox.ca_certificate)
    except ValueError:
        raise ImapProblem(
            _("Le certificat d'autorité fourni n'est pas un certificat PEM lisible.")
        ) from None


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """A logged-in connection, TLS checked; ImapProblem otherwise."""
    try:
        if mailbox.security == Security.TLS:
            connection = imaplib.IMAP4_SSL(
                mailbox.host,
                mailbox.port,
                ssl_context=tls_context(mailbox),
                timeout=mailbox.timeout,
            )
        else:
            connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=mailbox.timeout)
            if mailbox.security == Security.STARTTLS:
                connection.starttls(ssl_context=tls_context(mailbox))
    except ssl.SSLCertVerificationError as exc:
        raise ImapProblem(
            _(
                "Certificat du serveur refusé (%(reason)s) : fournissez le certificat de "
                "l'autorité interne."
            )
            % {"reason": exc.verify_message or exc.reason}
        ) from None
    except ssl.SSLError as exc:
        raise ImapProblem(
            _("Échec de la négociation TLS (%(reason)s) : vérifiez le port et le chiffrement.")
            % {"reason": exc.reason}
        ) from None
    except imaplib.IMAP4.error as exc:
        raise ImapProblem(
            _("Le serveur ne propose pas STARTTLS (%(reason)s).") % {"reason": _text(exc)}
        ) from None
    except TimeoutError:
        raise ImapProblem(_("Le serveur ne répond pas (délai dépassé).")) from None
    except OSError as exc:
        raise ImapProblem(
            _("Connexion impossible à %(host)s:%(port)s (%(reason)s).")
            % {"host": mailbox.host, "port": mailbox.port, "reason": exc.strerror or exc}
        ) from None
    try:
        connection.login(mailbox.username, mailbox.password)
    except imaplib.IMAP4.error:
        _logout(connection)
        raise ImapProblem(
            _("Authentification refusée : vérifiez l'identifiant et le mot de passe.")
        ) from None
    return connection


def _text(exc) -> str:
    value = exc.args[0] if exc.args else exc
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _logout(connection) -> None:
    try:
        connection.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def _select(connection, folder: str) -> int:
    status, data = connection.select(_quote(folder))
    if status != "OK":
        raise ImapProblem(
            _("Le dossier « %(folder)s » est introuvable sur le serveur.") % {"folder": folder}
        )
    _name, values = connection.response("UIDVALIDITY")
    try:
        return int(values[0])
    except (TypeError, ValueError, IndexError):
        raise ImapProblem(_("Le serveur n'indique pas l'UIDVALIDITY du dossier.")) from None


def _server_name(connection, folder: str) -> str:
    """The folder name with the server's hierarchy separator ("Hygie/Traites" or
    "Hygie.Traites")."""
    status, data = connection.list('""', '""')
    if status == "OK" and data and data[0]:
        match = LIST_LINE.match(data[0])
        if match and match.group("sep") != b"NIL":
            separator = match.group("sep").strip(b'"').decode()
            if separator and separator != "/":
                return folder.replace("/", separator)
    return folder


@dataclass
class TestOutcome:
    ok: bool
    message: str


def test(mailbox: Mailbox) -> TestOutcome:
    """Log in and open the folder; the outcome is kept on the mailbox."""
    try:
        connection = connect(mailbox)
        try:
            _select(connection, mailbox.folder)
            _status, data = connection.uid("SEARCH", None, "ALL")
            count = len(data[0].split()) if data and data[0] else 0
        finally:
            _logout(connection)
    except ImapProblem as problem:
        outcome = TestOutcome(False, str(problem))
    except (imaplib.IMAP4.error, OSError) as exc:
        outcome = TestOutcome(False, _("Erreur IMAP : %(reason)s") % {"reason": _text(exc)})
    else:
        outcome = TestOutcome(
            True,
            _("Connexion réussie : %(count)s message(s) en attente dans « %(folder)s ».")
            % {"count": count, "folder": mailbox.folder},
        )
    _keep(mailbox, outcome.ok, outcome.message)
    return outcome


def _keep(mailbox: Mailbox, ok: bool, message: str) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_poll_at=timezone.now(), last_poll_ok=ok, last_poll_message=message[:500]
    )


@dataclass
class PollOutcome:
    ok: bool = True
    stored: int = 0
    already: int = 0
    credited: int = 0
    unreadable: list[str] = field(default_factory=list)
    message: str = ""


def poll(mailbox: Mailbox) -> PollOutcome:
    """Read what is new in the mailbox (up to BATCH messages a run)."""
    outcome = PollOutcome()
    try:
        connection = connect(mailbox)
        try:
            _poll(connection, mailbox, outcome)
        finally:
            _logout(connection)
    except ImapProblem as problem:
        outcome.ok, outcome.message = False, str(problem)
    except (imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError) as exc:
        outcome.ok = False
        outcome.message = _("Erreur IMAP : %(reason)s") % {"reason": _text(exc)}
    if outcome.ok:
        outcome.message = _(
            "%(stored)s nouveau(x) signalement(s), %(credited)s exercice(s) reconnu(s)."
        ) % {"stored": outcome.stored, "credited": outcome.credited}
        if outcome.unreadable:
            outcome.message += " " + _(
                "%(count)s message(s) illisible(s) déplacé(s) dans « %(folder)s » : %(first)s"
            ) % {
                "count": len(outcome.unreadable),
                "folder": mailbox.processed_folder,
                "first": outcome.unreadable[0],
            }
    _keep(mailbox, outcome.ok, outcome.message)
    return outcome


def _poll(connection, mailbox: Mailbox, outcome: PollOutcome) -> None:
    target = _server_name(connection, mailbox.processed_folder)
    connection.create(_quote(target))  # "already exists" is fine
    uidvalidity = _select(connection, mailbox.folder)
    status, data = connection.uid("SEARCH", None, "UNDELETED")
    if status != "OK":
        raise ImapProblem(_("Le serveur a refusé la recherche des messages."))
    uids = [int(uid) for uid in (data[0] or b"").split()][:BATCH]
    can_move = "MOVE" in connection.capabilities
    moved = []
    for uid in uids:
        status, parts = connection.uid("FETCH", str(uid), "(INTERNALDATE BODY.PEEK[])")
        if status != "OK" or not parts or not isinstance(parts[0], tuple):
            continue
        envelope, raw = parts[0]
        arrived = _internal_date(envelope)
        try:
            intake = services.ingest(
                raw,
                organisation=mailbox.organisation,
                source=Source.IMAP,
                mailbox=mailbox,
                received_at=arrived,
                uidvalidity=uidvalidity,
                uid=uid,
            )
        except analysis.UnreadableMessage as exc:
            outcome.unreadable.append(str(exc))
        else:
            if intake.created:
                outcome.stored += 1
                outcome.credited += int(intake.credited)
            else:
                outcome.already += 1
        moved.append(str(uid))
    if not moved:
        return
    uid_set = ",".join(moved)
    connection.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen)")
    if can_move:
        status, data = connection.uid("MOVE", uid_set, _quote(target))
    else:
        status, data = connection.uid("COPY", uid_set, _quote(target))
        if status == "OK":
            connection.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
            connection.expunge()
    if status != "OK":
        raise ImapProblem(
            _("Messages enregistrés mais non déplacés vers « %(folder)s » : %(reason)s")
            % {"folder": target, "reason": _joined(data)}
        )


def _joined(data) -> str:
    return b" ".join(item for item in data or () if isinstance(item, bytes)).decode(
        "utf-8", "replace"
    )


def _internal_date(envelope: bytes):
    parsed = imaplib.Internaldate2tuple(envelope)
    if parsed is None:
        return timezone.now()
    import time

    return datetime.fromtimestamp(time.mktime(parsed), tz=UTC)
