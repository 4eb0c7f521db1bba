"""GAN Studio web project: settings, URLs, ASGI and the Django apps."""

# Load the Celery app whenever Django loads, so tasks queued from the web use
# our broker settings rather than Celery's default app.
from workers.celery_app import app as celery_app

__all__ = ("celery_app",)
