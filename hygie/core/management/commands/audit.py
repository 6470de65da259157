from django.core.management.base import BaseCommand, CommandError

from hygie.core.audit import verify_chain


class Command(BaseCommand):
    help = "Security journal: `hygie audit verify` checks the hash chain for altered or removed entries."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        report = verify_chain()
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(f"Journal intègre : {report.checked} entrées vérifiées.")
            )
            return
        for problem in report.problems:
            self.stderr.write(problem)
        raise CommandError(
            f"Journal altéré : {len(report.problems)} anomalie(s) sur {report.checked} entrées vérifiées."
        )
