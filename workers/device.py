"""Which devices this worker process owns, resolved once per process.

``GAN_WORKER_DEVICES=cuda:0,cuda:1`` gives a training worker several devices
(a job may then train on up to that many at once, one rank per device);
``GAN_WORKER_DEVICES=all`` gives it every GPU the process sees (a container
that was handed all of a machine's GPUs). Without it the worker owns the one
``GAN_WORKER_DEVICE`` names, as before.
"""

from __future__ import annotations

import functools
import os


class WorkerDevicesError(ValueError):
    """GAN_WORKER_DEVICES names devices one job cannot train on together."""


@functools.cache
def worker_devices() -> tuple[str, ...]:
    """The torch devices this worker owns, in rank order ("cpu", "cuda:0", ...)."""
    listed = [d.strip() for d in os.environ.get("GAN_WORKER_DEVICES", "").split(",")]
    listed = [d for d in listed if d]
    if not listed:
        return (worker_device(),)
    if listed == ["all"]:
        return _every_gpu()
    from gan_core.devices import resolve_device

    devices = tuple(str(resolve_device(name)) for name in listed)
    kinds = {device.split(":")[0] for device in devices}
    if len(kinds) > 1:
        raise WorkerDevicesError(f"GAN_WORKER_DEVICES mixes {sorted(kinds)}")
    cuda = [d for d in devices if d.startswith("cuda")]
    if len(set(cuda)) != len(cuda):
        raise WorkerDevicesError("GAN_WORKER_DEVICES names a GPU twice")
    return devices


def _every_gpu() -> tuple[str, ...]:
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise WorkerDevicesError(
            "GAN_WORKER_DEVICES=all found no CUDA device in this process "
            "(is the container given the GPUs?)"
        )
    return tuple(f"cuda:{index}" for index in range(count))


@functools.cache
def worker_device() -> str:
    """The torch device a single-device job trains on ("cpu", "cuda:0", ...)."""
    if os.environ.get("GAN_WORKER_DEVICES", "").strip():
        return worker_devices()[0]
    requested = os.environ.get("GAN_WORKER_DEVICE", "auto")
    from gan_core.devices import resolve_device

    return str(resolve_device(requested))


def device_label(device: str) -> str:
    """A device with its hardware name, as people read it."""
    if device.startswith("cuda"):
        import torch

        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return device


@functools.cache
def worker_device_label() -> str:
    """The device with its hardware name, as /healthz shows it."""
    return device_label(worker_device())


@functools.cache
def worker_device_labels() -> tuple[str, ...]:
    return tuple(device_label(device) for device in worker_devices())
