"""Reading a reported message: is it readable, is it one of our simulations, and what does it
show (authentication results, Received chain, sender domains, URLs, attachments).

Everything here works offline on the message as received: the verdicts of SPF, DKIM and DMARC
are those the receiving server wrote in Authentication-Results, no DNS is queried. The
reported message's HTML is parsed for its links, never rendered.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email import errors, policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Outlook .msg (Compound File)
KNOWN_HEADERS = ("from", "to", "subject", "date", "message-id", "received", "return-path")
SIMULATION_HEADER = "X-Hygie-Simulation"
TOKEN = r"[A-Za-z0-9_-]{16,64}"  # noqa: S105 - a pattern, not a secret
CLICK_LINK = re.compile(rf"/s/c/({TOKEN})/")
OPEN_PIXEL = re.compile(rf"/s/o/({TOKEN})\.gif")
URL_IN_TEXT = re.compile(r"""\bhttps?://[^\s<>"'`]+""", re.IGNORECASE)
FORWARD_PREFIX = re.compile(r"^\s*((re|tr|fw|fwd|rép|ref)\s*:\s*|\[[^\]]*\]\s*)+", re.IGNORECASE)
FORWARDED_FROM = re.compile(r"^\s*(?:From|De)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
AUTH_METHOD = re.compile(r"\b(spf|dkim|dmarc|arc)\s*=\s*([a-z]+)", re.IGNORECASE)
RECEIVED_FROM = re.compile(r"\bfrom\s+(.+?)\s+by\s+(\S+)", re.IGNORECASE | re.DOTALL)
RECEIVED_BY = re.compile(r"\bby\s+(\S+)", re.IGNORECASE)
BRACKETED_IP = re.compile(r"\[([0-9a-fA-F:.]+)\]")


class UnreadableMessage(ValueError):
    """A file or body that is not an e-mail, explained in French (names the file when known)."""


def _named(name: str, reason: str) -> UnreadableMessage:
    if name:
        return UnreadableMessage(
            _("« %(name)s » n'est pas lisible : %(reason)s") % {"name": name, "reason": reason}
        )
    return UnreadableMessage(_("Message illisible : %(reason)s") % {"reason": reason})


def load(raw: bytes, name: str = "") -> EmailMessage:
    """The message in `raw` (RFC 5322 bytes), or UnreadableMessage saying what is wrong."""
    if not raw.strip():
        raise _named(name, _("le fichier est vide."))
    if raw.startswith(OLE_MAGIC):
        raise _named(
            name,
            _("c'est un fichier Outlook (.msg), pas un .eml : déposez-le avec l'extension .msg."),
        )
    if b"\x00" in raw[:8192]:
        raise _named(name, _("contenu binaire, ce n'est pas un message électronique (.eml)."))
    message = BytesParser(policy=policy.default).parsebytes(raw)
    present = {key.lower() for key in message.keys()}
    if not present & set(KNOWN_HEADERS):
        raise _named(
            name,
            _(
                "aucun en-tête de message (From, To, Subject, Date, Message-ID…) au début du "
                "fichier."
            ),
        )
    return message


def load_outlook(data: bytes, name: str = "") -> bytes:
    """An Outlook .msg file converted to RFC 5322 bytes (extract-msg, the fields its transport
    headers lack taken from its properties), or UnreadableMessage."""
    if not data.startswith(OLE_MAGIC):
        raise _named(
            name, _("ce n'est pas un fichier Outlook .msg (signature de fichier absente).")
        )
    import extract_msg

    try:
        with extract_msg.openMsg(data) as outlook:
            if not isinstance(outlook, extract_msg.Message):
                raise _named(name, _("ce fichier Outlook n'est pas un message électronique."))
            message = outlook.asEmailMessage()
            _complete_from_properties(message, outlook)
            return message.as_bytes(policy=policy.SMTP)
    except UnreadableMessage:
        raise
    except extract_msg.exceptions.InvalidFileFormatError:
        # A compound file without a message's property stream: a Word or Excel 97 document…
        raise _named(
            name,
            _(
                "c'est un fichier composé Microsoft (document Word, Excel…) mais pas un message "
                "Outlook."
            ),
        ) from None
    except Exception as exc:  # extract-msg raises many types on damaged files
        raise _named(
            name, _("fichier Outlook endommagé (%(reason)s).") % {"reason": str(exc)[:200]}
        ) from None


OUTLOOK_FIELDS = (("Subject", "subject"), ("From", "sender"), ("To", "to"), ("Cc", "cc"))


def _complete_from_properties(message: EmailMessage, outlook) -> None:
    """Outlook keeps a received message's header block as the server gave it (the transport
    headers), which may lack fields: a gateway trimmed it, or a message saved from the Sent
    Items has none. The missing Subject, From, To, Cc, Date and Message-ID are then taken from
    the message's own properties, so triage and grouping see them as in the .eml."""
    present = {key.lower() for key in message.keys()}
    values = [(header, getattr(outlook, attribute, None)) for header, attribute in OUTLOOK_FIELDS]
    values.append(("Message-ID", outlook.getStringStream("__substg1.0_1035")))
    sent = outlook.props.date
    values.append(("Date", format_datetime(sent) if isinstance(sent, datetime) else None))
    values.append(("MIME-Version", "1.0"))  # the body extract-msg rebuilt is MIME
    for header, value in values:
        value = " ".join(str(value or "").split())
        if not value or header.lower() in present:
            continue
        try:
            message[header] = value
        except (ValueError, TypeError, IndexError, errors.HeaderParseError):
            continue  # a property that is no valid header value is left out, not guessed


# Simulations ------------------------------------------------------------------------------------
def simulation_tokens(message: Message) -> list[str]:
    """Recipient tokens of Hygie simulations found anywhere in the report: the header of the
    message or of a message attached to it, or a tracking link or pixel in any text part
    (URL-decoded, so links rewritten by a mail gateway still count)."""
    found: list[str] = []

    def add(token: str) -> None:
        token = token.strip()
        if re.fullmatch(TOKEN, token) and token not in found:
            found.append(token)

    for part in message.walk():
        for value in part.get_all(SIMULATION_HEADER) or ():
            add(str(value))
    for text in _texts(message):
        decoded = unquote(unquote(text))
        for pattern in (CLICK_LINK, OPEN_PIXEL):
            for match in pattern.finditer(decoded):
                add(match.group(1))
    return found


# Triage -----------------------------------------------------------------------------------------
def reported_message(report: EmailMessage) -> EmailMessage:
    """The suspicious message itself: the first message attached to the report (report buttons
    and "forward as attachment"), else the report (an inline forward or a redirect)."""
    for part in report.walk():
        if part is not report and part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                return inner[0]
    return report


def _texts(message: Message, with_html: bool = True) -> list[str]:
    texts = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_disposition() == "attachment":
            continue
        if part.get_content_subtype() == "html" and not with_html:
            continue
        texts.append(_decode_text(part))
    return texts


def _decode_text(part: Message) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action") and value:
                self.links.append(value.strip())


class _Text(HTMLParser):
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.chunks.append(data)


def text_body(message: Message) -> str:
    """What the message says, as plain text (its HTML reduced to text when it has nothing
    else); never its HTML."""
    plain, html = [], []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain":
            plain.append(_decode_text(part))
        elif part.get_content_type() == "text/html":
            html.append(_decode_text(part))
    if plain:
        return "\n".join(plain).strip()
    parser = _Text()
    for source in html:
        parser.feed(source)
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.chunks)).strip()


