"""Dataset processing tasks (light queue): thin, they take ids and call services."""

from celery import shared_task


@shared_task(name="workers.tasks.datasets.process_dataset", acks_late=True)
def process_dataset(dataset_id: int) -> str:
    """Unpack, verify and store one uploaded dataset (see dataset_process)."""
    from ganweb.datasets.services import dataset_process
    from ganweb.datasets.training_cache import enqueue_cache_build

    outcome = dataset_process(dataset_id=dataset_id)
    if outcome == "ready":
        enqueue_cache_build(dataset_id)
    return outcome


@shared_task(name="workers.tasks.datasets.prepare_dataset_caches", acks_late=True)
def prepare_dataset_caches(dataset_id: int) -> list[str]:
    """Build a ready dataset's training caches ahead of its first job."""
    from ganweb.datasets.training_cache import dataset_caches_prepare

    return dataset_caches_prepare(dataset_id=dataset_id)
