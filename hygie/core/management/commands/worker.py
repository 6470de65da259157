from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run background tasks from the database queue (start several for more throughput)."

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*", help="queue to serve (default: all)")
        parser.add_argument("--batch", action="store_true", help="exit once the queue is empty")

    def handle(self, *args, queue_name, batch, **options):
        arguments = ["--queue-name", queue_name]
        if batch:
            arguments.append("--batch")
        call_command("db_worker", *arguments, verbosity=options["verbosity"])
