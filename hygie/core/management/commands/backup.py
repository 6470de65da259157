from __future__ import annotations

from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hygie.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Write one consistent archive (.tar.gz) of the database and the uploaded files. "
        "The keys (HYGIE_SECRET_KEY, HYGIE_ENCRYPTION_KEYS) are NOT in it: keep them apart."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            type=Path,
            help="archive to write (default: DATA_DIR/backups/hygie-backup-<date>.tar.gz)",
        )

    def handle(self, *args, output, **options):
        progress = partial(tqdm, disable=options["verbosity"] == 0, unit_scale=True, leave=False)
        try:
            result = create_backup(output, progress_factory=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde écrite : {result.path}"))
        self.stdout.write(
            f"  {result.rows} lignes, {result.files} fichier(s), {result.size} octets, "
            f"SHA-256 {result.sha256}"
        )
        if not result.manifest["audit"]["chain_ok"]:
            self.stderr.write(
                "Attention : le journal de sécurité ne se vérifie pas (hygie audit verify)."
            )
        self.stdout.write(
            "Conservez HYGIE_SECRET_KEY et HYGIE_ENCRYPTION_KEYS à part de l'archive : "
            "sans elles, ses secrets restent illisibles et son journal invérifiable."
        )
