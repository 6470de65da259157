"""A small writer of Outlook .msg files, for the tests (no library writes them, and we keep no
third-party sample files).

Two layers, written from the specifications:

- `compound_file(tree)`: a Compound File Binary (MS-CFB) version 3 — 512-byte sectors, one
  FAT, directory entries whose siblings form a binary search tree with every node black (the
  simplest valid red-black tree), streams under 4,096 bytes in the mini stream (64-byte mini
  sectors chained by the MiniFAT), larger streams in regular sectors. `tree` is a dict: a
  key holding bytes is a stream, a key holding a dict is a storage.
- `outlook_message(...)` / `from_email(message)`: an Outlook message (MS-OXMSG) in that
  container — the property stream of the message (32-byte header) and of each recipient and
  attachment (8-byte header), fixed 16-byte property entries, one `__substg1.0_<tag>` stream
  per variable-length property (strings as UTF-16LE without terminator), the transport
  headers (PidTagTransportMessageHeaders, 007D001F) that a received message keeps.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
ENTRIES_PER_SECTOR = SECTOR // 4
HEADER_DIFAT = 109
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
STORAGE, STREAM, ROOT = 1, 2, 5
BLACK = 1


# MS-CFB ------------------------------------------------------------------------------------------
def _order(name: str) -> tuple[int, str]:
    """MS-CFB's sibling order: shorter names first, then code point by code point upper-cased."""
    return (len(name), name.upper())


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b""):
        if len(name) > 31:
            raise ValueError(f"directory entry name over 31 characters: {name!r}")
        self.name, self.kind, self.data = name, kind, data
        self.left = self.right = self.child = NOSTREAM
        self.start, self.size = ENDOFCHAIN if kind == STREAM else 0, 0

    def pack(self) -> bytes:
        encoded = (self.name + "\0").encode("utf-16-le")
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            encoded,
            len(encoded),
            self.kind,
            BLACK,
            self.left,
            self.right,
            self.child,
            b"\0" * 16,  # CLSID
            0,  # state bits
            0,  # creation time
            0,  # modification time
            self.start,
            self.size,
        )


EMPTY_ENTRY = struct.pack(
    "<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"", 0, 0, 0, 0, 0
)


def _directory(tree: dict) -> list[_Entry]:
    entries = [_Entry("Root Entry", ROOT)]

    def add(storage: _Entry, children: dict) -> None:
        ids = []
        for name in sorted(children, key=_order):
            value = children[name]
            entry = _Entry(name, STORAGE if isinstance(value, dict) else STREAM)
            if entry.kind == STREAM:
                entry.data = bytes(value)
            entries.append(entry)
            ids.append(len(entries) - 1)
        storage.child = _balanced(entries, ids)
        for entry_id in ids:
            if entries[entry_id].kind == STORAGE:
                add(entries[entry_id], children[entries[entry_id].name])

    add(entries[0], tree)
    return entries


def _balanced(entries: list[_Entry], ids: list[int]) -> int:
    """The top of a balanced search tree over `ids` (already in sibling order)."""
    if not ids:
        return NOSTREAM
    middle = len(ids) // 2
    top = entries[ids[middle]]
    top.left = _balanced(entries, ids[:middle])
    top.right = _balanced(entries, ids[middle + 1 :])
    return ids[middle]


