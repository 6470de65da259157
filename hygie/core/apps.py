from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hygie.core"
    label = "core"
    verbose_name = "Hygie — socle"

    def ready(self):
        from hygie.core import checks  # noqa: F401 — registers the system checks
