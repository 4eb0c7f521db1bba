"""Periodic housekeeping, sent by Celery beat (a process of its own)."""

from celery import shared_task


@shared_task(name="workers.tasks.maintenance.mark_lost_jobs")
def mark_lost_jobs() -> int:
    """Running jobs whose worker stopped renewing its lease become ``interrupted``;
    after a grace period they go back to the queue and resume by themselves."""
    from django.conf import settings

    from ganweb.jobs.leases import jobs_mark_interrupted
    from ganweb.jobs.services import jobs_requeue_interrupted

    marked = jobs_mark_interrupted()
    jobs_requeue_interrupted(older_than_s=settings.GAN_JOB_AUTO_RESUME_AFTER_SECONDS)
    return marked


@shared_task(name="workers.tasks.maintenance.requeue_stalled_datasets")
def requeue_stalled_datasets() -> int:
    """Datasets left in processing by a worker that died are queued again."""
    from ganweb.datasets.reclaim import datasets_requeue_stalled

    return datasets_requeue_stalled()


@shared_task(name="workers.tasks.maintenance.send_unsent_jobs")
def send_unsent_jobs() -> int:
    """Queued jobs whose task never reached the broker (it was down) are sent."""
    from ganweb.jobs.services import jobs_send_unsent

    return jobs_send_unsent()


@shared_task(name="workers.tasks.maintenance.sweep_data_caches")
def sweep_data_caches() -> int:
    """Training caches beyond GAN_DATA_CACHE_MAX_BYTES go, least recently used."""
    from ganweb.datasets.training_cache import caches_sweep

    return caches_sweep()
