"""Active Directory audit at scale: an export of a large domain audited end to end.

    python benchmarks/posture_ad.py [--users 100000] [--computers 50000] [--runs 3]
                                    [--databases sqlite postgresql]

1. A synthetic hospital domain (`hygie.posture.ad.synthetic.generate`, deterministic) is
   written as the five ldapdomaindump JSON files, as the tool writes them, then zipped: what an
   RSSI uploads.
2. For each database (SQLite in a temporary directory; PostgreSQL as a throw-away cluster, as
   benchmarks/governance.py does), in a child process with production settings, `--runs` times
   on a fresh establishment:
   - reading the zip (`exports.load_export`),
   - the rules alone (`rules.evaluate`) and the password analysis,
   - recording (`audits.record_audit`: rules again, findings, action-plan items, evidence, and
     the 50,000 computers into the asset inventory with their end-of-life status),
   and the end-to-end time (read + record), the figure the issue sets under 60 s.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from governance import start_postgres, stop_postgres  # noqa: E402


def make_export(users: int, computers: int, directory: Path) -> Path:
    from hygie.posture.ad import synthetic

    started = time.perf_counter()
    snapshot = synthetic.generate(users=users, computers=computers, seed=7)
    synthetic.write_ldapdomaindump(snapshot, directory)
    archive = directory / "ldapdomaindump.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(directory.glob("domain_*.json")):
            bundle.write(path, path.name)
    sizes = sum(path.stat().st_size for path in directory.glob("domain_*.json"))
    print(
        f"<!-- export: {users} users, {computers} computers, JSON {sizes / 2**20:.0f} MiB, "
        f"zip {archive.stat().st_size / 2**20:.0f} MiB, written in "
        f"{time.perf_counter() - started:.1f} s -->",
        flush=True,
    )
    return archive


def measure(archive: Path, runs: int, database: str) -> list[tuple]:
    from django.utils import timezone

    from hygie.orgs.models import Kind, Organisation
    from hygie.posture.ad import audits, exports, passwords, rules
    from hygie.posture.models import Asset

    data = archive.read_bytes()
    region = Organisation.objects.filter(kind=Kind.REGION).first()
    ght = Organisation.objects.create(kind=Kind.GHT, parent=region, name="GHT Bench")
    samples: dict[str, list[float]] = {}
    audit = None
    for run in range(runs):
        est = Organisation.objects.create(
            kind=Kind.ESTABLISHMENT, parent=ght, name=f"CHU Bench {run}", finess_ej=""
        )
        started = time.perf_counter()
        snapshot = exports.load_export([(archive.name, io.BytesIO(data).read())])
        read = time.perf_counter() - started
        now = timezone.now()
        started = time.perf_counter()
        findings = rules.evaluate(snapshot, now=now)
        evaluate = time.perf_counter() - started
        started = time.perf_counter()
        passwords.analyse(snapshot, now=now)
        analyse = time.perf_counter() - started
        started = time.perf_counter()
        audit = audits.record_audit(est, snapshot, filename=archive.name)
        record = time.perf_counter() - started
        for label, value in (
            ("lecture de l'export (zip ldapdomaindump)", read),
            ("règles seules", evaluate),
            ("analyse des mots de passe seule", analyse),
            ("enregistrement (règles, constats, actions, preuves, parc)", record),
            ("de bout en bout (lecture + enregistrement)", read + record),
        ):
            samples.setdefault(label, []).append(value)
        assert Asset.objects.filter(organisation=est).count() == len(snapshot.computers)
        del snapshot
    size = f"{audit.stats.get('users', '?')} / {audit.stats.get('computers', '?')}"
    rows = [
        (database, size, label, f"{statistics.median(values):.1f} s", f"{max(values):.1f} s")
        for label, values in samples.items()
    ]
    rows.append(
        (database, size, f"constats ({len(findings)} règles déclenchées), score {audit.score}",
         "", "")
    )  # fmt: skip
    return rows


def child(archive: Path, runs: int, database: str) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-ad-"))
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("HYGIE_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HYGIE_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import warnings

    import django

    try:
        django.setup()
        from django.core.management import call_command

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at")
            call_command("migrate", verbosity=0)
        for row in measure(archive, runs, database):
            print("| " + " | ".join(str(cell) for cell in row) + " |", flush=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--computers", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--archive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.archive), args.runs, args.child)
        return
    work = Path(tempfile.mkdtemp(prefix="hygie-bench-ad-export-"))
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hygie.settings")
        archive = make_export(args.users, args.computers, work)
        print(f"<!-- {os.cpu_count()} CPU, Python {sys.version.split()[0]} -->")
        print("| base | utilisateurs / ordinateurs | mesure | médiane | pire |")
        print("|---|---|---|---|---|")
        command = [sys.executable, __file__, "--runs", str(args.runs), "--archive", str(archive)]
        for database in args.databases:
            env = {k: v for k, v in os.environ.items() if not k.startswith("HYGIE_")}
            if database == "sqlite":
                subprocess.run([*command, "--child", database], check=True, env=env)
                continue
            url, pg_dir, pg_bin = start_postgres()
            try:
                env["HYGIE_DATABASE_URL"] = url
                subprocess.run([*command, "--child", database], check=True, env=env)
            finally:
                stop_postgres(pg_dir, pg_bin)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
