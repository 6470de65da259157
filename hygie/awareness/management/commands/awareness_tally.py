from django.core.management.base import BaseCommand, CommandError

from hygie.awareness import tally
from hygie.orgs.models import Kind, Organisation


class Command(BaseCommand):
    help = (
        "The progress tally the awareness dashboard reads (decision 0538). "
        "`hygie awareness-tally check` compares it with the assignments; "
        "`hygie awareness-tally rebuild [--establishment ID]` recomputes it from them."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check", "rebuild"])
        parser.add_argument("--establishment", type=int, metavar="ID")

    def handle(self, *args, action, establishment, **options):
        if establishment is not None:
            if not Organisation.objects.filter(pk=establishment, kind=Kind.ESTABLISHMENT).exists():
                raise CommandError(f"Aucun établissement n'a l'identifiant {establishment}.")
            ids = [establishment]
        else:
            ids = sorted(tally.establishments())
        differed = 0
        for establishment_id in ids:
            if action == "check":
                same = tally.stored(establishment_id) == tally.computed(establishment_id)
            else:
                same = not tally.rebuild(establishment_id)
            differed += not same
            if not same:
                verb = "différent" if action == "check" else "reconstruit"
                self.stdout.write(f"établissement {establishment_id} : {verb}")
        self.stdout.write(f"{len(ids)} établissement(s), {differed} différent(s).")
        if action == "check" and differed:
            raise CommandError("Le décompte diffère des attributions : lancez « rebuild ».")
