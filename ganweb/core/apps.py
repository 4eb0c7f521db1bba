from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ganweb.core"

    def ready(self):
        # ``<id:...>`` in every app's URLs (HTTP and WebSocket) needs its
        # converter registered before any URLconf is imported.
        from ganweb.core import ids  # noqa: F401
