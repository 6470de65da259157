from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "hygie.actions"
    label = "actions"
    verbose_name = "Plan d'action"
