from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "hygie.access"
    label = "access"
    verbose_name = "Accès Zero Trust"

    def ready(self):
        from hygie.access.pdp import context, log
        from hygie.access.review import store
        from hygie.core.tasks import register_housekeeping

        context.connect_signals()
        register_housekeeping("access_decision_log_purge", log.purge)
        register_housekeeping("access_review_orphan_files", store.sweep_orphans)
