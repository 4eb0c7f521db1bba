"""Reading trained models: a job of the user's with a checkpoint on disk."""

from __future__ import annotations

import re
from pathlib import Path

from ganweb.core.ids import parse_id
from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Job

STEP_FILE = re.compile(r"step_(\d{7,})\.pt")


def model_checkpoint_path(job: Job, step: int | None = None) -> Path:
    """Where the checkpoint of ``step`` (None: the latest) lives."""
    folder = job_media_dir(job.pk) / "checkpoints"
    return folder / ("latest.pt" if step is None else f"step_{int(step):07d}.pt")


def model_checkpoint_steps(job: Job) -> list[int]:
    """The steps kept as step_XXXXXXX.pt, oldest first."""
    folder = job_media_dir(job.pk) / "checkpoints"
    if not folder.is_dir():
        return []
    found = (STEP_FILE.fullmatch(path.name) for path in folder.iterdir())
    return sorted(int(match[1]) for match in found if match)


def model_has_checkpoint(job: Job) -> bool:
    return model_checkpoint_path(job).is_file()


def model_for_user(user, job_id) -> Job | None:
    """The user's job when it has a checkpoint to sample from; None for foreign,
    missing and not-yet-checkpointed jobs alike.

    A plain owner-scoped read: unlike jobs.selectors.job_for_user it does not
    sweep lost workers first (two UPDATEs), which the hot sampling path and its
    latency budget do not need: a checkpoint samples the same in any state.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    job_id = parse_id(job_id)
    if job_id is None:
        return None
    job = Job.objects.filter(owner=user, pk=job_id).first()
    if job is None or not model_has_checkpoint(job):
        return None
    return job
