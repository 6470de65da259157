from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "hygie.crisis"
    label = "crisis"
    verbose_name = "Gestion de crise"
