from django.apps import AppConfig


class PostureConfig(AppConfig):
    name = "hygie.posture"
    label = "posture"
    verbose_name = "Audits techniques"
