"""Every task but training runs under a time limit (a Celery annotation).

Named in settings.CELERY_TASK_ANNOTATIONS. The soft limit of a task is its
entry in settings.GAN_TASK_TIME_LIMITS, else GAN_LIGHT_TASK_TIME_LIMIT, so a
task added later is limited without anyone remembering to; the hard limit
follows GAN_HARD_LIMIT_GRACE seconds later. Training runs for hours in the
threads pool and stops itself (GAN_JOB_TIME_LIMIT_SECONDS).
"""

from __future__ import annotations

UNLIMITED = ("workers.tasks.training.",)


def task_time_limits(name: str) -> dict | None:
    """{soft_time_limit, time_limit} in seconds for the task ``name``, or None."""
    from django.conf import settings

    if name.startswith(UNLIMITED):
        return None
    soft = settings.GAN_TASK_TIME_LIMITS.get(name, settings.GAN_LIGHT_TASK_TIME_LIMIT)
    return {"soft_time_limit": soft, "time_limit": soft + settings.GAN_HARD_LIMIT_GRACE}


class TimeLimits:
    """The annotation object Celery asks once per task class."""

    def annotate(self, task) -> dict | None:
        return task_time_limits(task.name)

    def annotate_any(self) -> None:
        return None
