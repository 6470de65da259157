from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hygie.core.audit import record_event
from hygie.posture import kev


class Command(BaseCommand):
    help = (
        "Import CISA's Known Exploited Vulnerabilities catalogue from its JSON file "
        "(known_exploited_vulnerabilities.json, downloaded by a person: Hygie never fetches it). "
        "All or nothing; a catalogue older than the one in force is refused unless --allow-older."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--allow-older",
            action="store_true",
            help="import even if older than the catalogue in force",
        )

    def handle(self, *args, file, allow_older, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file} : illisible ({exc.strerror}).") from None
        try:
            outcome = kev.import_catalogue(data, filename=path.name, allow_older=allow_older)
        except kev.KevError as exc:
            self.stderr.write(f"{file} : refusé, rien n'a été importé.")
            for line in exc.problems:
                self.stderr.write(f"  {line}")
            raise CommandError("Catalogue KEV refusé.") from None
        record_event(
            "posture.kev_imported",
            target=outcome.catalogue,
            details={
                "version": outcome.catalogue.catalog_version,
                "count": outcome.catalogue.count,
                "previous": outcome.previous.catalog_version if outcome.previous else "",
                "added": len(outcome.added),
                "file": path.name[:200],
                "command": True,
            },
        )
        for warning in outcome.warnings:
            self.stdout.write(f"avertissement : {warning}")
        self.stdout.write(self.style.SUCCESS(outcome.summary()))
