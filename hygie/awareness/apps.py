from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_builtin_modules(sender, **kwargs):
    from hygie.awareness.content import load_builtin_modules

    load_builtin_modules()


class AwarenessConfig(AppConfig):
    name = "hygie.awareness"
    label = "awareness"
    verbose_name = "Sensibilisation"

    def ready(self):
        post_migrate.connect(_load_builtin_modules, sender=self)
