from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from tqdm import tqdm

from hygie.orgs.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from hygie.orgs.models import Membership


class Command(BaseCommand):
    help = "Migrate, load the demo (GHT, establishments, ~2,000 staff, one user per role) and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="load the demo and exit")

    def handle(self, *args, bind, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        with tqdm(
            total=2050,
            desc="Données de démonstration",
            unit=" personnels",
            disable=options["verbosity"] == 0,
        ) as bar:
            result = load_demo(progress=lambda done, total: bar.update(done - bar.n))
        if not result["created"]:
            self.stdout.write("Données de démonstration déjà présentes.")
        else:
            from hygie.assessments.demo import load_assessment_demo
            from hygie.orgs.models import Organisation

            ght = Organisation.objects.get(code="GHT-DEMO-HDF")
            campaigns = load_assessment_demo(ght)
            from hygie.actions.demo import load_action_demo

            actions = load_action_demo(ght)
            from hygie.phishing.demo import load_simulation_demo

            simulations = load_simulation_demo(ght)
            from hygie.awareness.demo import load_awareness_demo

            trainings = load_awareness_demo(ght)
            from hygie.crisis.demo import load_crisis_demo

            exercises = load_crisis_demo(ght)
            from hygie.posture.demo import load_posture_demo

            ad_audits = load_posture_demo(ght)
            from hygie.access.demo import load_access_demo

            decisions = load_access_demo(ght)
            self.stdout.write(
                f"{campaigns} campagnes d'auto-évaluation, {actions} actions, "
                f"{simulations} simulations d'hameçonnage, {trainings} campagnes de "
                f"sensibilisation, {exercises} exercices de crise, {ad_audits} audits "
                f"Active Directory et {decisions} décisions Zero Trust de démonstration."
            )
        host = bind if bind.startswith("http") else f"http://{bind}"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Hygie (démonstration) : {host}/"))
        self.stdout.write(f"Données sous {settings.DATA_DIR}")
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :")
        places = {
            m.user.username: m.organisation
            for m in Membership.objects.filter(
                user__username__in=[u[0] for u in DEMO_USERS]
            ).select_related("user", "organisation")
        }
        for username, _first, _last, role, _where in DEMO_USERS:
            self.stdout.write(f"  {username:<18} {role.label} — {places.get(username, '?')}")
        self.stdout.write("  admin              administrateur de la plateforme")
        self.stdout.write(
            "Le code de double authentification des comptes de démonstration s'affiche à l'écran de connexion."
        )
        if not no_serve:
            from hygie.core.management.commands.serve import serve

            serve(bind=bind.replace("http://", ""), workers=1, threads=8)
