"""Staff export as CSV, in the layout `hygie import-staff` reads back (French HR conventions)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet

from hygie.core.exports import safe_cell
from hygie.orgs.models import JobFamily, StaffMember
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
# Plain tuples, not model instances: an export of 100,000 people stays a few seconds.
COLUMNS = (
    "establishment__name",
    "establishment__finess_ej",
    "external_id",
    "last_name",
    "first_name",
    "email",
    "job_family",
    "job_title",
    "service__name",
    "site__name",
    "arrival_date",
    "active",
)
JOB_FAMILY_LABELS = dict(JobFamily.choices)


def _row(values: tuple) -> list[str]:
    *head, job_family, job_title, service, site, arrival, active = values
    return [
        *head,
        str(JOB_FAMILY_LABELS.get(job_family, job_family)),
        job_title,
        service or "",
        site or "",
        arrival.strftime("%d/%m/%Y") if arrival else "",
        "oui" if active else "non",
    ]


def rows(staff: QuerySet[StaffMember], chunk_size: int = 2000) -> Iterator[str]:
    """CSV text in chunks: UTF-8 with a BOM and `;` separators, as French spreadsheets expect."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(HEADER)
    for index, values in enumerate(
        staff.values_list(*COLUMNS).iterator(chunk_size=chunk_size), start=1
    ):
        writer.writerow([safe_cell(cell) for cell in _row(values)])
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
