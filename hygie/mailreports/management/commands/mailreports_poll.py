from django.core.management.base import BaseCommand

from hygie.mailreports.tasks import poll_all


class Command(BaseCommand):
    help = (
        "Read the abuse mailboxes now (the worker does it every few minutes; use this from a "
        "timer with a broker backend)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", type=int, action="append", help="only this mailbox id")

    def handle(self, *args, mailbox=None, **options):
        counts = poll_all(mailbox)
        self.stdout.write(
            f"Relève : {counts['mailboxes']} boîte(s) lue(s), {counts['stored']} nouveau(x) "
            f"signalement(s), {counts['credited']} exercice(s) reconnu(s), "
            f"{counts['failed']} en échec, {counts['busy']} déjà en cours de relève."
        )
        if counts["failed"]:
            self.stderr.write("Au moins une boîte n'a pas pu être relevée : voir son état.")
