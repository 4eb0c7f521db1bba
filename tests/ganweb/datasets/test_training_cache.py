"""Training caches of uploads: built ahead when ready, progress on the dataset's
socket, built first (visibly) by a job, gone with the dataset, swept by size."""

from __future__ import annotations

import contextlib
import os
import subprocess

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from PIL import Image

from ganweb.core.realtime import job_group
from ganweb.datasets.models import Dataset
from ganweb.datasets.selectors import dataset_group
from ganweb.datasets.services import dataset_delete, dataset_training_path
from ganweb.datasets.training_cache import (
    caches_sweep,
    dataset_cache_dir,
    dataset_cache_load,
    enqueue_cache_build,
)
from ganweb.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def ready_dataset(owner, n=10, size=20, name="faces") -> Dataset:
    dataset = Dataset.objects.create(
        owner=owner, name=name, state="ready", kind="images", image_count=n
    )
    folder = dataset_training_path(dataset=dataset)
    folder.mkdir(parents=True)
    for i in range(n):
        shade = (i * 23) % 256
        Image.new("RGB", (size, size), (shade, 255 - shade, 9)).save(
            folder / f"{i:05d}.png"
        )
    return dataset


@contextlib.contextmanager
def listening(group: str):
    """A real channel in ``group`` of the Redis channel layer; yields drain()."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    async def _receive_all():
        import asyncio

        out = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=2)
            except TimeoutError:
                return out
            out.append(message["event"])

    try:
        yield lambda: async_to_sync(_receive_all)()
    finally:
        async_to_sync(layer.group_discard)(group, channel)


@contextlib.contextmanager
def eager_celery():
    from workers.celery_app import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_ready_dataset_gets_caches_of_its_families_sizes_built_ahead(alice, media):
    dataset = ready_dataset(alice)
    with listening(dataset_group(dataset.pk)) as drain, eager_celery():
        enqueue_cache_build(dataset.pk)  # as the ingest task does on ready
        events = drain()
    cache = [e for e in events if e["type"] == "dataset.cache"]
    sizes = sorted({e["image_size"] for e in cache if e["state"] == "ready"})
    assert sizes == [28, 64, 256]  # gan, dcgan-class, stylegan2 defaults
    building = [e for e in cache if e["state"] == "building"]
    assert building and all(e["total"] == 10 for e in building)
    assert len(list(dataset_cache_dir(dataset.pk).glob("*.gcache"))) == 3


def test_deleting_a_dataset_removes_its_caches(alice, media):
    dataset = ready_dataset(alice)
    dataset_cache_load(dataset=dataset, image_size=16)
    cache_dir = dataset_cache_dir(dataset.pk)
    assert list(cache_dir.glob("*.gcache"))
    dataset_delete(dataset=dataset)
    assert not cache_dir.exists()


def test_sweep_removes_least_recently_used_caches_beyond_the_limit(
    alice, media, settings
):
    old, new = ready_dataset(alice, name="old"), ready_dataset(alice, name="new")
    dataset_cache_load(dataset=old, image_size=16)
    (old_file,) = dataset_cache_dir(old.pk).glob("*.gcache")
    os.utime(old_file, (1, 1))  # used long ago
    dataset_cache_load(dataset=new, image_size=16)
    (new_file,) = dataset_cache_dir(new.pk).glob("*.gcache")
    old_bytes = old_file.stat().st_size
    settings.GAN_DATA_CACHE_MAX_BYTES = new_file.stat().st_size
    assert caches_sweep() == old_bytes
    assert not old_file.exists() and new_file.exists()


def _job(owner, dataset, steps=2):
    return Job.objects.create(
        owner=owner,
        data_ref=str(dataset.pk),
        dataset=dataset,
        family="dcgan",
        config={
            "image_size": 16,
            "batch_size": 4,
            "steps": steps,
            "g_channels": 8,
            "d_channels": 8,
            "sample_every": 100,
            "checkpoint_every": 100,
        },
        total_steps=steps,
    )


def test_job_builds_a_missing_cache_first_and_says_so_on_its_page(alice, media):
    from ganweb.jobs.training import job_run

    dataset = ready_dataset(alice, n=12)
    job = _job(alice, dataset)
    with listening(job_group(job.pk)) as drain:
        assert job_run(job_id=job.pk, worker="test", device="cpu") == "finished"
        events = drain()
    types = [e["type"] for e in events]
    assert "preparing" in types and types.index("preparing") < types.index("started")
    last = [e for e in events if e["type"] == "preparing"][-1]
    assert (last["image_size"], last["done"], last["total"]) == (16, 12, 12)
    assert len(list(dataset_cache_dir(dataset.pk).glob("*-16px-*.gcache"))) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_full_disk_fails_the_job_clearly_and_the_dataset_stays_usable(alice, media):
    from ganweb.jobs.training import job_run

    dataset = ready_dataset(alice, n=12, size=64)
    cache_dir = dataset_cache_dir(dataset.pk)
    cache_dir.mkdir(parents=True)
    mount = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(cache_dir)]
    mounted = subprocess.run(mount, capture_output=True)
    if mounted.returncode != 0:
        pytest.fail(f"mounting a 64 KB tmpfs failed: {mounted.stderr!r}")
    try:
        job = _job(alice, dataset)
        job.config = {**job.config, "image_size": 64}
        job.save()
        assert job_run(job_id=job.pk, worker="test", device="cpu") == "failed"
        job.refresh_from_db()
        assert "no space left while writing the training cache" in job.error
        left = list(cache_dir.glob("*.gcache")) + list(cache_dir.glob("*.tmp-*"))
        assert not left  # no half cache (an empty lock file may stay)
    finally:
        subprocess.run(["umount", str(cache_dir)], check=True)
    dataset.refresh_from_db()
    assert dataset.state == "ready"
    again = _job(alice, dataset)
    assert job_run(job_id=again.pk, worker="test", device="cpu") == "finished"
