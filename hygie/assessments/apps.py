from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "hygie.assessments"
    label = "assessments"
    verbose_name = "Auto-évaluations"

    def ready(self):
        from hygie.assessments import services  # noqa: F401 - connects framework_loaded
