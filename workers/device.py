"""Which device this worker process owns, resolved once per process."""

from __future__ import annotations

import functools
import os


@functools.cache
def worker_device() -> str:
    """The torch device string this worker trains on ("cpu", "cuda:0", ...)."""
    requested = os.environ.get("GAN_WORKER_DEVICE", "auto")
    from gan_core.devices import resolve_device

    return str(resolve_device(requested))


@functools.cache
def worker_device_label() -> str:
    """The device with its hardware name, as /healthz shows it."""
    device = worker_device()
    if device.startswith("cuda"):
        import torch

        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return device
