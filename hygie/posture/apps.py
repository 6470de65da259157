from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_eol_dataset(sender, **kwargs):
    from hygie.posture.eol import load_builtin

    load_builtin()


class PostureConfig(AppConfig):
    name = "hygie.posture"
    label = "posture"
    verbose_name = "Audits techniques"

    def ready(self):
        post_migrate.connect(_load_eol_dataset, sender=self)
