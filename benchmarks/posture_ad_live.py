"""Live Active Directory collection, paged, against a real (Samba) domain controller.

    python benchmarks/posture_ad_live.py [--users 20000] [--computers 5000]
                                         [--page-sizes 100 500 1000] [--runs 2]

1. The test domain of the suite is started (`tests.posture.samba.start_samba`: a Samba AD DC
   with the planted weaknesses, LDAPS on 127.0.0.1:636 with a private CA). Its LDAP ports are
   fixed: the script refuses to start if 389 or 636 is taken (another DC runs).
2. The DC is stopped and grown offline to `--users` users and `--computers` computers with
   Samba's own Python bindings on its sam.ldb, in transactions of `--batch` objects
   (benchmarks/samba_grow.py, the technique of tests/posture/samba_plant.py), and restarted.
   Users are spread over 4 site OUs, each in one of 200 service groups and in one all-staff
   group (read back with AD's ranged retrieval of `member`). For comparison, `--ldap-sample`
   users are added one by one over LDAPS as the administrator before and after the growth,
   and what the whole growth would have taken that way is printed.
3. A warm-up collection (not reported), then for each page size `--runs` collections
   (`hygie.posture.ad.collect.collect`, the ordinary read-only audit account, LDAPS with the
   certificate verified), each in a fresh child process with production settings: time,
   objects per second, pages requested (paged searches counted on the ldap3 connection), and
   the peak resident memory of the process (and what it was before collecting).
4. In the same run, against the same DC and account: `ldapdomaindump` (PyPI; `--authtype
   SIMPLE`, `ldaps://`, JSON output only, its fixed 500-entry pages), `--runs` times, its peak
   memory from the kernel; the ratio is Hygie's median time / ldapdomaindump's.
5. `hygie.posture.ad.audits.record_audit` of one collected snapshot on SQLite (child process,
   migrated throw-away database, as benchmarks/posture_ad.py does).
The DC is stopped by its process group and its directory removed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LDAPDOMAINDUMP = Path(sys.executable).with_name("ldapdomaindump")
GROW = Path(__file__).with_name("samba_grow.py")


# ---------------------------------------------------------------- child processes (Django)


def _django() -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="hygie-bench-live-"))
    os.environ["HYGIE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("HYGIE_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HYGIE_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import django

    django.setup()
    return data_dir


def _peak_rss_mib() -> float:
    """The process's resident-memory high-water mark so far (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _connection(target: dict, page_size: int):
    from hygie.posture.models import DirectoryConnection

    return DirectoryConnection(
        name="Samba (banc d'essai)",
        host=target["host"],
        port=target["port"],
        security="ldaps",
        ca_certificate=target["ca_pem"],
        bind_user=target["user"],
        bind_password=target["password"],
        page_size=page_size,
    )


def _counted_collect(connection) -> tuple[object, float, int]:
    """collect(connection), its duration and the number of paged search requests it sent."""
    import inspect

    import ldap3

    from hygie.posture.ad import collect

    original = ldap3.Connection.search
    signature = inspect.signature(original)
    pages = 0

    def search(self, *args, **kwargs):
        nonlocal pages
        if signature.bind(self, *args, **kwargs).arguments.get("paged_size"):
            pages += 1
        return original(self, *args, **kwargs)

    ldap3.Connection.search = search
    try:
        started = time.perf_counter()
        snapshot = collect.collect(connection)
        elapsed = time.perf_counter() - started
    finally:
        ldap3.Connection.search = original
    return snapshot, elapsed, pages


def _objects(snapshot) -> int:
    return (
        len(snapshot.users)
        + len(snapshot.computers)
        + len(snapshot.groups)
        + len(snapshot.trusts)
        + len(snapshot.password_settings)
        + len(snapshot.principals)
    )


