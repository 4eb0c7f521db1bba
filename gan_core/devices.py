"""Choosing the torch device a run trains on."""

from __future__ import annotations

import torch


class DeviceError(ValueError):
    """The requested device does not exist on this machine."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``: "auto", "cpu", "cuda", "cuda:N" or "mps".

    "auto" prefers CUDA, then Apple's MPS, then the CPU. Raises ``DeviceError``
    with a one-line reason when the named device is missing.
    """
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise DeviceError("device 'mps' is not available on this machine")
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device '{name}' requested but CUDA is not available")
        index = name.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            count = torch.cuda.device_count()
            raise DeviceError(f"device '{name}' does not exist ({count} CUDA devices)")
        return torch.device(name)
    raise DeviceError(f"unknown device '{name}' (use auto, cpu, cuda, cuda:N or mps)")
