"""A remote-control command so the web can ask each worker which devices it
owns, and the training queues a worker with several devices also serves."""

from celery.signals import celeryd_after_setup, worker_init
from celery.worker.control import inspect_command

from workers.queues import TRAINING, training_queues


@worker_init.connect
def _resolve_device_at_start(**_kwargs) -> None:
    """Import torch and pick the device before the worker takes any message, so
    health checks get an instant answer and a bad GAN_WORKER_DEVICE fails early."""
    from workers.device import worker_device_label, worker_device_labels

    worker_device_label()
    worker_device_labels()


@celeryd_after_setup.connect
def _serve_multi_device_queues(sender, instance, **_kwargs) -> None:
    """A training worker owning N devices also takes the jobs of 2..N devices."""
    queues = instance.app.amqp.queues
    if TRAINING not in (queues.consume_from or {}):
        return
    from workers.device import worker_devices

    for name in training_queues(len(worker_devices()))[1:]:
        queues.select_add(name)


@inspect_command()
def device_info(state):
    from workers.device import worker_device_label, worker_device_labels

    queues = sorted(queue.name for queue in state.consumer.task_consumer.queues)
    return {
        "device": worker_device_label(),
        "devices": list(worker_device_labels()),
        "queues": queues,
    }
