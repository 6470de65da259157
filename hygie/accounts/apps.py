from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hygie.accounts"
    label = "accounts"
    verbose_name = "Comptes"

    def ready(self):
        from hygie.accounts import signals  # noqa: F401
