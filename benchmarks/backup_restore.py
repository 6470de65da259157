"""Backup and restore throughput: `python benchmarks/backup_restore.py [--staff N] [--events N]`.

Builds the demo plus N extra staff members and N journal entries in a throw-away SQLite install
(or the PostgreSQL database named by HYGIE_DATABASE_URL, which must be empty), then times
`hygie backup`, then `hygie restore --force` of that archive. Prints rows per second.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=20000)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), HYGIE_DATA_DIR=str(data_dir), HYGIE_DEMO="1")
    env.setdefault("HYGIE_SECRET_KEY", "b" * 64)

    def hygie(*command):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "hygie", *command], env=env, check=True, cwd=ROOT)
        return time.perf_counter() - started

    hygie("demo", "--no-serve", "-v0")
    grow = f"""
from hygie.orgs.models import Organisation, StaffMember
from hygie.core.audit import record_event
from django.db import transaction
est = Organisation.objects.filter(kind="establishment").first()
StaffMember.objects.bulk_create(
    [StaffMember(establishment=est, first_name="Agent", last_name=f"N{{i}}",
                 email=f"agent{{i}}@bench.example", job_family="soignant")
     for i in range({args.staff})], batch_size=2000)
with transaction.atomic():
    for i in range({args.events}):
        record_event("bench.event", target=est, details={{"n": i}})
"""
    hygie("shell", "-c", grow)
    archive = data_dir / "bench.tar.gz"
    backup_seconds = hygie("backup", "-v0", "--output", str(archive))
    restore_seconds = hygie("restore", "-v0", "--force", str(archive))
    rows = 2164 + args.staff + args.events
    size = archive.stat().st_size
    print(f"rows: {rows}, archive: {size / 1e6:.1f} MB")
    print(f"backup:  {backup_seconds:.1f} s ({rows / backup_seconds:.0f} rows/s)")
    print(f"restore: {restore_seconds:.1f} s ({rows / restore_seconds:.0f} rows/s)")
    hygie("audit", "verify")


if __name__ == "__main__":
    main()
