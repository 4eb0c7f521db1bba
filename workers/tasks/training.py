"""The training task: one job at a time on the worker's own device (or, for a
job asking for several, on as many of the devices it owns)."""

from celery import shared_task
from celery.signals import worker_ready, worker_shutting_down


@shared_task(
    bind=True,
    name="workers.tasks.training.train_job",
    acks_late=True,
    reject_on_worker_lost=True,
)
def train_job(self, job_id: int) -> str:
    from ganweb.jobs.training import job_run
    from workers.device import (
        worker_device,
        worker_device_label,
        worker_device_labels,
        worker_devices,
    )

    return job_run(
        job_id=job_id,
        worker=self.request.hostname or "",
        device=worker_device(),
        device_label=worker_device_label(),
        devices=worker_devices(),
        device_labels=worker_device_labels(),
    )


@worker_shutting_down.connect
def _checkpoint_and_hand_back(**_kwargs) -> None:
    from ganweb.jobs.training import SHUTDOWN

    SHUTDOWN.set()


@worker_ready.connect
def _resume_interrupted_jobs(sender=None, **_kwargs) -> None:
    """A training worker that comes up picks up jobs a lost worker left behind."""
    queues = {queue.name for queue in getattr(sender.task_consumer, "queues", [])}
    if "training" not in queues:  # (a -Q training-N worker leaves this to others)
        return
    from ganweb.jobs.leases import jobs_mark_interrupted
    from ganweb.jobs.services import jobs_requeue_interrupted

    jobs_mark_interrupted()
    jobs_requeue_interrupted()