def child_collect(target: dict, page_size: int) -> None:
    data_dir = _django()
    try:
        before = _peak_rss_mib()
        snapshot, elapsed, pages = _counted_collect(_connection(target, page_size))
        peak = _peak_rss_mib()
        members = max((len(group.members) for group in snapshot.groups), default=0)
        print(
            json.dumps(
                {
                    "seconds": elapsed,
                    "pages": pages,
                    "objects": _objects(snapshot),
                    "users": len(snapshot.users),
                    "computers": len(snapshot.computers),
                    "groups": len(snapshot.groups),
                    "largest_group": members,
                    "rss_before": before,
                    "rss_peak": peak,
                }
            )
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def child_record(target: dict, page_size: int) -> None:
    import warnings

    data_dir = _django()
    try:
        from django.core.management import call_command

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at")
            call_command("migrate", verbosity=0)
        from hygie.orgs.models import Kind, Organisation
        from hygie.posture.ad import audits
        from hygie.posture.models import Asset

        region = Organisation.objects.filter(kind=Kind.REGION).first()
        ght = Organisation.objects.create(kind=Kind.GHT, parent=region, name="GHT Bench")
        est = Organisation.objects.create(
            kind=Kind.ESTABLISHMENT, parent=ght, name="CHU Bench", finess_ej=""
        )
        snapshot, _elapsed, _pages = _counted_collect(_connection(target, page_size))
        started = time.perf_counter()
        audit = audits.record_audit(est, snapshot)
        elapsed = time.perf_counter() - started
        assets = Asset.objects.filter(organisation=est).count()
        print(
            json.dumps(
                {
                    "seconds": elapsed,
                    "findings": audit.findings.count(),
                    "score": audit.score,
                    "assets": assets,
                    "objects": _objects(snapshot),
                }
            )
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# ---------------------------------------------------------------- parent: the domain


def _wait_for_ldaps(dc, deadline_s: float = 120) -> None:
    from tests.posture import samba

    context = ssl.create_default_context(cadata=dc.ca_pem)
    deadline = time.monotonic() + deadline_s
    while True:
        if dc.process.poll() is not None:
            output = (dc.root / "samba.out").read_text(errors="replace")
            raise RuntimeError(f"samba exited ({dc.process.returncode}):\n{output[-3000:]}")
        try:
            with socket.create_connection((samba.HOST, samba.LDAPS_PORT), timeout=1) as raw:
                with context.wrap_socket(raw, server_hostname=samba.HOST):
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("samba did not answer on LDAPS") from None
            time.sleep(0.2)


def _stop_process(dc) -> None:
    """Stop the DC's processes (its own process group) but keep its directory."""
    if dc.process.poll() is None:
        os.killpg(dc.process.pid, signal.SIGTERM)
        try:
            dc.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(dc.process.pid, signal.SIGKILL)
            dc.process.wait()


def _restart(dc) -> float:
    from tests.posture import samba

    started = time.monotonic()
    log = (dc.root / "samba.out").open("ab")
    dc.process = subprocess.Popen(
        [samba.SAMBA, "-i", "-s", str(dc.root / "etc" / "smb.conf")],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.PIPE,  # samba -i stops at end of input
        start_new_session=True,
    )
    _wait_for_ldaps(dc)
    return time.monotonic() - started


def _admin_ldap(dc):
    import ldap3

    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=dc.ca_pem)
    server = ldap3.Server(dc.host, port=dc.ldaps_port, use_ssl=True, tls=tls)
    conn = ldap3.Connection(server, dc.admin_user, dc.admin_password, auto_bind=True)
    return conn


def ldap_add_rate(dc, count: int, prefix: str) -> float:
    """Users added one by one over LDAPS as the administrator, per second."""
    conn = _admin_ldap(dc)
    started = time.perf_counter()
    for number in range(count):
        sam = f"{prefix}{number:05d}"
        ok = conn.add(
            f"CN={sam},CN=Users,{dc.base_dn}",
            ["top", "person", "organizationalPerson", "user"],
            {"sAMAccountName": sam, "givenName": "Ldap", "sn": sam, "displayName": sam},
        )
        if not ok:
            raise RuntimeError(f"LDAP add refused: {conn.result}")
    elapsed = time.perf_counter() - started
    conn.unbind()
    return count / elapsed


def grow(dc, users: int, computers: int, batch: int) -> dict:
    from tests.posture import samba

    result = subprocess.run(
        [
            samba.SAMBA_PYTHON,
            "-I",
            str(GROW),
            str(dc.root / "etc" / "smb.conf"),
            str(dc.root / "private" / "sam.ldb"),
            str(users),
            str(computers),
            str(batch),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode:
        raise RuntimeError(f"growing the domain failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_ldapdomaindump(dc, out: Path) -> tuple[float, float]:
    """One ldapdomaindump run: (seconds, peak RSS in MiB) — the kernel's figure for the child."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    command = [
        str(LDAPDOMAINDUMP),
        "-u",
        f"{dc.netbios}\\{dc.audit_user.partition('@')[0]}",
        "-p",
        dc.audit_password,
        "--authtype",
        "SIMPLE",
        "--no-html",
        "--no-grep",
        "-o",
        str(out),
        f"ldaps://{dc.host}",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode or not (out / "domain_users.json").exists():
        raise RuntimeError(f"ldapdomaindump failed: {process.stderr.read()[-2000:]!r}")
    process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024


def child(kind: str, target: dict, page_size: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYGIE_")}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(target, handle)
    try:
        result = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--target", handle.name]
            + ["--page-sizes", str(page_size)],
            capture_output=True,
            text=True,
            env=env,
            timeout=3600,
        )
    finally:
        os.unlink(handle.name)
    if result.returncode:
        raise RuntimeError(f"child {kind} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--computers", type=int, default=5_000)
    parser.add_argument("--page-sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--ldap-sample", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        target = json.loads(Path(args.target).read_text())
        {"collect": child_collect, "record": child_record}[args.child](target, args.page_sizes[0])
        return

    from tests.posture import samba

    for port in (samba.LDAP_PORT, samba.LDAPS_PORT):
        if samba._port_in_use(port):
            sys.exit(f"port {port} is taken on {samba.HOST}: another DC runs; try again later.")
    if not LDAPDOMAINDUMP.exists():
        sys.exit("ldapdomaindump is not installed in this environment (pip install ldapdomaindump)")
    print(f"<!-- {os.cpu_count()} CPU, Python {sys.version.split()[0]} -->", flush=True)
    dc = samba.start_samba()
    try:
        print(
            f"<!-- DC: provisioned in {dc.timings['provision']:.1f} s, planted in "
            f"{dc.timings['plant']:.1f} s, started in {dc.timings['start']:.1f} s -->",
            flush=True,
        )
        total = args.users + args.computers
        rate_small = ldap_add_rate(dc, args.ldap_sample, "ldapa")
        _stop_process(dc)
        started = time.monotonic()
        grown = grow(dc, args.users, args.computers, args.batch)
        grow_s = time.monotonic() - started
        restart_s = _restart(dc)
        print(
            f"<!-- offline growth (Samba bindings, transactions of {args.batch}): {grown} in "
            f"{grow_s:.0f} s = {total / grow_s:.0f} objects/s; restart {restart_s:.1f} s -->",
            flush=True,
        )
        rate_large = ldap_add_rate(dc, args.ldap_sample, "ldapb")
        # Samba's cost per add grows with the directory: one by one over LDAP, the whole
        # growth would take about the mean of the cost per object at both ends, times N.
        estimate = total * (1 / rate_small + 1 / rate_large) / 2
        print(
            f"<!-- LDAP add one by one (administrator, LDAPS), {args.ldap_sample} users: "
            f"{rate_small:.0f} objects/s on the fresh domain, {rate_large:.0f} objects/s on the "
            f"grown one; {total} objects that way ≈ {estimate / 60:.0f} min -->",
            flush=True,
        )
        target = {
            "host": dc.host,
            "port": dc.ldaps_port,
            "ca_pem": dc.ca_pem,
            "user": dc.audit_user,
            "password": dc.audit_password,
        }
        warm = child("collect", target, max(args.page_sizes))
        print(f"<!-- warm-up collection: {warm['seconds']:.1f} s, {warm} -->", flush=True)

        dumps = []
        work = Path(tempfile.mkdtemp(prefix="hygie-bench-ldd-"))
        try:
            for _run in range(args.runs):
                dumps.append(run_ldapdomaindump(dc, work / "dump"))
            json_mib = sum(p.stat().st_size for p in (work / "dump").glob("*.json")) / 2**20
        finally:
            shutil.rmtree(work, ignore_errors=True)
        ldd_s = statistics.median(d[0] for d in dumps)
        ldd_rss = max(d[1] for d in dumps)

        rows = []
        for page_size in args.page_sizes:
            runs = [child("collect", target, page_size) for _run in range(args.runs)]
            seconds = statistics.median(r["seconds"] for r in runs)
            first = runs[0]
            rows.append(
                (
                    f"Hygie `collect()`, pages de {page_size}",
                    str(first["pages"]),
                    _n(first["objects"]),
                    f"{seconds:.1f} s",
                    _n(first["objects"] / seconds),
                    f"{max(r['rss_peak'] for r in runs):.0f} Mio "
                    f"(avant : {first['rss_before']:.0f})",
                    f"{seconds / ldd_s:.2f}",
                )
            )
        rows.append(
            (
                "ldapdomaindump 0.10 (JSON seul, pages de 500)",
                "—",
                _n(first["users"] + first["computers"] + first["groups"]),
                f"{ldd_s:.1f} s",
                _n((first["users"] + first["computers"] + first["groups"]) / ldd_s),
                f"{ldd_rss:.0f} Mio (JSON écrit : {json_mib:.0f} Mio)",
                "1",
            )
        )
        record = child("record", target, 500)
        rows.append(
            (
                "`record_audit` du relevé (SQLite)",
                "—",
                _n(record["objects"]),
                f"{record['seconds']:.1f} s",
                _n(record["objects"] / record["seconds"]),
                f"{record['findings']} constats, {record['assets']} actifs, score {record['score']}",
                "",
            )
        )
        print(
            f"<!-- domain: {first['users']} users, {first['computers']} computers, "
            f"{first['groups']} groups (largest: {first['largest_group']} members); "
            f"runs per figure: {args.runs} (median) -->"
        )
        print("| mesure | pages | objets | durée | objets/s | pic mémoire | rapport |")
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |", flush=True)
    finally:
        dc.stop()


if __name__ == "__main__":
    main()
