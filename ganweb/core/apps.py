from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ganweb.core"
