"""Dataset processing tasks (light queue): thin, they take ids and call services."""

from celery import shared_task


@shared_task(name="workers.tasks.datasets.process_dataset", acks_late=True)
def process_dataset(dataset_id: int) -> str:
    """Unpack, verify and store one uploaded dataset (see dataset_process)."""
    from ganweb.datasets.services import dataset_process

    return dataset_process(dataset_id=dataset_id)
