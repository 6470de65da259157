from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hygie.orgs.finess import normalise_finess
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.staff_import import import_staff, record_import_event


class Command(BaseCommand):
    help = (
        "Import an establishment's staff from a CSV file (HR export). Every line is checked "
        "first; if one is wrong, nothing is imported and each problem is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (; or , separated, UTF-8 or Windows-1252)")
        parser.add_argument(
            "--establishment", required=True, metavar="FINESS_EJ", help="FINESS EJ number"
        )
        parser.add_argument(
            "--create-services",
            action="store_true",
            help="create the sites and services the file names but Hygie does not know",
        )
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="mark as gone the people of earlier CSV imports who are not in this file",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and count, write nothing"
        )

    def handle(
        self, *args, file, establishment, create_services, deactivate_missing, dry_run, **options
    ):
        finess = normalise_finess(establishment)
        target = Organisation.objects.filter(kind=Kind.ESTABLISHMENT, finess_ej=finess).first()
        if target is None:
            raise CommandError(f"Aucun établissement de FINESS juridique {finess}.")
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Lecture impossible de {file} : {exc.strerror}") from exc

        with tqdm(
            total=None,
            desc="Contrôle des lignes",
            unit=" lignes",
            disable=options["verbosity"] == 0,
        ) as bar:

            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)

            report = import_staff(
                target,
                data,
                create_services=create_services,
                deactivate_missing=deactivate_missing,
                dry_run=dry_run,
                progress=progress,
            )
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(str(problem))
            if report.hidden_problem_count:
                self.stderr.write(f"… et {report.hidden_problem_count} autres problèmes.")
            raise CommandError(
                f"{report.problem_count} problème(s) : rien n'a été importé dans {target}."
            )
        if not dry_run:
            record_import_event(report, target, filename=path.name)
        prefix = "Simulation (rien n'est écrit) — " if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}{target} : {report.rows} lignes, {report.created} créées, "
                f"{report.updated} mises à jour, {report.unchanged} inchangées, "
                f"{report.deactivated} marquées comme parties."
            )
        )
        if report.created_orgs:
            verb = "à créer" if dry_run else "créés"
            self.stdout.write(f"Sites et services {verb} : {', '.join(report.created_orgs)}")
        if report.ignored_columns:
            self.stdout.write(f"Colonnes ignorées : {', '.join(report.ignored_columns)}")
