"""Which training queue a job goes to: one queue per device count.

A job on one device goes to ``training``; a job on N > 1 devices to
``training-N``. A training worker owning D devices consumes ``training`` and
``training-2`` ... ``training-D`` (added when it starts, workers/control.py),
so the broker only ever hands a job to a worker that can run it: no worker
takes a job it must refuse and put back, and a job nobody can run waits in
its queue (the web refuses one asking more devices than any online worker
owns). A worker started with ``-Q training-4`` alone takes only 4-device jobs.
"""

from __future__ import annotations

TRAINING = "training"


def training_queue(gpus: int) -> str:
    """The queue of a job on ``gpus`` devices."""
    return TRAINING if gpus <= 1 else f"{TRAINING}-{gpus}"


def training_queues(devices: int) -> list[str]:
    """Every queue a worker owning ``devices`` devices can serve."""
    return [training_queue(n) for n in range(1, max(1, devices) + 1)]


def is_training_queue(name: str) -> bool:
    head, _, count = name.partition("-")
    return head == TRAINING and (not count or count.isdigit())