def _sectors(data: bytes, size: int) -> int:
    return -(-len(data) // size)


def compound_file(tree: dict) -> bytes:
    """The bytes of a version 3 compound file holding `tree` (see the module docstring)."""
    entries = _directory(tree)
    fat: list[int] = []
    body: list[bytes] = []

    def allocate(data: bytes) -> int:
        """Store `data` in new regular sectors chained in the FAT; the first sector's number."""
        count = max(1, _sectors(data, SECTOR))
        first = len(fat)
        fat.extend(range(first + 1, first + count))
        fat.append(ENDOFCHAIN)
        body.append(data.ljust(count * SECTOR, b"\0"))
        return first

    mini_stream = bytearray()
    minifat: list[int] = []
    for entry in entries:
        if entry.kind != STREAM:
            continue
        entry.size = len(entry.data)
        if not entry.data:
            continue
        if entry.size < MINI_CUTOFF:
            count = _sectors(entry.data, MINI_SECTOR)
            entry.start = len(minifat)
            minifat.extend(range(entry.start + 1, entry.start + count))
            minifat.append(ENDOFCHAIN)
            mini_stream += entry.data.ljust(count * MINI_SECTOR, b"\0")
        else:
            entry.start = allocate(entry.data)
    root = entries[0]
    root.start, root.size = ENDOFCHAIN, len(mini_stream)
    if mini_stream:
        root.start = allocate(bytes(mini_stream))
    minifat_start, minifat_count = ENDOFCHAIN, 0
    if minifat:
        minifat_start = allocate(
            b"".join(struct.pack("<I", n) for n in minifat).ljust(
                _sectors(minifat, ENTRIES_PER_SECTOR) * SECTOR, b"\xff"
            )
        )
        minifat_count = len(fat) - minifat_start
    directory = b"".join(entry.pack() for entry in entries)
    per_sector = SECTOR // len(EMPTY_ENTRY)
    padding = -len(entries) % per_sector
    directory_start = allocate(directory + EMPTY_ENTRY * padding)
    # The FAT describes itself: grow it until its own sectors fit in it.
    fat_count = 1
    while (len(fat) + fat_count) > fat_count * ENTRIES_PER_SECTOR:
        fat_count += 1
    if fat_count > HEADER_DIFAT:
        raise ValueError("file too large for a FAT listed in the header alone (no DIFAT sectors)")
    fat_start = len(fat)
    fat.extend([FATSECT] * fat_count)
    fat.extend([FREESECT] * (fat_count * ENTRIES_PER_SECTOR - len(fat)))
    difat = list(range(fat_start, fat_start + fat_count))
    difat += [FREESECT] * (HEADER_DIFAT - len(difat))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        SIGNATURE,
        b"\0" * 16,  # CLSID
        0x003E,  # minor version
        0x0003,  # major version
        0xFFFE,  # byte order: little-endian
        9,  # sector shift: 512 bytes
        6,  # mini sector shift: 64 bytes
        b"\0" * 6,
        0,  # number of directory sectors: always 0 in version 3
        fat_count,
        directory_start,
        0,  # transaction signature
        MINI_CUTOFF,
        minifat_start,
        minifat_count,
        ENDOFCHAIN,  # first DIFAT sector: none
        0,  # number of DIFAT sectors
    ) + struct.pack(f"<{HEADER_DIFAT}I", *difat)
    assert len(header) == SECTOR
    return header + b"".join(body) + struct.pack(f"<{len(fat)}I", *fat)


# MS-OXMSG ----------------------------------------------------------------------------------------
PT_LONG, PT_BOOLEAN, PT_SYSTIME = 0x0003, 0x000B, 0x0040
PT_STRING, PT_BINARY = 0x001F, 0x0102
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
READABLE_WRITABLE = 0x00000002 | 0x00000004
STORE_UNICODE_OK = 0x00040000  # PidTagStoreSupportMask: strings are UTF-16
RECIPIENT_TO = 1
ATTACH_BY_VALUE = 1


def _properties(values: dict[int, object], header: bytes) -> dict:
    """A property stream and the value streams of the variable-length properties.

    `values` maps a property tag (id << 16 | type) to an int, a bool, an aware datetime, a
    str or bytes."""
    stream = bytearray(header)
    storage: dict = {}
    for tag, value in sorted(values.items()):
        kind = tag & 0xFFFF
        if kind in (PT_LONG, PT_BOOLEAN):
            stream += struct.pack("<II", tag, READABLE_WRITABLE)
            stream += struct.pack("<I4x", int(value))
            continue
        if kind == PT_SYSTIME:  # FILETIME: 100-nanosecond intervals since 1601
            ticks = (value - FILETIME_EPOCH) // timedelta(microseconds=1) * 10
            stream += struct.pack("<IIQ", tag, READABLE_WRITABLE, ticks)
            continue
        data = value.encode("utf-16-le") if kind == PT_STRING else bytes(value)
        # A string's size counts the terminating null the stream leaves out.
        size = len(data) + 2 if kind == PT_STRING else len(data)
        stream += struct.pack("<IIII", tag, READABLE_WRITABLE, size, 0)
        storage[f"__substg1.0_{tag:08X}"] = data
    storage["__properties_version1.0"] = bytes(stream)
    return storage


