"""A remote-control command so the web can ask each worker which device it owns."""

from celery.signals import worker_init
from celery.worker.control import inspect_command


@worker_init.connect
def _resolve_device_at_start(**_kwargs) -> None:
    """Import torch and pick the device before the worker takes any message, so
    health checks get an instant answer and a bad GAN_WORKER_DEVICE fails early."""
    from workers.device import worker_device_label

    worker_device_label()


@inspect_command()
def device_info(state):
    from workers.device import worker_device_label

    queues = sorted(queue.name for queue in state.consumer.task_consumer.queues)
    return {"device": worker_device_label(), "queues": queues}
