from django.apps import AppConfig


class PhishingConfig(AppConfig):
    name = "hygie.phishing"
    label = "phishing"
    verbose_name = "Simulations d'hameçonnage"

    def ready(self):
        from hygie.core.tasks import register_housekeeping, register_worker_startup
        from hygie.phishing.privacy import erase_expired_individual_data
        from hygie.phishing.tasks import complete_observed, restart_stalled_sending

        register_housekeeping("simulations_completed", complete_observed)
        register_housekeeping("simulations_restarted", restart_stalled_sending)
        register_housekeeping("simulation_individual_data", erase_expired_individual_data)
        register_worker_startup("simulations_restarted", restart_stalled_sending)