def outlook_message(
    *,
    subject: str,
    sender_name: str,
    sender_address: str,
    body: str,
    transport_headers: str = "",
    html: str = "",
    sent_at: datetime | None = None,
    message_id: str = "",
    recipients: list[tuple[str, str]] = (),
    attachments: list[tuple[str, bytes, str]] = (),
) -> bytes:
    """An Outlook message (IPM.Note) as a .msg file.

    recipients: (display name, address) pairs, all "To"; attachments: (file name, data,
    MIME type), attached by value; transport_headers: the header block of the message as the
    server received it (what Outlook keeps of a received message, empty for a draft);
    sent_at and message_id: the properties Outlook also keeps of those two headers."""
    values: dict[int, object] = {
        0x001A001F: "IPM.Note",
        0x0037001F: subject,
        0x0E1D001F: subject,  # normalised subject
        0x0C1A001F: sender_name,
        0x0C1F001F: sender_address,
        0x0C1E001F: "SMTP",
        0x5D01001F: sender_address,  # sender SMTP address
        0x0042001F: sender_name,  # sent representing
        0x0065001F: sender_address,
        0x1000001F: body,
        0x0E070003: 0x00000001 if not transport_headers else 0x00000001 | 0x00000010,
        0x340D0003: STORE_UNICODE_OK,
        0x0E1B000B: bool(attachments),  # has attachments
    }
    if transport_headers:
        values[0x007D001F] = transport_headers
    if sent_at is not None:
        values[0x00390040] = sent_at  # client submit time
        values[0x0E060040] = sent_at  # delivery time
    if message_id:
        values[0x1035001F] = message_id  # internet message ID
    if html:
        values[0x10130102] = html.encode("utf-8")
        values[0x3FDE0003] = 65001  # internet code page of the HTML body: UTF-8
    if recipients:
        values[0x0E04001F] = "; ".join(name or address for name, address in recipients)
    header = struct.pack(
        "<8xIIII8x", len(recipients), len(attachments), len(recipients), len(attachments)
    )
    tree = _properties(values, header)
    tree["__nameid_version1.0"] = {
        "__substg1.0_00020102": b"",  # GUID stream
        "__substg1.0_00030102": b"",  # entry stream
        "__substg1.0_00040102": b"",  # string stream
    }
    for number, (name, address) in enumerate(recipients):
        tree[f"__recip_version1.0_#{number:08X}"] = _properties(
            {
                0x3001001F: name or address,  # display name
                0x3002001F: "SMTP",
                0x3003001F: address,
                0x39FE001F: address,  # SMTP address
                0x0C150003: RECIPIENT_TO,
                0x30000003: number,  # row id
            },
            b"\0" * 8,
        )
    for number, (name, data, mime) in enumerate(attachments):
        tree[f"__attach_version1.0_#{number:08X}"] = _properties(
            {
                0x37050003: ATTACH_BY_VALUE,
                0x3707001F: name,  # long file name
                0x3704001F: name[:12],  # short file name (8.3, roughly)
                0x3001001F: name,  # display name
                0x370E001F: mime,
                0x37010102: data,
                0x0E200003: len(data),
                0x0E210003: number,  # attachment number
            },
            b"\0" * 8,
        )
    return compound_file(tree)


def from_email(message: EmailMessage, *, keep_headers: tuple[str, ...] | None = None) -> bytes:
    """The .msg Outlook saves for `message` as received: its header block as the transport
    headers (only the `keep_headers` fields, in their order, when given), its plain and HTML
    bodies, its recipients and its attachments."""
    raw = message.as_bytes(policy=SMTP)
    block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace") + "\r\n"
    if keep_headers is not None:
        wanted = {name.lower() for name in keep_headers}
        lines, keep = [], False
        for line in block.split("\r\n"):
            if line and not line[0].isspace():
                keep = line.split(":", 1)[0].strip().lower() in wanted
            if keep and line:
                lines.append(line)
        block = "\r\n".join(lines) + "\r\n"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    sender = message["From"].addresses[0] if message["From"] else None
    recipients = [
        (address.display_name, address.addr_spec)
        for field in ("To", "Cc")
        for address in (message[field].addresses if message[field] else ())
    ]
    attachments = [
        (part.get_filename() or "piece-jointe", part.get_content(), part.get_content_type())
        for part in message.iter_attachments()
    ]
    return outlook_message(
        subject=str(message["Subject"] or ""),
        sender_name=sender.display_name if sender else "",
        sender_address=sender.addr_spec if sender else "",
        body=plain.get_content() if plain else "",
        html=html.get_content() if html else "",
        transport_headers=block,
        sent_at=message["Date"].datetime if message["Date"] else None,
        message_id=str(message["Message-ID"] or ""),
        recipients=recipients,
        attachments=attachments,
    )
