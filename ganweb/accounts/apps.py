from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ganweb.accounts"

    def ready(self):
        from ganweb.accounts import signals  # noqa: F401 - connects the receivers
