from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_reference_entries(sender, **kwargs):
    from hygie.directory.seed import ensure_reference_entries

    ensure_reference_entries()


class DirectoryConfig(AppConfig):
    name = "hygie.directory"
    label = "directory"
    verbose_name = "Annuaire des acteurs"

    def ready(self):
        # After orgs' own post_migrate (INSTALLED_APPS order), so the regions exist.
        post_migrate.connect(_ensure_reference_entries, sender=self)
