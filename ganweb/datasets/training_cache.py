"""Training caches of uploaded datasets (gan_core.data.cache), on the web side.

A dataset's caches live in MEDIA_ROOT/datasets/<id>/cache/, so every worker
that shares media reads the same file and deleting the dataset removes them.
When a dataset becomes ready, the light worker builds the cache for the image
size each suitable family defaults to; a training job whose cache is missing
builds it first. Both publish "preparing 128 px: 3,400 / 20,000" to the dataset
page's socket. A failed build (a full disk) never changes the dataset: it stays
ready and the next job tries again. A periodic sweep keeps all caches under
GAN_DATA_CACHE_MAX_BYTES, least recently used first.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ganweb.datasets.models import Dataset, DatasetState
from ganweb.datasets.selectors import dataset_group, families_for_kind
from ganweb.datasets.services import (
    dataset_dir,
    dataset_training_path,
    dataset_training_spec,
)

log = logging.getLogger(__name__)

CACHE_DIR = "cache"
PUBLISH_EVERY_S = 0.5


def dataset_cache_dir(dataset_id: int) -> Path:
    """MEDIA_ROOT/datasets/<id>/cache: the dataset's training caches."""
    return dataset_dir(dataset_id) / CACHE_DIR


def cache_event(dataset_id: int, image_size: int, state: str, **figures) -> dict:
    """The live event of a cache build: state is building, ready or failed."""
    return {
        "type": "dataset.cache",
        "id": int(dataset_id),
        "image_size": int(image_size),
        "state": state,
        **figures,
    }


class CacheProgress:
    """``progress(done, total)`` of a build, published at most twice a second;
    ``also`` receives every call (a job forwards it to its own page)."""

    def __init__(self, dataset_id: int, image_size: int, also=None):
        self.dataset_id, self.image_size, self.also = dataset_id, image_size, also
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if self.also is not None:
            self.also(done, total)
        now = time.monotonic()
        if done < total and now - self.last < PUBLISH_EVERY_S:
            return
        self.last = now
        self.publish("building", done=done, total=total)

    def publish(self, state: str, **figures) -> None:
        from ganweb.core.realtime import publish

        event = cache_event(self.dataset_id, self.image_size, state, **figures)
        try:
            publish(dataset_group(self.dataset_id), event)
        except Exception:  # live updates are a nicety; the cache is the truth
            log.warning("could not publish cache progress", exc_info=True)


def dataset_cache_load(*, dataset: Dataset, image_size: int, also=None):
    """The dataset's images at ``image_size`` through its cache (built first
    when missing, visibly). Raises gan_core's DataError (a full disk, say)."""
    from gan_core.data.loading import load_data

    progress = CacheProgress(dataset.pk, image_size, also)
    data = load_data(
        dataset_training_spec(dataset=dataset),
        image_size=image_size,
        cache_dir=dataset_cache_dir(dataset.pk),
        progress=progress,
    )
    if progress.last:  # it was built here: say it is done
        progress.publish("ready", done=len(data), total=len(data))
    return data


def dataset_cache_sizes(kind: str) -> list[int]:
    """The image sizes the families suited to ``kind`` train at by default."""
    from gan_core.config import config_from_dict

    sizes = set()
    for family in families_for_kind(kind):
        size = getattr(config_from_dict(family, {}), "image_size", 0)
        if size:
            sizes.add(int(size))
    return sorted(sizes)


def dataset_caches_prepare(*, dataset_id: int) -> list[str]:
    """Build the caches a ready dataset's families will ask for; per size,
    "ready" or the reason it failed (the dataset itself never changes)."""

    dataset = Dataset.objects.filter(pk=dataset_id, state=DatasetState.READY).first()
    if dataset is None:
        return []
    outcomes = []
    for size in dataset_cache_sizes(dataset.kind):
        progress = CacheProgress(dataset_id, size)
        try:
            cache = _open_or_build(dataset, size, progress)
        except (ValueError, OSError) as exc:  # DataError is a ValueError
            log.warning("dataset %s: no %s px cache: %s", dataset_id, size, exc)
            progress.publish("failed", error=str(exc))
            outcomes.append(str(exc))
            continue
        progress.publish("ready", done=cache.count_all(), total=cache.count_all())
        outcomes.append("ready")
    return outcomes


def _open_or_build(dataset: Dataset, size: int, progress):
    """The dataset's cache at ``size``: paired sets through gan_core.data.paired."""
    from gan_core.data.cache import open_or_build
    from gan_core.data.paired import open_or_build_pairs

    where = dataset_cache_dir(dataset.pk)
    path = dataset_training_path(dataset=dataset)
    if dataset.kind == "pairs" and dataset.paired_layout:
        return open_or_build_pairs(
            path,
            dataset.paired_layout,
            image_size=size,
            cache_dir=where,
            progress=progress,
        )
    return open_or_build(path, image_size=size, cache_dir=where, progress=progress)


def enqueue_cache_build(dataset_id: int) -> None:
    """Queue building a dataset's caches on the light queue, after the commit."""
    if not getattr(settings, "GAN_DATA_CACHE_AHEAD", True):
        return
    from workers.tasks.datasets import prepare_dataset_caches

    transaction.on_commit(
        lambda: prepare_dataset_caches.apply_async(args=[dataset_id], queue="light")
    )


def caches_sweep() -> int:
    """Least recently used caches go until all fit GAN_DATA_CACHE_MAX_BYTES."""
    from gan_core.data.cache import sweep_caches

    root = Path(settings.MEDIA_ROOT) / "datasets"
    return sweep_caches([root], int(settings.GAN_DATA_CACHE_MAX_BYTES))
