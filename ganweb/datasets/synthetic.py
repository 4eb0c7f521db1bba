"""Synthetic datasets: "Make a dataset" from one of the user's models.

The request checks the settings against what the rows know (the family, its
labels, the loss), links the chosen checkpoint into the new dataset's upload
folder and creates a pending row whose stats say ``source: synthetic``. The
light worker's usual dataset processing (services.dataset_process) then draws
the images into a zip there (gan_core.export) and ingests that zip exactly as
an uploaded archive: the same checks, thumbnails, fingerprint and training
cache. Generation is seeded, so a redelivered or reclaimed run makes the same
images. The row's ``synthetic_origin`` says where the data came from.

Only the model's owner can make a dataset from it: a share link lets others
start training from a model (ganweb.jobs.origins), nothing more.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ganweb.datasets import services
from ganweb.datasets.archives import Rejected
from ganweb.datasets.limits import current_limits
from ganweb.datasets.models import Dataset, DatasetKind

CHECKPOINT_FILE = "checkpoint.pt"
MAX_SEED = 2**31 - 1


def max_images() -> int:
    """GAN_SYNTHETIC_MAX_IMAGES: images one synthetic dataset may hold."""
    return int(getattr(settings, "GAN_SYNTHETIC_MAX_IMAGES", 0) or os.environ.get(
        "GAN_SYNTHETIC_MAX_IMAGES", 5000))  # fmt: skip


@dataclass(frozen=True)
class SyntheticRequest:
    n: int
    per_class: bool = False
    truncation: float = 1.0
    rejection: float | None = None  # DRS percentile
    seed: int = 0
    step: int | None = None  # None: the checkpoint the playground uses
    name: str = ""


def model_conditional(job) -> bool:
    """Whether the model draws classes (what the rows know, without torch)."""
    return job.family == "cgan" or bool((job.config or {}).get("conditional"))


def model_class_count(job) -> int:
    """Classes of a conditional model's data, 0 when the rows cannot tell."""
    if job.dataset is not None:
        return len(job.dataset.classes or {})
    if job.data_ref.startswith("builtin:"):
        from gan_core.data.builtin_catalog import describe_builtin

        try:
            return len(describe_builtin(job.data_ref.split(":", 1)[1])["classes"])
        except (KeyError, ValueError):
            return 0
    return 0


