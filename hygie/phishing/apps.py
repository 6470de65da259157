from django.apps import AppConfig


class PhishingConfig(AppConfig):
    name = "hygie.phishing"
    label = "phishing"
    verbose_name = "Simulations d'hameçonnage"

    def ready(self):
        from hygie.core.tasks import register_housekeeping
        from hygie.phishing.tasks import complete_observed

        register_housekeeping("simulations_completed", complete_observed)
