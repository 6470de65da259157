"""`hygie` console script: Django's management commands under one name.

hygie demo            install-free evaluation: migrate, load the demo, serve on 127.0.0.1
hygie serve           serve the web interface (gunicorn)
hygie worker          run background tasks
hygie createadmin     create a platform administrator
hygie audit verify    check the security journal's hash chain
hygie check           Django's system checks (add --deploy for production)
hygie <command>       any other management command (migrate, import-staff, ldap-sync…)
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "demo":
        # The demo runs over plain HTTP on 127.0.0.1 with generated secrets.
        os.environ.setdefault("HYGIE_DEMO", "1")
    if len(argv) > 1:
        argv[1] = argv[1].replace("-", "_")
    if len(argv) == 1:
        argv.append("help")
        print(__doc__)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hygie.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
