"""A model row with checkpoint files that are never loaded (requests fail first)."""

from __future__ import annotations

import shutil

import pytest

from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Job


@pytest.fixture
def model(alice, media_root):
    """alice's job with ``latest.pt`` and ``step_0000002.pt`` (plain bytes)."""
    job = Job.objects.create(
        owner=alice, data_ref="builtin:shapes", family="dcgan", config={}
    )
    folder = job_media_dir(job.pk) / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.pt").write_bytes(b"not loaded in these tests")
    (folder / "step_0000002.pt").write_bytes(b"step two")
    yield job
    shutil.rmtree(job_media_dir(job.pk), ignore_errors=True)
