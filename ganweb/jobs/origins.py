"""Where a job's weights start: one of the user's models, or a model in a
gallery someone shared with them by link (the link grants that and nothing
more: the origin's job page, files and settings stay its owner's).

The web checks what the rows know (family, image size, channels) so a wrong
choice is a 400 with one line; the worker's gan_core checks every tensor. The
chosen checkpoint is linked into MEDIA_ROOT/origins/<job id>.pt when the job is
created, so the new job keeps its start even if the origin is deleted later.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from ganweb.core.ids import parse_id
from ganweb.jobs.models import Job


class OriginError(ValueError):
    """The origin cannot be used; the message is one line for the person."""


@dataclass(frozen=True)
class Origin:
    job: Job
    step: int | None  # None: the checkpoint the playground uses
    share: str  # the share token that granted it; "" for one's own model
    path: Path  # the checkpoint file
    given_label: str = ""  # a re-run keeps its parent's

    @property
    def label(self) -> str:
        if self.given_label:
            return self.given_label
        where = f"step {self.step}" if self.step is not None else "its latest step"
        return f"{self.job.name} (model {self.job.pk}, {where})"[:300]


def origin_checkpoint_path(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "origins" / f"{job_id}.pt"


def shared_job(token: str, job_id) -> Job | None:
    """The job if a live share link ``token`` shows an item drawn from it."""
    from ganweb.gallery.selectors import SHARED, gallery_by_token

    job_id = parse_id(job_id)
    if not token or job_id is None:
        return None
    gallery, status = gallery_by_token(str(token))
    if status != SHARED or not gallery.items.filter(job_id=job_id).exists():
        return None
    return Job.objects.filter(pk=job_id).first()


def origin_resolve(*, user, origin) -> Origin:
    """The Origin that ``origin`` ({"job": id, "step": n?, "share": token?})
    names for ``user``. Foreign models without a live share look missing."""
    from ganweb.playground.selectors import model_checkpoint_path

    if not isinstance(origin, dict) or "job" not in origin:
        raise OriginError('init_from: {"job": model id, "step": n, "share": token}')
    share = origin.get("share") or ""
    if not isinstance(share, str):
        raise OriginError("init_from.share: a share link's token")
    job_id = parse_id(origin["job"])
    job = Job.objects.filter(pk=job_id, owner=user).first() if job_id else None
    if job is None and share:
        job = shared_job(share, job_id)
    else:
        share = ""
    if job is None:
        raise OriginError(
            f"no model {str(origin['job'])[:20]} of yours or in a gallery shared "
            "with you"
        )
    step = origin.get("step")
    if step is not None and (
        isinstance(step, bool) or not isinstance(step, int) or step < 0
    ):
        raise OriginError("init_from.step: a checkpoint step")
    if step is None:
        step = job.promoted_step
    path = model_checkpoint_path(job, step)
    if not path.is_file():
        where = f"at step {step}" if step is not None else "yet"
        raise OriginError(f"model {job.pk} has no checkpoint {where}")
    return Origin(job=job, step=step, share=share, path=path)


def origin_check(origin: Origin, *, family: str, config: dict, shape: dict) -> None:
    """Refuse what gan_core would refuse: another family, image size or
    channel count. ``shape``: ganweb.jobs.preflight.data_shape of the new data."""
    theirs = origin.job
    if theirs.family != family:
        raise OriginError(
            f"model {theirs.pk} is a {theirs.family} model; a {family} job can "
            f"only start from a {family} model"
        )
    size = theirs.config.get("image_size")
    if size != config.get("image_size"):
        raise OriginError(
            f"model {theirs.pk} was trained at {size} px, this job has "
            f"{config.get('image_size')} px: they must match"
        )
    channels = origin_channels(theirs)
    if channels and shape.get("channels") and channels != shape["channels"]:
        raise OriginError(
            f"model {theirs.pk} was trained on {channels}-channel images, this "
            f"data has {shape['channels']}: they must match"
        )


def origin_channels(job: Job) -> int | None:
    """Image channels the model learnt from, when the rows can tell."""
    if job.imported:
        return int(job.imported.get("data", {}).get("channels") or 0) or None
    from ganweb.jobs.data_sources import DataSource, builtin_source
    from ganweb.jobs.preflight import data_shape

    if job.dataset is not None:
        source = DataSource(str(job.dataset_id), job.dataset.kind, "", job.dataset)
    elif job.data_ref.startswith("builtin:"):
        source = builtin_source(job.data_ref.split(":", 1)[1])
    else:
        return None
    return data_shape(source)["channels"]


def origin_link(origin: Origin, job_id: int) -> Path:
    """Make the origin's checkpoint the new job's start (hard link, else copy)."""
    dest = origin_checkpoint_path(job_id)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(origin.path, tmp)
    except OSError:
        shutil.copyfile(origin.path, tmp)
    os.replace(tmp, dest)
    return dest


def origin_of(job: Job) -> Origin | None:
    """The origin a re-run of ``job`` starts from too (its linked file)."""
    path = origin_checkpoint_path(job.pk)
    if not job.init_from_label or not path.is_file():
        return None
    return Origin(
        job=job.init_from or job,
        step=job.init_from_step,
        share=job.init_from_share,
        path=path,
        given_label=job.init_from_label,
    )
