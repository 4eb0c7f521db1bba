"""Alice's things, one of every kind a URL can name, with real files behind them."""

from __future__ import annotations

import io
import secrets
import uuid

import pytest
from PIL import Image

MARKER = f"alice-private-{secrets.token_hex(4)}"


def png_bytes(color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A real gan_core checkpoint of a few steps (trained once per session)."""
    from gan_core.config import config_from_dict
    from gan_core.trainer import train

    out = tmp_path_factory.mktemp("tiny-run")
    config = config_from_dict(
        "gan", {"steps": 4, "batch_size": 16, "checkpoint_every": 4, "seed": 1}
    )
    train(config, data="builtin:ring8", out_dir=out, device="cpu")
    return (out / "checkpoints" / "latest.pt").read_bytes()


@pytest.fixture
def alice_things(alice, media_root, tiny_checkpoint):
    """Returns a dict of alice's objects; every name carries MARKER."""
    from ganweb.datasets.models import Dataset, DatasetState
    from ganweb.datasets.services import dataset_dir
    from ganweb.gallery.models import GalleryItem
    from ganweb.gallery.selectors import gallery_media_dir
    from ganweb.gallery.services import gallery_create, gallery_share
    from ganweb.jobs.data_sources import job_media_dir
    from ganweb.jobs.models import Job, JobState

    dataset = Dataset.objects.create(
        owner=alice,
        name=f"{MARKER} dataset",
        state=DatasetState.READY,
        kind="flat",
        image_count=8,
    )
    folder = dataset_dir(dataset.pk)
    (folder / "thumbs").mkdir(parents=True, exist_ok=True)
    (folder / "preview.png").write_bytes(png_bytes())
    (folder / "thumbs" / "0000.png").write_bytes(png_bytes())

    job = Job.objects.create(
        owner=alice,
        name=f"{MARKER} job",
        data_ref="builtin:ring8",
        family="gan",
        config={"steps": 4},
        state=JobState.FINISHED,
        step=4,
        total_steps=4,
    )
    job_dir = job_media_dir(job.pk)
    (job_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    (job_dir / "samples").mkdir(parents=True, exist_ok=True)
    (job_dir / "checkpoints" / "latest.pt").write_bytes(tiny_checkpoint)
    (job_dir / "samples" / "step_0000004.png").write_bytes(png_bytes())

    gallery = gallery_create(owner=alice, title=f"{MARKER} gallery")
    gallery_media_dir(gallery.pk).mkdir(parents=True, exist_ok=True)
    (gallery_media_dir(gallery.pk) / "item.png").write_bytes(png_bytes())
    item = GalleryItem.objects.create(
        gallery=gallery,
        title=f"{MARKER} item",
        kind="image",
        job=job,
        file=f"{gallery.pk}/item.png",
        content_type="image/png",
    )
    link = gallery_share(gallery=gallery)
    from ganweb.playground.projections import projection_update

    projection = projection_update(
        uuid.uuid4().hex, owner=alice.pk, model=job.pk, state="done", steps=4
    )
    return {
        "projection": projection,
        "job": job,
        "dataset": dataset,
        "gallery": gallery,
        "item": item,
        "share": link,
        "secrets": [MARKER, link.token],
    }
