"""Augmentation value of a model (light queue): thin, it calls the service."""

from celery import shared_task


@shared_task(name="workers.tasks.augmentation.evaluate_augmentation", acks_late=True)
def evaluate_augmentation(job_id: int, step: int | None = None) -> str:
    """Real / synthetic / real+synthetic accuracy (see augmentation_run)."""
    from ganweb.playground.augmentation import augmentation_run

    return augmentation_run(job_id=job_id, step=step)
