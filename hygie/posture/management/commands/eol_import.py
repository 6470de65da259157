"""`hygie eol-import FILE [--product P]`: update the end-of-life dates from a file.

The file is a YAML dataset in the format of hygie/posture/data/eol.yaml, or endoflife.date's JSON
answer for one product (its product from --product or the file name: windows-server.json).
All or nothing: any problem is reported with its line and field, and nothing is changed.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hygie.posture import eol


class Command(BaseCommand):
    help = "Met à jour les dates de fin de vie des systèmes depuis un fichier YAML ou JSON."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--product", default="", help="produit d'un fichier endoflife.date")

    def handle(self, *args, file, product, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        try:
            specs = eol.read_release_file(data, path.name, product)
            outcome = eol.import_releases(specs, filename=path.name)
        except eol.EolFileError as exc:
            raise CommandError(
                "\n".join([f"{path.name} :", *(f"  {line}" for line in exc.format_lines())])
            ) from None
        self.stdout.write(
            f"{outcome['created']} versions ajoutées, {outcome['updated']} modifiées."
        )
        for label in outcome["ignored"]:
            self.stdout.write(f"ignorée (pas de motif de reconnaissance) : {label}")
