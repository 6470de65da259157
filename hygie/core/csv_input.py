"""Reading CSV files people upload: encoding, delimiter, records with their line numbers."""

from __future__ import annotations

import codecs
import csv
import io

from django.utils.translation import gettext as _


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with; ValueError when none fits."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise ValueError(
            _("encodage non reconnu : enregistrez le fichier en CSV UTF-8 ou Windows-1252")
        ) from None


def detect_delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ";"


def read_records(text: str, delimiter: str):
    """(records, problem): the (first line number, cells) of every non-blank record, and
    (line, message) for a record the CSV reader cannot read (None when all were read)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    previous_end = 0
    try:
        for cells in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if any(cell.strip() for cell in cells):
                records.append((line, cells))
    except csv.Error as exc:
        return records, (
            previous_end + 1,
            _("ligne illisible (%(error)s) : vérifiez les guillemets") % {"error": exc},
        )
    return records, None
