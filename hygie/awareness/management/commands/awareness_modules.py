from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hygie.awareness.content import ContentError, import_module
from hygie.awareness.models import Module


class Command(BaseCommand):
    help = (
        "Training modules. `hygie awareness-modules list` shows the loaded modules; "
        "`hygie awareness-modules import FILE...` loads a platform administrator's own module "
        "files (validated whole; a higher version upgrades the module, nothing else replaces it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import", "list"])
        parser.add_argument("files", nargs="*", metavar="FILE")

    def handle(self, *args, action, files, **options):
        if action == "list":
            for module in Module.objects.order_by("slug"):
                state = "proposé" if module.active else "retiré"
                self.stdout.write(
                    f"{module.slug}\tv{module.version}\t{state}\t{module.get_origin_display()}\t"
                    f"{','.join(module.audiences)}\t{module.title}"
                )
            return
        if not files:
            raise CommandError(
                "Indiquez au moins un fichier : hygie awareness-modules import FICHIER.yaml"
            )
        failed = 0
        for name in files:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{name} : illisible ({exc.strerror}).") from None
            try:
                outcome = import_module(data, path.name)
            except ContentError as exc:
                failed += 1
                self.stderr.write(f"{name} : refusé, rien n'a été importé.")
                for line in exc.format_lines():
                    self.stderr.write(f"  {line}")
                continue
            self.stdout.write(self.style.SUCCESS(f"{name} : {outcome.message}"))
        if failed:
            raise CommandError(f"{failed} fichier(s) refusé(s).")
