from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hygie.frameworks.library_format import LibraryError
from hygie.frameworks.models import Framework
from hygie.frameworks.services import import_library


class Command(BaseCommand):
    help = (
        "Framework library. `hygie frameworks import FILE` loads a library file in CISO "
        "Assistant's format (a higher version upgrades the framework in place); "
        "`hygie frameworks list` shows what is loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import", "list"])
        parser.add_argument("files", nargs="*", metavar="FILE")

    def handle(self, *args, action, files, **options):
        if action == "list":
            for framework in Framework.objects.order_by("name"):
                count = framework.nodes.filter(assessable=True).count()
                self.stdout.write(
                    f"{framework.ref_id or '-'}\tv{framework.version}\t{count} exigences\t"
                    f"{framework.name}\t{framework.urn}"
                )
            return
        if not files:
            raise CommandError(
                "Indiquez au moins un fichier : hygie frameworks import FICHIER.yaml"
            )
        failed = 0
        for name in files:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{name} : illisible ({exc.strerror}).") from None
            try:
                outcome = import_library(data, filename=path.name)
            except LibraryError as exc:
                failed += 1
                self.stderr.write(f"{name} : refusé, rien n'a été importé.")
                for line in exc.format_lines():
                    self.stderr.write(f"  {line}")
                continue
            self.stdout.write(self.style.SUCCESS(f"{name} : {outcome.summary()}"))
            for warning in outcome.warnings:
                self.stdout.write(f"  avertissement : {warning}")
        if failed:
            raise CommandError(f"{failed} fichier(s) refusé(s).")
