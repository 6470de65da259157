from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hygie.accounts"
    label = "accounts"
    verbose_name = "Comptes"

    def ready(self):
        from hygie.accounts import signals  # noqa: F401
        from hygie.accounts.password_reset import prune_dead_links
        from hygie.core.tasks import register_housekeeping

        register_housekeeping("password_reset_links", prune_dead_links)
