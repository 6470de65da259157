import re

from django.core.management.base import BaseCommand, CommandError

from hygie.core.audit import verify_chain

ANCHOR_RE = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    help = (
        "Security journal. `hygie audit verify [--anchor N:DIGEST]` checks the hash chain for "
        "altered or removed entries; `hygie audit head` prints the last entry as N:DIGEST, to be "
        "written down outside Hygie and given back later as --anchor."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "head"])
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="N:DIGEST",
            help="an entry noted earlier by `hygie audit head`; may be repeated",
        )

    def handle(self, *args, action, anchor, **options):
        anchors = []
        for value in anchor:
            match = ANCHOR_RE.match(value.strip())
            if not match:
                raise CommandError(
                    f"--anchor {value!r} : forme attendue N:EMPREINTE (64 caractères hexadécimaux), "
                    "telle qu'affichée par `hygie audit head`."
                )
            anchors.append((int(match.group(1)), match.group(2)))
        problems: list[str] = []
        report = None
        for one in anchors or [None]:
            report = verify_chain(anchor=one)
            problems += [p for p in report.problems if p not in problems]
        if action == "head":
            if problems:
                raise CommandError("Journal altéré : vérifiez-le avec `hygie audit verify`.")
            self.stdout.write(f"{report.last_sequence}:{report.last_digest}")
            return
        if not problems:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Journal intègre : {report.checked} entrées vérifiées. "
                    f"Dernière entrée : {report.last_sequence}:{report.last_digest}"
                )
            )
            return
        for problem in problems:
            self.stderr.write(problem)
        raise CommandError(
            f"Journal altéré : {len(problems)} anomalie(s) sur {report.checked} entrées vérifiées."
        )
