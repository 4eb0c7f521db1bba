"""Datasets whose processing worker died go back to the queue.

A worker killed mid-upload-processing leaves its dataset in "processing" and
its message unacknowledged until the broker's visibility timeout (an hour).
While a worker processes a dataset it touches the row's ``updated_at`` every
few seconds (``ProcessingHeartbeat``); the periodic sweep puts rows that went
quiet for ``GAN_DATASET_STALE_SECONDS`` back to pending and queues them again.
Processing starts from the kept upload each time, so a second run is safe.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from ganweb.datasets.models import Dataset, DatasetState

log = logging.getLogger(__name__)


def stale_seconds() -> float:
    return float(getattr(settings, "GAN_DATASET_STALE_SECONDS", 120))


def dataset_touch(dataset_id: int) -> bool:
    """Mark a dataset's processing alive now; False once it is not processing."""
    return bool(
        Dataset.objects.filter(pk=dataset_id, state=DatasetState.PROCESSING).update(
            updated_at=timezone.now()
        )
    )


class ProcessingHeartbeat(threading.Thread):
    """Touches the row while the worker processes it (see the module's note)."""

    def __init__(self, dataset_id: int):
        super().__init__(name=f"heartbeat-dataset-{dataset_id}", daemon=True)
        self.dataset_id = dataset_id
        self.finished = threading.Event()
        self.interval = max(0.2, stale_seconds() / 4)

    def run(self) -> None:
        try:
            while not self.finished.wait(self.interval):
                try:
                    if not dataset_touch(self.dataset_id):
                        return
                except DatabaseError as exc:  # try again at the next beat
                    log.warning("dataset %s heartbeat: %s", self.dataset_id, exc)
                    close_old_connections()
        finally:
            close_old_connections()

    def __enter__(self) -> ProcessingHeartbeat:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.finished.set()
        self.join(timeout=10)


def datasets_requeue_stalled(*, older_than_s: float | None = None) -> int:
    """Queue again the datasets stuck in processing with no sign of life."""
    from ganweb.datasets.services import enqueue_processing

    quiet = stale_seconds() if older_than_s is None else older_than_s
    cutoff = timezone.now() - timedelta(seconds=quiet)
    requeued = 0
    for dataset_id in Dataset.objects.filter(
        state=DatasetState.PROCESSING, updated_at__lt=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            # Conditional: a heartbeat that came meanwhile keeps it where it is.
            if Dataset.objects.filter(
                pk=dataset_id, state=DatasetState.PROCESSING, updated_at__lt=cutoff
            ).update(state=DatasetState.PENDING, progress=0.0):
                log.warning(
                    "dataset %s stalled in processing: queued again", dataset_id
                )
                transaction.on_commit(lambda pk=dataset_id: enqueue_processing(pk))
                requeued += 1
    return requeued
