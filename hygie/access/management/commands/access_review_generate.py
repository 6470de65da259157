"""`hygie access-review-generate DIR`: write a synthetic hospital's logs with planted misuse."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from hygie.access.review import synthetic


class Command(BaseCommand):
    help = "Write synthetic access logs and care relations with planted misuse (truth.json)."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--staff", type=int, default=150)
        parser.add_argument("--patients", type=int, default=1000)
        parser.add_argument("--events", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--malformed", type=int, default=0)
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")

    def handle(self, *args, **options):
        truth = synthetic.generate(
            options["directory"],
            staff=options["staff"],
            patients=options["patients"],
            events=options["events"],
            seed=options["seed"],
            malformed=options["malformed"],
            fmt=options["format"],
        )
        self.stdout.write(
            f"{truth.events} accès, {len(truth.cases)} cas semés, "
            f"{len(truth.hard_negatives)} cas difficiles légitimes → {options['directory']}"
        )
