from django.apps import AppConfig


class AwarenessConfig(AppConfig):
    name = "hygie.awareness"
    label = "awareness"
    verbose_name = "Sensibilisation"

    def ready(self):
        from hygie.awareness import tasks
        from hygie.core.tasks import register_housekeeping

        # Newcomers first, so that their invitation can follow in the same run.
        register_housekeeping("awareness_onboarding", tasks.assign_newcomers)
        register_housekeeping("awareness_invitations", tasks.send_invitations)
        register_housekeeping("awareness_reminders", tasks.send_reminders)
        register_housekeeping("awareness_coverage_facts", tasks.refresh_coverage)
        register_housekeeping("awareness_xapi", tasks.push_statements)
