"""Staff export as CSV, in the layout `hygie import-staff` reads back (French HR conventions)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from hygie.orgs.models import StaffMember
from hygie.orgs.staff_import import COLUMN_LABELS

FIELDS = [
    "external_id",
    "last_name",
    "first_name",
    "email",
    "job_family",
    "job_title",
    "service",
    "site",
    "arrival_date",
]
HEADER = ["établissement", "FINESS", *(COLUMN_LABELS[name] for name in FIELDS), "en poste"]
# A cell starting with one of these is read as a formula by spreadsheets (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _row(member: StaffMember) -> list[str]:
    return [
        member.establishment.name,
        member.establishment.finess_ej,
        member.external_id,
        member.last_name,
        member.first_name,
        member.email,
        member.get_job_family_display(),
        member.job_title,
        member.service.name if member.service_id else "",
        member.site.name if member.site_id else "",
        member.arrival_date.strftime("%d/%m/%Y") if member.arrival_date else "",
        "oui" if member.active else "non",
    ]


def rows(staff: Iterable[StaffMember], chunk_size: int = 2000) -> Iterator[str]:
    """CSV text in chunks: UTF-8 with a BOM and `;` separators, as French spreadsheets expect."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(HEADER)
    iterator = staff.iterator(chunk_size=chunk_size) if hasattr(staff, "iterator") else iter(staff)
    for index, member in enumerate(iterator, start=1):
        writer.writerow([safe_cell(cell) for cell in _row(member)])
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
