from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_reference_tree(sender, **kwargs):
    from hygie.orgs.services import ensure_reference_tree

    ensure_reference_tree()


class OrgsConfig(AppConfig):
    name = "hygie.orgs"
    label = "orgs"
    verbose_name = "Organisations"

    def ready(self):
        post_migrate.connect(_ensure_reference_tree, sender=self)
