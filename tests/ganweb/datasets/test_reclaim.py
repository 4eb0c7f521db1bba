"""The sweep gives datasets whose processing went quiet back to the queue."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from ganweb.datasets.models import Dataset, DatasetState
from ganweb.datasets.reclaim import (
    ProcessingHeartbeat,
    dataset_touch,
    datasets_requeue_stalled,
)

pytestmark = pytest.mark.django_db


def processing_since(owner, name: str, seconds_ago: float) -> Dataset:
    dataset = Dataset.objects.create(
        owner=owner, name=name, state=DatasetState.PROCESSING, progress=40.0
    )
    then = timezone.now() - timedelta(seconds=seconds_ago)
    Dataset.objects.filter(pk=dataset.pk).update(updated_at=then)
    return dataset


def test_a_quiet_dataset_goes_back_to_pending_and_is_queued_once(
    alice, settings, django_capture_on_commit_callbacks
):
    settings.GAN_DATASET_STALE_SECONDS = 60
    quiet = processing_since(alice, "quiet", 300)
    busy = processing_since(alice, "busy", 5)
    ready = Dataset.objects.create(owner=alice, name="ready", state=DatasetState.READY)
    Dataset.objects.filter(pk=ready.pk).update(
        updated_at=timezone.now() - timedelta(days=1)
    )
    with django_capture_on_commit_callbacks() as queued:
        assert datasets_requeue_stalled() == 1
    assert len(queued) == 1
    quiet.refresh_from_db(), busy.refresh_from_db(), ready.refresh_from_db()
    assert (quiet.state, quiet.progress) == (DatasetState.PENDING, 0.0)
    assert busy.state == DatasetState.PROCESSING and busy.progress == 40.0
    assert ready.state == DatasetState.READY
    with django_capture_on_commit_callbacks() as queued:
        assert datasets_requeue_stalled() == 0  # pending now: not queued twice
    assert queued == []


@pytest.mark.django_db(transaction=True)  # the heartbeat has its own connection
def test_the_heartbeat_keeps_a_slow_dataset_from_being_reclaimed(alice, settings):
    settings.GAN_DATASET_STALE_SECONDS = 0.8  # beats every 0.2 s
    dataset = processing_since(alice, "slow", 0)
    with ProcessingHeartbeat(dataset.pk):
        for _ in range(5):
            threading.Event().wait(0.3)
            assert datasets_requeue_stalled() == 0
    dataset.refresh_from_db()
    last_beat = dataset.updated_at
    assert timezone.now() - last_beat < timedelta(seconds=0.8)
    threading.Event().wait(0.5)
    dataset.refresh_from_db()
    assert dataset.updated_at == last_beat  # stopped with the block
    Dataset.objects.filter(pk=dataset.pk).update(state=DatasetState.FAILED)
    assert dataset_touch(dataset.pk) is False  # not processing: nothing to touch
