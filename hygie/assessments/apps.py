from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "hygie.assessments"
    label = "assessments"
    verbose_name = "Auto-évaluations"

    def ready(self):
        from hygie.assessments import services  # connects framework_loaded
        from hygie.core.tasks import register_housekeeping

        register_housekeeping("assessment_reminders", services.send_campaign_reminders)