def urls(message: Message) -> list[str]:
    """Every http(s) URL of the message, from its text and its HTML links, in order, once."""
    found: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_disposition() == "attachment":
            continue
        text = _decode_text(part)
        candidates = [m.group(0).rstrip(".,;:!?)]}'\"") for m in URL_IN_TEXT.finditer(text)]
        if part.get_content_subtype() == "html":
            parser = _Links()
            try:
                parser.feed(text)
            except Exception:  # noqa: S110 - a broken page still gives its text URLs
                pass
            candidates = [
                link for link in parser.links if link.lower().startswith(("http://", "https://"))
            ] + candidates
        for url in candidates:
            if url not in found:
                found.append(url)
    return found


def defang(url: str) -> str:
    """A URL nobody can click by mistake: hxxps://exemple[.]fr/chemin."""
    url = re.sub(r"^http", "hxxp", url, flags=re.IGNORECASE)
    parts = url.split("/", 3)
    if len(parts) >= 3:
        parts[2] = parts[2].replace(".", "[.]")
    return "/".join(parts)


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _address(message: Message, header: str) -> str:
    values = message.get_all(header) or []
    pairs = getaddresses([str(value) for value in values])
    for _name, address in pairs:
        if "@" in address:
            return address.strip().lower()
    return ""


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower().strip(">. ") if "@" in address else ""


def aligned(one: str, other: str) -> bool:
    """Same domain, or one a subdomain of the other (DMARC's relaxed alignment, simplified)."""
    if not one or not other:
        return True
    return one == other or one.endswith("." + other) or other.endswith("." + one)


