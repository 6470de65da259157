from django.apps import AppConfig


class AwarenessConfig(AppConfig):
    name = "hygie.awareness"
    label = "awareness"
    verbose_name = "Sensibilisation"
