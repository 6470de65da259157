"""How many published CISO Assistant library files Hygie loads, and how fast.

    python benchmarks/ciso_libraries.py DIRECTORY [--limit N]

DIRECTORY holds CISO Assistant library files (`backend/library/libraries/*.yaml` of a checkout of
intuitem/ciso-assistant-community; nothing of it is committed here). Each file is imported into a
throw-away SQLite database as a platform administrator would with `hygie frameworks import`:
files carrying a framework must load; files carrying only other objects (risk matrices,
mappings, reference controls) must be refused with the "no framework" message. The script
prints one line per failure and a summary with the parse and write time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    os.environ["HYGIE_DATA_DIR"] = tempfile.mkdtemp(prefix="hygie-bench-ciso-")
    os.environ.setdefault("HYGIE_DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hygie.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from hygie.frameworks.library_format import LibraryError
    from hygie.frameworks.models import RequirementNode
    from hygie.frameworks.services import import_library

    files = sorted(args.directory.glob("*.yaml"))
    if args.limit:
        files = files[: args.limit]
    loaded = no_framework = failed = warned = 0
    total_bytes = 0
    started = time.perf_counter()
    slowest = (0.0, "")
    for path in files:
        data = path.read_bytes()
        total_bytes += len(data)
        began = time.perf_counter()
        try:
            outcome = import_library(data, filename=path.name)
        except LibraryError as exc:
            if "ne contient pas de référentiel" in str(exc):
                no_framework += 1
            elif "déjà chargé" in str(exc):
                loaded += 1  # the same framework urn shipped twice (e.g. a detail variant)
            else:
                failed += 1
                print(f"FAILED {path.name}: {exc.format_lines()[:3]}")
            continue
        elapsed = time.perf_counter() - began
        slowest = max(slowest, (elapsed, path.name))
        loaded += 1
        warned += bool(outcome.warnings)
    duration = time.perf_counter() - started
    print(
        f"{len(files)} files ({total_bytes / 1e6:.1f} MB): {loaded} frameworks loaded "
        f"({warned} with warnings), {no_framework} without a framework refused as expected, "
        f"{failed} failed; {RequirementNode.objects.count()} requirement nodes in "
        f"{duration:.1f} s; slowest file {slowest[1]} {slowest[0]:.2f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
