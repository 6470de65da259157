from django.apps import AppConfig


class PhishingConfig(AppConfig):
    name = "hygie.phishing"
    label = "phishing"
    verbose_name = "Simulations d'hameçonnage"

    def ready(self):
        from hygie.core.tasks import register_housekeeping
        from hygie.phishing.privacy import erase_expired_individual_data

        register_housekeeping("simulation_individual_data", erase_expired_individual_data)
