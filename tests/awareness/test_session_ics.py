"""The .ics invitations: RFC 5545, read back by a strict parser written here."""

from __future__ import annotations

import datetime as dt
import re

from django.test import override_settings

from hygie.awareness import ics
from tests.awareness.sessions_support import make_session

NAME = re.compile(r"^[A-Z][A-Z0-9-]*$")


def parse(text: str) -> list[dict]:
    """Strict reading: CRLF everywhere, physical lines of 75 octets at most, folding with one
    space, balanced BEGIN/END, properties as NAME;PARAM=VALUE:VALUE. Returns the components
    as dicts {"type", "props": {name: [(params, value)]}, "children"}."""
    assert text.endswith("\r\n"), "the last line ends with CRLF"
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert "\n" not in line and "\r" not in line, f"bare line break in {line!r}"
        assert len(line.encode("utf-8")) <= 75, f"line longer than 75 octets: {line!r}"
    logical: list[str] = []
    for line in physical:
        if line.startswith((" ", "\t")):
            assert logical, "a continuation line cannot come first"
            logical[-1] += line[1:]
        else:
            logical.append(line)
    root = {"type": None, "props": {}, "children": []}
    stack = [root]
    for line in logical:
        head, sep, value = _split_value(line)
        assert sep, f"no ':' in {line!r}"
        name, *raw_params = _split_params(head)
        assert NAME.match(name), f"bad property name {name!r}"
        params = {}
        for raw in raw_params:
            key, eq, pvalue = raw.partition("=")
            assert eq and NAME.match(key), f"bad parameter {raw!r}"
            if pvalue.startswith('"'):
                assert pvalue.endswith('"') and '"' not in pvalue[1:-1], f"bad quoting {raw!r}"
                pvalue = pvalue[1:-1]
            else:
                assert not set(pvalue) & set(',;:"'), f"unquoted special char in {raw!r}"
            params[key] = pvalue
        if name == "BEGIN":
            child = {"type": value, "props": {}, "children": []}
            stack[-1]["children"].append(child)
            stack.append(child)
        elif name == "END":
            assert stack[-1]["type"] == value, f"END:{value} closes {stack[-1]['type']}"
            stack.pop()
        else:
            stack[-1]["props"].setdefault(name, []).append((params, value))
    assert len(stack) == 1, "unclosed component"
    return root["children"]


def _split_params(head: str) -> list[str]:
    parts, current, quoted = [], "", False
    for ch in head:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _split_value(line: str) -> tuple[str, str, str]:
    quoted = False
    for index, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return line[:index], ":", line[index + 1 :]
    return line, "", ""


def unescape(value: str) -> str:
    out, i = "", 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            nxt = value[i + 1]
            assert nxt in "\\;,nN", f"bad escape \\{nxt}"
            out += "\n" if nxt in "nN" else nxt
            i += 2
            continue
        assert ch not in ";,", f"unescaped {ch!r} in TEXT {value!r}"
        out += ch
        i += 1
    return out


def one(props, name):
    values = props.get(name, [])
    assert len(values) == 1, f"{name} appears {len(values)} times"
    return values[0]


def event_of(text):
    (calendar,) = parse(text)
    assert calendar["type"] == "VCALENDAR"
    (event,) = calendar["children"]
    assert event["type"] == "VEVENT"
    return calendar["props"], event["props"]


@override_settings(DEFAULT_FROM_EMAIL="Hygie CHU A <hygie@chu-a.example>")
def test_an_invitation_is_valid_icalendar_with_every_field(world):
    session = make_session(
        world.est_a1,
        title="Cybersécurité, phishing; et mots de passe : les réflexes à adopter au quotidien",
        location="Salle 3, bâtiment B; 2e étage",
    )
    now = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
    text = ics.invitation(
        session,
        attendee_name='Élodie "Lo" Martin, IDE',
        attendee_email="elodie.martin@chu-a.example",
        description="Programme :\n- Théorie\nVotre page : https://hygie.example/apprendre/x/",
        now=now,
    )
    calendar, event = event_of(text)
    assert one(calendar, "VERSION")[1] == "2.0"
    assert one(calendar, "METHOD")[1] == "REQUEST"
    assert one(calendar, "PRODID")[1]
    assert one(event, "UID")[1] == str(session.uid)
    assert one(event, "SEQUENCE")[1] == "0"
    assert one(event, "DTSTAMP")[1] == "20260302T083000Z"
    start = session.starts_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert one(event, "DTSTART")[1] == start
    assert one(event, "DTEND")[1].endswith("Z")
    assert unescape(one(event, "SUMMARY")[1]) == session.title
    assert unescape(one(event, "LOCATION")[1]) == "Salle 3, bâtiment B; 2e étage"
    assert unescape(one(event, "DESCRIPTION")[1]).splitlines()[1] == "- Théorie"
    params, organiser = one(event, "ORGANIZER")
    assert organiser == "mailto:hygie@chu-a.example" and params["CN"] == "Claire Dumont"
    params, attendee = one(event, "ATTENDEE")
    assert attendee == "mailto:elodie.martin@chu-a.example"
    assert params["CN"] == "Élodie Lo Martin, IDE"  # quoted, its own quotes dropped
    assert params["ROLE"] == "REQ-PARTICIPANT"
    assert one(event, "STATUS")[1] == "CONFIRMED"
    # The long accented summary was folded, never inside a UTF-8 sequence.
    assert "\r\n " in text


def test_a_remote_session_gives_its_link_and_a_cancellation_uses_method_cancel(world):
    session = make_session(
        world.est_a1, mode="remote", location="", meeting_url="https://visio.chu-a.example/cyber"
    )
    session.sequence = 3
    text = ics.invitation(
        session, attendee_name="Paul", attendee_email="paul@example.org", method="CANCEL"
    )
    calendar, event = event_of(text)
    assert one(calendar, "METHOD")[1] == "CANCEL"
    assert one(event, "SEQUENCE")[1] == "3"
    assert one(event, "STATUS")[1] == "CANCELLED"
    assert one(event, "URL")[1] == "https://visio.chu-a.example/cyber"
    assert unescape(one(event, "LOCATION")[1]) == "https://visio.chu-a.example/cyber"


def test_folding_keeps_multibyte_characters_whole():
    line = "SUMMARY:" + "é" * 100
    folded = ics.fold(line)
    for physical in folded.split("\r\n"):
        assert len(physical.encode("utf-8")) <= 75
        physical.encode("utf-8").decode("utf-8")  # no split sequence
    assert folded.replace("\r\n ", "") == line
    assert ics.escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
