"""The Celery app. Workers are started with one device each:

    GAN_WORKER_DEVICE=cuda:0 celery -A workers.celery_app worker -Q training -c 1

or with several, for jobs that train on more than one at once (README):

    GAN_WORKER_DEVICES=cuda:0,cuda:1 celery -A workers.celery_app worker -Q training

Settings come from Django's settings (the ``CELERY_`` names), so the web and the
workers always agree on the broker, the queues and the acknowledgement rules.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ganweb.settings")

TASK_MODULES = [
    "workers.tasks.diagnostics",
    "workers.tasks.datasets",
    "workers.tasks.training",
    "workers.tasks.maintenance",
    "workers.tasks.playground",
    "workers.tasks.evaluation",
    "workers.tasks.preflight",
    "workers.tasks.projection",
    "workers.tasks.checkpoints",
    "workers.tasks.directions",
    "workers.tasks.augmentation",
]

app = Celery("gan_studio", include=TASK_MODULES)
app.config_from_object("django.conf:settings", namespace="CELERY")

# Remote-control commands (device_info) register themselves on import.
import workers.control  # noqa: E402, F401
