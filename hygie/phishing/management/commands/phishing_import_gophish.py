from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hygie.orgs.models import Kind, Organisation
from hygie.phishing import gophish


class Command(BaseCommand):
    help = (
        "Import GoPhish templates, landing pages or groups (JSON as GoPhish's API returns "
        "them, or a group CSV) into an establishment or a GHT. The whole file is checked "
        "first; if anything is wrong, nothing is imported and each problem is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON or CSV file exported from GoPhish")
        parser.add_argument(
            "--organisation", required=True, type=int, metavar="ID", help="establishment or GHT"
        )
        parser.add_argument(
            "--kind", choices=gophish.KINDS, help="what the file holds (guessed when left out)"
        )
        parser.add_argument(
            "--establishment",
            type=int,
            metavar="ID",
            help="for a group imported into a GHT: where new people are created",
        )
        parser.add_argument("--name", default="", help="name of a CSV group (default: file name)")
        parser.add_argument(
            "--create-services",
            action="store_true",
            help="create the services a group names but Hygie does not know",
        )

    def handle(
        self, *args, file, organisation, kind, establishment, name, create_services, **options
    ):
        owner = Organisation.objects.filter(
            pk=organisation, kind__in=[Kind.ESTABLISHMENT, Kind.GHT]
        ).first()
        if owner is None:
            raise CommandError(f"Aucun établissement ni GHT d'identifiant {organisation}.")
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Lecture impossible de {file} : {exc.strerror}") from exc
        kind = kind or gophish.guess_kind(data, path.name)
        if kind is None:
            raise CommandError("Contenu non reconnu : précisez --kind templates, pages ou groups.")
        group_options = {}
        if kind == "groups":
            group_options = {
                "name": name,
                "create_services": create_services,
                "establishment": (
                    Organisation.objects.filter(pk=establishment, kind=Kind.ESTABLISHMENT).first()
                    if establishment
                    else None
                ),
            }
        report = gophish.import_file(owner, kind, data, filename=path.name, **group_options)
        if not report.ok:
            raise CommandError(
                f"{len(report.problems)} problème(s) : rien n'a été importé dans {owner}.\n"
                + "\n".join(str(problem) for problem in report.problems)
            )
        gophish.record_import_event(report, owner, filename=path.name)
        for note in report.notes:
            self.stdout.write(f"Note : {note}")
        people = ""
        if kind == "groups":
            people = f" ; personnes : {report.people_created} créée(s), {report.people_updated} mise(s) à jour"
        self.stdout.write(
            f"{owner} : {len(report.created)} créé(s), {len(report.updated)} mis à jour{people}."
        )
