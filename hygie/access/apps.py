from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "hygie.access"
    label = "access"
    verbose_name = "Accès Zero Trust"
