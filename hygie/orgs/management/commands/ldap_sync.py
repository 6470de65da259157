from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hygie.orgs.finess import normalise_finess
from hygie.orgs.ldap_sync import sync_directory
from hygie.orgs.models import DirectorySource, SyncStatus


class Command(BaseCommand):
    help = (
        "Sync staff from the establishments' LDAP directories (all scheduled ones, "
        "or one establishment)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--establishment", metavar="FINESS_EJ", help="FINESS EJ number")

    def handle(self, *args, establishment, **options):
        sources = DirectorySource.objects.select_related("establishment").order_by("pk")
        if establishment:
            finess = normalise_finess(establishment)
            sources = sources.filter(establishment__finess_ej=finess)
            if not sources.exists():
                raise CommandError(f"Aucun annuaire LDAP configuré pour le FINESS {finess}.")
        else:
            sources = sources.filter(enabled=True)
        failures = 0
        for source in sources:
            with tqdm(
                desc=f"{source.establishment} — pages lues",
                unit=" pages",
                disable=options["verbosity"] == 0,
            ) as bar:
                report = sync_directory(source, progress=lambda pages: bar.update(pages - bar.n))
            name = source.establishment
            if report.status == SyncStatus.FAILED:
                failures += 1
                self.stderr.write(f"{name} : échec — {report.error}")
                continue
            self.stdout.write(
                self.style.SUCCESS(
                    f"{name} : {report.entries} entrées, {report.created} créées, "
                    f"{report.updated} mises à jour, {report.unchanged} inchangées, "
                    f"{report.deactivated} marquées comme parties, "
                    f"{report.skipped_count} ignorées."
                )
            )
            for problem in report.skipped:
                self.stderr.write(f"  ignorée : {problem}")
            for warning in report.warnings:
                self.stderr.write(f"  attention : {warning}")
        if failures:
            raise CommandError(f"{failures} annuaire(s) en échec.")
