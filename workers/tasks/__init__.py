"""Celery tasks. Tasks take ids, stay thin, and call services."""
