from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_builtin_scenarios(sender, **kwargs):
    from hygie.crisis.scenarios import load_builtin_scenarios

    load_builtin_scenarios()


class CrisisConfig(AppConfig):
    name = "hygie.crisis"
    label = "crisis"
    verbose_name = "Gestion de crise"

    def ready(self):
        from hygie.core.tasks import register_housekeeping, register_worker_startup
        from hygie.crisis.notifications import remind_notifications
        from hygie.crisis.tasks import restart_running_exercises

        post_migrate.connect(_load_builtin_scenarios, sender=self)
        register_worker_startup("crisis_release", restart_running_exercises)
        register_housekeeping("crisis_release", restart_running_exercises)
        register_housekeeping("crisis_notification_reminders", remind_notifications)