def synthetic_dataset_create(*, owner, job, request: SyntheticRequest) -> Dataset:
    """Queue a dataset of ``request.n`` images drawn from ``job``'s checkpoint.

    Raises services.DatasetRejected (400) for settings the model cannot do or
    that are over the limits; the row is pending until the light worker makes it.
    """
    from gan_core.export import (
        ExportError,
        ExportSettings,
        check_settings,
        rejection_problem,
    )
    from ganweb.playground.selectors import model_checkpoint_path

    conditional = model_conditional(job)
    classes = model_class_count(job) if conditional else 1
    options = ExportSettings(
        n=request.n,
        per_class=request.per_class,
        truncation=request.truncation,
        rejection=request.rejection,
        seed=request.seed,
    )
    try:
        check_settings(options, conditional=conditional,
                       num_classes=max(1, classes), limit=max_images())  # fmt: skip
    except ExportError as exc:
        raise services.DatasetRejected(str(exc)) from exc
    if request.rejection is not None:
        problem = rejection_problem(job.family, job.config or {})
        if problem:
            raise services.DatasetRejected(problem)
    translated = (DatasetKind.DOMAINS, DatasetKind.PAIRS)
    if job.family in ("cyclegan", "pix2pix") or (
        job.dataset and job.dataset.kind in translated
    ):
        raise services.DatasetRejected(f"{job.family} translates images: it draws none")
    step = job.promoted_step if request.step is None else request.step
    source = model_checkpoint_path(job, step)
    if not source.is_file():
        where = f"at step {step}" if step is not None else "yet"
        raise services.DatasetRejected(f"model {job.pk} has no checkpoint {where}")
    services._check_active_datasets(owner)
    limits = current_limits()
    if options.total(max(1, classes)) < limits.min_images:
        raise services.DatasetRejected(
            f"n: a dataset needs at least {limits.min_images} images"
        )
    size = int((job.config or {}).get("image_size") or 0)
    pixels = options.total(max(1, classes)) * size * size
    try:
        services._budget_for(owner, limits).check_pixels(pixels)
    except Rejected as exc:
        raise services.DatasetRejected(str(exc)) from exc
    origin = {
        "job_id": job.pk,
        "job_name": job.name,
        "family": job.family,
        "step": step,  # None until the worker reads the latest checkpoint's
        "n": options.n,
        "per_class": options.per_class,
        "truncation": options.truncation,
        "rejection": options.rejection,
        "seed": options.seed,
    }
    name = request.name or f"Synthetic from {job.name or f'model {job.pk}'}"
    staging, folder = services.staging_dir(), None
    try:
        # Outside the transaction: a copy (where a hard link cannot be made)
        # takes as long as the checkpoint is large.
        _link(source, staging / services.UPLOAD_DIR / CHECKPOINT_FILE)
        with transaction.atomic():
            # Again where no other dataset of the owner can slip in.
            services._check_budget(owner, limits, {"upload_bytes": 0, "pixels": pixels})
            dataset = Dataset.objects.create(
                owner=owner,
                name=services._clean_name(name),
                kind=DatasetKind.CLASSES if options.per_class else DatasetKind.IMAGES,
                stats={"source": "synthetic", "upload_bytes": 0, "pixels": pixels},
                synthetic_origin=origin,
            )
            folder = services.dataset_dir(dataset.pk)
            shutil.rmtree(folder, ignore_errors=True)  # a reused id's leftovers
            os.replace(staging, folder)
            transaction.on_commit(lambda: services.enqueue_processing(dataset.pk))
    except Rejected as exc:
        services._remove(staging, folder)
        raise services.DatasetRejected(str(exc)) from exc
    except BaseException:
        services._remove(staging, folder)
        raise
    return dataset


def _link(source: Path, dest: Path) -> None:
    """The checkpoint as it is now (hard link, else copy): training on meanwhile
    replaces latest.pt, and a second run must draw from the same weights."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def synthetic_archive(*, dataset: Dataset, folder: Path, progress) -> Path:
    """Worker side: draw the images into upload/archive (a zip); returns it.

    progress(fraction) follows the drawing. Records the checkpoint's step and
    the rejection's acceptance on the row. Raises Rejected with the reason.
    """
    from gan_core.checkpoint import CheckpointError
    from gan_core.export import ExportSettings, export_samples
    from workers.device import worker_device

    origin = dict(dataset.synthetic_origin)
    upload = folder / services.UPLOAD_DIR
    archive = upload / services.ARCHIVE_FILE
    partial = archive.with_name(f".{archive.name}.part")
    options = ExportSettings(
        n=origin["n"],
        per_class=origin["per_class"],
        truncation=origin["truncation"],
        rejection=origin["rejection"],
        seed=origin["seed"],
    )
    # Stored, not deflated: PNGs are compressed already.
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as zf:
        try:
            made = export_samples(
                upload / CHECKPOINT_FILE,
                options,
                zf.writestr,
                device=str(worker_device()),
                progress=lambda done, total: progress(done / max(1, total)),
                limit=max_images(),
            )
        except (ValueError, CheckpointError, FileNotFoundError) as exc:
            raise Rejected(f"could not draw the images: {exc}") from exc
    os.replace(partial, archive)
    origin.update(step=made["step"], images=made["images"])
    if "acceptance" in made:
        origin["acceptance"] = made["acceptance"]
    dataset.synthetic_origin = origin
    Dataset.objects.filter(pk=dataset.pk).update(synthetic_origin=origin)
    return archive
