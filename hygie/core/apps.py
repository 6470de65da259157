from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hygie.core"
    label = "core"
    verbose_name = "Hygie — socle"
