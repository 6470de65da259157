from __future__ import annotations

from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hygie.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore an archive written by `hygie backup` on a fresh install (empty, migrated "
        "database). All or nothing; checksums and signature are verified before any write."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace ALL the data of this install (database and files) by the archive",
        )
        parser.add_argument(
            "--accept-other-key",
            action="store_true",
            help="restore an archive made with another HYGIE_SECRET_KEY / HYGIE_ENCRYPTION_KEYS",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="verify the archive (signature, schema, checksums) and write nothing",
        )

    def handle(self, *args, archive, force, accept_other_key, check, **options):
        progress = partial(tqdm, disable=options["verbosity"] == 0, unit_scale=True, leave=False)
        try:
            result = restore_backup(
                archive,
                force=force,
                accept_other_key=accept_other_key,
                check_only=check,
                progress_factory=progress,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Attention : {warning}"))
        manifest = result.manifest
        origin = (
            f"sauvegarde du {manifest['created_at']} (Hygie {manifest['hygie_version']}, "
            f"{manifest['database_vendor']})"
        )
        if check:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Archive intègre : {origin}, {result.rows} lignes, {result.files} fichier(s)."
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Restauration terminée : {origin}, {result.rows} lignes, "
                f"{result.files} fichier(s)."
            )
        )
        if result.replaced_rows:
            self.stdout.write(f"  {result.replaced_rows} lignes existantes ont été remplacées.")
