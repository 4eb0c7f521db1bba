"""Tiny trained checkpoints for the playground and gallery tests.

Each family trains for two steps in this process (seconds on a CPU), once per
test session, and a Job row of the given owner points at a copy of it in the
media folder the live workers read.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

TINY = {"steps": 2, "batch_size": 4, "sample_every": 100, "checkpoint_every": 100}
FAMILIES = {
    "dcgan": ("builtin:shapes", {"image_size": 16, "g_channels": 8, "d_channels": 8}),
    "cgan": ("builtin:digits", {"image_size": 16, "g_channels": 8, "d_channels": 8}),
    "stylegan2": (
        "builtin:shapes",
        {
            "image_size": 16,
            "z_dim": 8,
            "w_dim": 8,
            "mapping_layers": 2,
            "channel_base": 64,
            "channel_max": 8,
        },
    ),
    "cyclegan": (
        "builtin:shapes-ab",
        {"image_size": 16, "batch_size": 2, "ngf": 4, "ndf": 4, "n_blocks": 1},
    ),
    "pix2pix": (
        "builtin:shapes-paired",
        {"image_size": 16, "batch_size": 2, "ngf": 4, "ndf": 4},
    ),
}


@functools.cache
def tiny_checkpoint(family: str) -> Path:
    """A two-step checkpoint of ``family`` (trained once per process)."""
    from gan_core.config import config_from_dict
    from gan_core.trainer import train

    data, settings = FAMILIES[family]
    config = config_from_dict(family, {**TINY, **settings})
    out = Path(tempfile.mkdtemp(prefix=f"pg-{family}-"))
    return Path(train(config, data=data, out_dir=out, device="cpu").checkpoint)


def register_model(owner, family: str, *, state: str = "finished"):
    """A Job of ``owner`` whose checkpoints (latest and step 2) are the tiny ones."""
    from ganweb.jobs.data_sources import job_media_dir
    from ganweb.jobs.models import Job

    data, settings = FAMILIES[family]
    job = Job.objects.create(
        owner=owner,
        name=f"tiny {family}",
        data_ref=data,
        family=family,
        config={**TINY, **settings},
        state=state,
        step=2,
        total_steps=2,
    )
    folder = job_media_dir(job.pk) / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    source = tiny_checkpoint(family)
    shutil.copyfile(source, folder / "step_0000002.pt")
    shutil.copyfile(source, folder / "latest.pt")
    Job.objects.filter(pk=job.pk).update(
        latest_checkpoint=f"/jobs/{job.pk}/files/checkpoints/latest.pt"
    )
    job.refresh_from_db()
    return job
