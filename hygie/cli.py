"""`hygie` console script: Django's management commands under one name.

hygie demo            install-free evaluation: migrate, load the demo, serve on 127.0.0.1
hygie serve           serve the web interface (gunicorn)
hygie worker          run background tasks (start several for more throughput)
hygie createadmin     create a platform administrator
hygie audit verify    check the security journal's hash chain
hygie backup          write an archive of the database and uploaded files
hygie restore FILE    bring an archive back on a fresh install
hygie check           Django's system checks (add --deploy for production)
hygie <command>       any other management command (migrate, import-staff, ldap-sync…)
hygie help [command]  every command, or the options of one

Configuration: HYGIE_* environment variables (README, docs/operations.md).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "hygie"  # Django's help names the program after argv[0]
    if len(argv) == 1 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return
    if argv[1] == "--version":
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"hygie {version('hygie')}")
        except PackageNotFoundError:
            print("hygie (not installed)")
        return
    if argv[1] == "demo":
        # The demo runs over plain HTTP on 127.0.0.1 with generated secrets.
        os.environ.setdefault("HYGIE_DEMO", "1")
    if not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hygie.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
