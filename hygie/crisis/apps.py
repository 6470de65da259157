from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_builtin_scenarios(sender, **kwargs):
    from hygie.crisis.scenarios import load_builtin_scenarios

    load_builtin_scenarios()


class CrisisConfig(AppConfig):
    name = "hygie.crisis"
    label = "crisis"
    verbose_name = "Gestion de crise"

    def ready(self):
        post_migrate.connect(_load_builtin_scenarios, sender=self)
