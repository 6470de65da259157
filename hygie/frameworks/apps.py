from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_builtin_frameworks(sender, **kwargs):
    from hygie.frameworks.services import load_builtin_frameworks

    load_builtin_frameworks()


class FrameworksConfig(AppConfig):
    name = "hygie.frameworks"
    label = "frameworks"
    verbose_name = "Référentiels"

    def ready(self):
        post_migrate.connect(_load_builtin_frameworks, sender=self)
