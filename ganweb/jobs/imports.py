"""Importing a checkpoint file as a model of one's own.

The web process stays torch-free: it stores the upload where only workers
read it, and a light worker checks it (gan_core.checkpoint_import: loaded with
weights_only=True, settings validated against the registry, every network
rebuilt and loaded) and writes a clean copy. The model is then a finished job
with that one checkpoint, usable in the playground and as a starting point.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ganweb.core.text import without_nul
from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Checkpoint, Job, JobState
from ganweb.jobs.services import JobError, job_name_clean

IMPORTED_DATA_REF = "imported"

log = logging.getLogger(__name__)


class NoWorkerChecked(JobError):
    """No light worker checked the file in time: try again (503)."""

    status = 503


def _imports_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store(upload, path: Path) -> None:
    limit = int(getattr(settings, "GAN_UPLOAD_MAX_BYTES", 1 << 30))
    written = 0
    with open(path, "wb") as fh:
        for chunk in upload.chunks():
            written += len(chunk)
            if written > limit:
                raise JobError(
                    f"checkpoint: larger than the limit of {limit:,} bytes",
                    field="file",
                )
            fh.write(chunk)


def _check_on_worker(source: Path, dest: Path, shown: str) -> dict:
    from celery.exceptions import TimeoutError as CeleryTimeout
    from kombu.exceptions import OperationalError

    from workers.tasks.checkpoints import import_checkpoint

    timeout = float(getattr(settings, "GAN_IMPORT_TIMEOUT", 120))
    try:
        result = import_checkpoint.apply_async(
            args=[str(source), str(dest), shown],
            queue="light",
            expires=timeout,
            retry=False,
        )
    except (OperationalError, ConnectionError, OSError) as exc:
        raise NoWorkerChecked(
            "the job queue cannot be reached right now; try again in a moment"
        ) from exc
    try:
        return result.get(timeout=timeout)
    except CeleryTimeout as exc:
        raise NoWorkerChecked(
            f"no worker checked the checkpoint within {timeout:.0f} s; try again "
            "in a moment"
        ) from exc
    finally:
        result.forget()


def checkpoint_import(*, owner, upload, name: str = "") -> Job:
    """A finished model of ``owner``'s from an uploaded checkpoint file.
    Raises JobError (400) with the reason a file is refused, NoWorkerChecked
    (503) when no worker answered."""
    if upload is None:
        raise JobError("file: choose a checkpoint (.pt) to import", field="file")
    shown = without_nul(Path(str(upload.name or "checkpoint.pt")).name)[:100]
    stem = uuid.uuid4().hex
    source = _imports_dir() / f"{stem}.upload"
    clean = _imports_dir() / f"{stem}.pt"
    try:
        _store(upload, source)
        answer = _check_on_worker(source, clean, shown)
        if "error" in answer:
            raise JobError(answer["error"], field="file")
        return _create_model(owner=owner, answer=answer, clean=clean, shown=shown,
                             name=name)  # fmt: skip
    finally:
        source.unlink(missing_ok=True)
        clean.unlink(missing_ok=True)


def _create_model(*, owner, answer: dict, clean: Path, shown: str, name: str) -> Job:
    step = int(answer["step"])
    name = job_name_clean(name, default=f"{answer['family']} imported from {shown}")
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.create(
            owner=owner,
            name=name,
            data_ref=IMPORTED_DATA_REF,
            family=answer["family"],
            config=answer["config"],
            imported={"file": shown, "data": answer["data"]},
            state=JobState.FINISHED,
            step=step,
            total_steps=step,
            queued_at=now,
            started_at=now,
            ended_at=now,
        )
        folder = job_media_dir(job.pk) / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"step_{step:07d}.pt"
        os.replace(clean, target)
        latest = folder / "latest.pt"
        latest.unlink(missing_ok=True)
        os.link(target, latest)
        path = f"/jobs/{job.pk}/files/checkpoints/{target.name}"
        Checkpoint.objects.create(job=job, step=step, path=path)
        Job.objects.filter(pk=job.pk).update(latest_checkpoint=path)
        job.refresh_from_db()
        transaction.on_commit(lambda: _measure(job.pk, step))
    return job


def _measure(job_id: int, step: int) -> None:
    """The timeline's figures for the one checkpoint, as for trained ones; a
    broker that is down costs the figures, never the import."""
    from workers.tasks.evaluation import evaluate_checkpoint

    try:
        evaluate_checkpoint.apply_async(args=[job_id, step], queue="light")
    except Exception as exc:  # noqa: BLE001
        log.warning("no figures for imported model %s: %s", job_id, exc)
