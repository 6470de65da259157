"""iCalendar (RFC 5545) invitations for training sessions, written by hand: small and exact.

One VCALENDAR per e-mail, one VEVENT, one ATTENDEE (each person gets their own message with
their own personal link). The UID is the session's, so calendars update the same event when
SEQUENCE rises (a changed time, place or link) and remove it on METHOD:CANCEL (decision 0522).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

PRODID = "-//Hygie//Sensibilisation//FR"
CRLF = "\r\n"
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def param_value(value: str) -> str:
    """A parameter value (§3.2): quoted when it holds , ; or :, DQUOTE and controls dropped."""
    cleaned = "".join(ch for ch in value if ch != '"' and (ch == "\t" or ord(ch) >= 0x20))
    if any(ch in cleaned for ch in ",;:"):
        return f'"{cleaned}"'
    return cleaned


def utc(moment: dt.datetime) -> str:
    """DATE-TIME in UTC form (§3.3.5, FORM #2)."""
    if timezone.is_naive(moment):
        raise ValueError("an aware datetime is required")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (§3.1), never inside a UTF-8 sequence."""
    out: list[str] = []
    current = b""
    limit = MAX_OCTETS
    for ch in line:
        encoded = ch.encode("utf-8")
        if len(current) + len(encoded) > limit:
            out.append(current.decode("utf-8"))
            current = b""
            limit = MAX_OCTETS - 1  # continuation lines start with one space
        current += encoded
    out.append(current.decode("utf-8"))
    return (CRLF + " ").join(out)


def _organizer() -> str:
    address = settings.DEFAULT_FROM_EMAIL
    # "Name <address>" in the setting: keep the address for the mailto: URI.
    if "<" in address and address.endswith(">"):
        address = address.rsplit("<", 1)[1][:-1]
    return address


def invitation(
    session,
    *,
    attendee_name: str,
    attendee_email: str,
    method: str = "REQUEST",
    description: str = "",
    now: dt.datetime | None = None,
) -> str:
    """The .ics text of one person's invitation (METHOD:REQUEST) or cancellation (CANCEL)."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported METHOD {method}")
    now = now or timezone.now()
    organiser_name = session.trainer_name or str(session.organisation)
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{session.uid}",
        f"SEQUENCE:{session.sequence}",
        f"DTSTAMP:{utc(now)}",
        f"DTSTART:{utc(session.starts_at)}",
        f"DTEND:{utc(session.ends_at)}",
        f"SUMMARY:{escape_text(session.title)}",
    ]
    if session.mode == "remote" and session.meeting_url:
        lines.append(f"LOCATION:{escape_text(session.meeting_url)}")
        lines.append(f"URL:{session.meeting_url}")
    elif session.location:
        lines.append(f"LOCATION:{escape_text(session.location)}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    lines += [
        f"ORGANIZER;CN={param_value(organiser_name)}:mailto:{_organizer()}",
        (
            f"ATTENDEE;CN={param_value(attendee_name)};ROLE=REQ-PARTICIPANT;"
            f"PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{attendee_email}"
        ),
        "STATUS:CANCELLED" if method == "CANCEL" else "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + CRLF for line in lines)
