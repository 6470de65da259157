from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "hygie.directory"
    label = "directory"
    verbose_name = "Annuaire des acteurs"
