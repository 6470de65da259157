"""The review's columnar store: access events as Parquet files, queried with DuckDB.

Access logs are far too large to live row by row in the Django database (a hospital writes
millions of record openings a month). Each access import becomes one Parquet file under
`DATA_DIR/access/<organisation pk>/<import pk>.parquet`; the engine reads exactly the files of
the organisation's imports (never a directory glob, so one organisation never reads another's
events). The same files can be read unchanged by Spark SQL or Trino (docs/access-review.md).
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC
from pathlib import Path

import duckdb
from django.conf import settings

# Column order of the Parquet files (and of the cleaned text file written by the ingestion).
ACCESS_COLUMNS = [
    ("line", "BIGINT"),  # line number in the imported file
    ("ts", "TIMESTAMP"),  # UTC
    ("day", "DATE"),  # local date (settings.TIME_ZONE)
    ("hour", "TINYINT"),  # local hour 0-23
    ("user_id", "VARCHAR"),
    ("patient_id", "VARCHAR"),
    ("action", "VARCHAR"),
    ("application", "VARCHAR"),
    ("workstation", "VARCHAR"),
    ("break_glass", "BOOLEAN"),
    ("reason", "VARCHAR"),
]

# The store stays polite on a shared machine; HYGIE_REVIEW_THREADS raises it on a big one.
THREADS = int(os.environ.get("HYGIE_REVIEW_THREADS", "0")) or max(1, os.cpu_count() or 1)
MEMORY_LIMIT = os.environ.get("HYGIE_REVIEW_MEMORY", "4GB")


def organisation_dir(organisation) -> Path:
    return Path(settings.DATA_DIR) / "access" / str(organisation.pk)


def access_path(review_import) -> Path:
    """`<pk>-<import time>.parquet`: a file left by a rolled-back import is never mistaken for
    a later import that reuses the same primary key."""
    stamp = review_import.imported_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    return organisation_dir(review_import.organisation) / f"{review_import.pk}-{stamp}.parquet"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with bounded threads and memory, spilling to DATA_DIR."""
    spill = Path(settings.DATA_DIR) / "access" / "tmp"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": THREADS,
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(spill),
            # No extension is ever downloaded at run time.
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    con.execute("SET TimeZone = 'UTC'")
    return con


def _sql_string(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def columns_sql() -> str:
    return "{" + ", ".join(f"{_sql_string(n)}: {_sql_string(t)}" for n, t in ACCESS_COLUMNS) + "}"


def write_access(review_import, cleaned_tsv: Path) -> Path:
    """Turn the ingestion's cleaned tab-separated file into the import's Parquet file."""
    target = access_path(review_import)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".parquet.partial")
    con = connect()
    try:
        con.execute(
            f"""
            COPY (
                SELECT * FROM read_csv({_sql_string(str(cleaned_tsv))}, delim = '\t',
                    header = false, quote = '', escape = '', columns = {columns_sql()},
                    nullstr = '\\N', auto_detect = false)
            ) TO {_sql_string(str(partial))} (FORMAT parquet, COMPRESSION zstd)
            """  # noqa: S608 - our own paths, quoted
        )
    finally:
        con.close()
    partial.replace(target)
    return target


def remove_access(review_import) -> None:
    path = access_path(review_import)
    path.unlink(missing_ok=True)
    path.with_suffix(".parquet.partial").unlink(missing_ok=True)


ORPHAN_GRACE_SECONDS = 3600  # an import still being written is never swept
_FILE_NAME = re.compile(r"^(?P<pk>[0-9]+)-(?P<stamp>[0-9]{8}T[0-9]{12})\.parquet(?:\.partial)?$")


def sweep_orphans(now: float | None = None) -> int:
    """Delete the event files no import owns any more; returns how many.

    An organisation deleted with its imports, a process killed between writing a file and
    committing its import, a `.partial` file left by a crash: access logs of patients must not
    outlive the import that the retention and the interface know about. Files younger than
    ORPHAN_GRACE_SECONDS are left alone (an import may still be running). Registered as
    housekeeping (`access_review_orphan_files`).
    """
    from hygie.access.models import LogKind, ReviewImport

    root = Path(settings.DATA_DIR) / "access"
    if not root.is_dir():
        return 0
    now = time.time() if now is None else now
    owned = {
        access_path(i)
        for i in ReviewImport.objects.filter(kind=LogKind.ACCESS).select_related("organisation")
    }
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir() or not folder.name.isdigit():
            continue  # the spill directory and anything not ours
        for path in folder.iterdir():
            if not _FILE_NAME.match(path.name):
                continue
            if path.suffix == ".parquet" and path in owned:
                continue
            try:
                if now - path.stat().st_mtime < ORPHAN_GRACE_SECONDS:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            removed += 1
    return removed


def access_files(organisation) -> list[Path]:
    """The Parquet files of the organisation's access imports (only those that exist)."""
    from hygie.access.models import LogKind, ReviewImport

    imports = ReviewImport.objects.filter(organisation=organisation, kind=LogKind.ACCESS)
    return [p for p in (access_path(i) for i in imports.order_by("pk")) if p.exists()]


def read_access_sql(files: list[Path]) -> str:
    """A DuckDB table expression over the given files (an empty relation when there are none)."""
    if not files:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in ACCESS_COLUMNS)
        return f"(SELECT {cols}, CAST(NULL AS BIGINT) AS import_id WHERE false)"
    listing = "[" + ", ".join(_sql_string(str(p)) for p in files) + "]"
    # The import id is the file name: parse it from the filename column.
    import_id = "CAST(regexp_extract(filename, '([0-9]+)-[0-9T]+\\.parquet$', 1) AS BIGINT)"
    return (
        f"(SELECT * EXCLUDE (filename), {import_id} AS import_id "  # noqa: S608 - our paths
        f"FROM read_parquet({listing}, filename = true))"
    )
