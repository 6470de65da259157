from django.core.management.base import BaseCommand

from hygie.core.tasks import run_housekeeping


class Command(BaseCommand):
    help = (
        "Prune idle throttle buckets, old task results and expired sessions now "
        "(the worker does it every hour; use this from a timer with a broker backend)."
    )

    def handle(self, *args, **options):
        counts = run_housekeeping()
        self.stdout.write(
            f"Entretien : {counts['throttle_buckets']} compteur(s) de limitation inactif(s), "
            f"{counts['task_results']} résultat(s) de tâche ancien(s) supprimé(s)."
        )