def authentication(message: Message) -> dict:
    """SPF, DKIM and DMARC verdicts from the topmost Authentication-Results header (the one
    the receiving server added last), with Received-SPF as a fallback for SPF."""
    results: dict[str, str] = {}
    headers = message.get_all("Authentication-Results") or []
    server = ""
    if headers:
        value = " ".join(str(headers[0]).split())
        server = value.split(";", 1)[0].strip()
        for method, verdict in AUTH_METHOD.findall(value):
            results.setdefault(method.lower(), verdict.lower())
    if "spf" not in results:
        received_spf = message.get("Received-SPF")
        if received_spf:
            results["spf"] = str(received_spf).split()[0].lower()
    return {"server": server, **{key: results.get(key, "") for key in ("spf", "dkim", "dmarc")}}


def received_chain(message: Message) -> list[dict]:
    """The hops the message went through, from the first (the sender's side) to the last."""
    hops = []
    for header in reversed(message.get_all("Received") or []):
        value = " ".join(str(header).split())
        route, _sep, when = value.rpartition(";")
        if not _sep:
            route, when = value, ""
        hop = {"from": "", "ip": "", "by": "", "date": ""}
        match = RECEIVED_FROM.search(route)
        if match:
            hop["from"], hop["by"] = match.group(1)[:200], match.group(2)[:200]
            ip = BRACKETED_IP.search(match.group(1))
            hop["ip"] = ip.group(1) if ip else ""
        else:
            by = RECEIVED_BY.search(route)
            hop["by"] = by.group(1)[:200] if by else ""
        try:
            hop["date"] = parsedate_to_datetime(when.strip()).isoformat() if when.strip() else ""
        except (TypeError, ValueError, IndexError):
            hop["date"] = when.strip()[:80]
        hops.append(hop)
    return hops


def attachments(message: Message) -> list[dict]:
    found = []
    for part in message.walk():
        if part is message or part.is_multipart():
            continue
        name = part.get_filename()
        if part.get_content_disposition() != "attachment" and not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else part.as_bytes()
        found.append(
            {
                "name": str(name or "")[:255],
                "type": part.get_content_type(),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return found


def normalised_subject(subject: str) -> str:
    return " ".join(FORWARD_PREFIX.sub("", subject or "").lower().split())


def indicators(report: EmailMessage) -> dict:
    """Everything the IT team needs from the reported message, JSON-ready."""
    message = reported_message(report)
    sender = _address(message, "From")
    if message is report and FORWARD_PREFIX.match(str(message.get("Subject", ""))):
        # An inline forward: the suspicious sender is quoted in the body, not in From.
        quoted = FORWARDED_FROM.search(text_body(message))
        if quoted:
            pairs = getaddresses([quoted.group(1)])
            if pairs and "@" in pairs[0][1]:
                sender = pairs[0][1].lower()
    reply_to = _address(message, "Reply-To")
    return_path = _address(message, "Return-Path")
    found_urls = urls(message)
    from_domain = domain_of(sender)
    return {
        "subject": str(message.get("Subject", ""))[:300],
        "message_id": str(message.get("Message-ID", "")).strip()[:500],
        "date": str(message.get("Date", ""))[:80],
        "from": sender,
        "from_domain": from_domain,
        "reply_to": reply_to,
        "reply_to_domain": domain_of(reply_to),
        "return_path": return_path,
        "return_path_domain": domain_of(return_path),
        "reply_to_mismatch": not aligned(from_domain, domain_of(reply_to)),
        "return_path_mismatch": not aligned(from_domain, domain_of(return_path)),
        "authentication": authentication(message),
        "received": received_chain(message),
        "urls": found_urls[:500],
        "url_hosts": sorted({host for host in map(host_of, found_urls) if host}),
        "attachments": attachments(message),
        "forwarded_inline": message is report,
    }


def fingerprint(found: dict, body: str = "") -> str:
    """What identical reports share: the subject without TR:/RE:, the sender, the hosts the
    links point to and the attachments' hashes (links often carry a per-person token, their
    host does not); the body's hash when there is neither link nor attachment."""
    parts = [
        normalised_subject(found["subject"]),
        found["from"],
        ",".join(found["url_hosts"]),
        ",".join(sorted(item["sha256"] for item in found["attachments"])),
    ]
    if not found["url_hosts"] and not found["attachments"]:
        parts.append(hashlib.sha256(" ".join(body.lower().split()).encode()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def arrival_of(message: Message):
    """When the report reached us per its Date header, or None."""
    try:
        value = message.get("Date")
        return parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        return None
