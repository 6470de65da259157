from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_builtin_modules(sender, **kwargs):
    from hygie.awareness.content import load_builtin_modules

    load_builtin_modules()


class AwarenessConfig(AppConfig):
    name = "hygie.awareness"
    label = "awareness"
    verbose_name = "Sensibilisation"

    def ready(self):
        from hygie.awareness import tally, tasks
        from hygie.core.tasks import register_housekeeping

        post_migrate.connect(_load_builtin_modules, sender=self)
        # Newcomers first, so that their invitation can follow in the same run.
        register_housekeeping("awareness_onboarding", tasks.assign_newcomers)
        register_housekeeping("awareness_invitations", tasks.send_invitations)
        register_housekeeping("awareness_reminders", tasks.send_reminders)
        register_housekeeping("awareness_session_reminders", tasks.send_session_reminders)
        register_housekeeping("awareness_kit_reminders", tasks.send_kit_reminders)
        register_housekeeping("awareness_coverage_facts", tasks.refresh_coverage)
        register_housekeeping("awareness_xapi", tasks.push_statements)
        # The progress tally's safety net, once a day (decision 0538).
        register_housekeeping("awareness_tally", tasks.check_tally)
        tally.connect()
