from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "hygie.crisis"
    label = "crisis"
    verbose_name = "Gestion de crise"

    def ready(self):
        from hygie.core.tasks import register_housekeeping, register_worker_startup
        from hygie.crisis.tasks import restart_running_exercises

        register_worker_startup("crisis_release", restart_running_exercises)
        register_housekeeping("crisis_release", restart_running_exercises)
