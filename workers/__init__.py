"""Celery workers: the Celery app and the tasks that run gan_core for the web."""
