"""Augmentation value of a model, measured by a light worker.

POST /api/models/<id>/augmentation queues gan_core.evaluation.augmentation on
the light queue: a small classifier trained on the model's real training
images, on synthetic images alone (the Classification Accuracy Score of Ravuri
and Vinyals 2019) and on both, each scored on held-out real images. The record
(queued, running, done with the report, or failed with the reason) is a JSON
file in the job's media folder; GET reads it, and the job's socket gets an
``augmentation`` event when it changes.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Job
from ganweb.playground.params import PlaygroundError

log = logging.getLogger(__name__)
RECORD = "augmentation.json"


def augmentation_path(job_id: int) -> Path:
    return job_media_dir(int(job_id)) / RECORD


def augmentation_read(*, job: Job) -> dict | None:
    try:
        return json.loads(augmentation_path(job.pk).read_text())
    except (OSError, ValueError):
        return None


def _write(job_id: int, record: dict) -> dict:
    path = augmentation_path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)  # readers see the old record or the new
    return record


def augmentation_start(*, job: Job, step: int | None = None) -> dict:
    """Queue the measurement; raises PlaygroundError (400) for models without
    labels and (409) while one is queued or running."""
    from ganweb.datasets.synthetic import model_conditional

    if not model_conditional(job):
        raise PlaygroundError(
            f"{job.family} is not conditional: augmentation needs labelled samples"
        )
    current = augmentation_read(job=job) or {}
    if current.get("state") in ("queued", "running"):
        raise PlaygroundError("an augmentation measurement is under way", status=409)
    record = _write(job.pk, {"state": "queued", "step": step})

    def send() -> None:
        from workers.tasks.augmentation import evaluate_augmentation

        evaluate_augmentation.apply_async(args=[job.pk, step], queue="light")

    transaction.on_commit(send)
    return record


def augmentation_run(*, job_id: int, step: int | None) -> str:
    """Worker side: measure and store the report (or the failure)."""
    from gan_core.evaluation.augmentation import Recipe, evaluate_augmentation
    from ganweb.jobs.training import upload_data
    from ganweb.playground.selectors import model_checkpoint_path

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return "gone"
    _publish(job_id, _write(job_id, {"state": "running", "step": step}))
    path = model_checkpoint_path(job, step)
    seeds = int(getattr(settings, "GAN_AUGMENTATION_SEEDS", 1))
    recipe = Recipe(steps=int(getattr(settings, "GAN_AUGMENTATION_STEPS", 400)))
    try:
        real, data = None, job.data_ref
        if job.dataset is not None:
            real = upload_data(job, int(job.config.get("image_size") or 32))
            data = None
        report = evaluate_augmentation(
            path, data=data, real=real, seeds=tuple(range(seeds)), recipe=recipe
        )
        record = {"state": "done", "step": report["step"], "report": report}
    except Exception as exc:  # noqa: BLE001 - the page shows why
        log.info("augmentation of job %s failed: %s", job_id, exc)
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        record = {"state": "failed", "step": step, "error": reason or repr(exc)}
    _publish(job_id, _write(job_id, record))
    return record["state"]


def _publish(job_id: int, record: dict) -> None:
    from ganweb.core.realtime import job_group, publish

    try:
        publish(job_group(job_id), {"type": "augmentation", **record})
    except Exception:  # live updates are a nicety; the file is the truth
        log.warning("could not publish augmentation of job %s", job_id)
