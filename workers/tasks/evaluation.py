"""Checkpoint evaluation (light queue): the figures on a job's timeline.

After each checkpoint the training worker queues ``evaluate_checkpoint``; a
light worker draws samples from it and measures them the way the data allows
(gan_core.evaluation: mode coverage for 2D points; for images precision and
recall, class agreement for class data, classifier-FID for the built-in digit
sets and Inception FID/KID when GAN_INCEPTION_WEIGHTS is set), stores the
figures on the Checkpoint row and tells live viewers. Training never waits
for it.

Image figures are stored as {"figures": [...], "notes": [...]}, each figure
with its n and feature space (gan_core.evaluation.quality.figure).
"""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)

TIMELINE_SAMPLES = 1000  # enough to rank checkpoints, quick on a CPU


def timeline_samples() -> int:
    """Samples drawn per checkpoint: TIMELINE_SAMPLES, capped at
    GAN_INCEPTION_SAMPLES when Inception is configured. Inception at 299 px
    takes about a second an image on two CPU cores and sees 2n images, so an
    uncapped n would overrun the task's time limit (and lose every figure)."""
    from django.conf import settings

    if settings.GAN_INCEPTION_WEIGHTS:
        return max(4, min(TIMELINE_SAMPLES, settings.GAN_INCEPTION_SAMPLES))
    return TIMELINE_SAMPLES


def timeline_figures(report: dict) -> dict:
    """The few numbers the timeline shows, from an evaluation report."""
    if "modes" in report:
        modes = report["modes"]
        return {
            "modes": modes["modes_captured"],
            "of": modes["num_modes"],
            "high_quality": round(modes["high_quality_fraction"], 4),
        }
    figures = list(report.get("quality", {}).get("figures", []))
    if "classifier_fid" in report:
        figures.insert(0, _classifier_fid_figure(report["classifier_fid"]))
    notes = list(report.get("quality", {}).get("notes", []))
    inception = report.get("quality", {}).get("inception", {})
    refused = inception.get("reason")
    if refused:  # said once on the job page, not again at every checkpoint
        notes = [note for note in notes if refused not in note]
    if not figures:
        out = {"note": "; ".join(notes) or "no figure for this data"}
    else:
        out = {"figures": figures, "notes": notes}
    return {**out, "inception_note": refused} if refused else out


def _classifier_fid_figure(scores: dict) -> dict:
    from gan_core.evaluation.quality import Space, figure

    name = scores["classifier"]
    space = Space(
        f"{name}-classifier",
        f"the builtin:{name} digit classifier's features (128-d)",
        None,
    )
    return figure("classifier_fid", scores["classifier_fid"], scores["n_fake"], space)


@shared_task(name="workers.tasks.evaluation.evaluate_checkpoint", ignore_result=True)
def evaluate_checkpoint(job_id: int, step: int) -> dict:
    from gan_core.evaluation.cli import evaluate_checkpoint as evaluate
    from ganweb.core.realtime import job_group
    from ganweb.jobs.models import Checkpoint, Job
    from ganweb.jobs.progress import event_publisher
    from workers.tasks.playground import checkpoint_file

    job = Job.objects.filter(pk=job_id).first()
    path = checkpoint_file(job_id, step)
    if job is None or not path.is_file():
        return {"note": "gone"}
    data = job.data_ref if job.data_ref.startswith("builtin:") else None
    try:
        # Training the digit classifier takes minutes of this worker's time,
        # which belongs to the playground: without it the digits are measured
        # in their own small net's space (seconds), like any other data.
        ready = data is None or _classifier_ready(data)
        report = evaluate(
            path,
            n=timeline_samples(),
            data=data,
            real=_upload(job, path),
            quality=True,
            quality_options=quality_options(ready),
        )
        figures = timeline_figures(report)
    except Exception as exc:  # noqa: BLE001 - a figure we cannot make is a note
        log.info("no figures for job %s step %s: %s", job_id, step, exc)
        figures = {"note": str(exc).splitlines()[0][:200] or "no figure"}
    Checkpoint.objects.filter(job_id=job_id, step=step).update(figures=figures)
    event_publisher().publish(
        job_group(job_id), {"type": "figures", "step": step, "figures": figures}
    )
    event_publisher().flush()
    return figures


def quality_options(digit_classifier: bool) -> dict:
    """What the operator configured: the Inception weights, their digest and
    KID's subset size."""
    from django.conf import settings

    return {
        "inception_weights": settings.GAN_INCEPTION_WEIGHTS or None,
        "inception_sha256": settings.GAN_INCEPTION_SHA256 or None,
        "digit_classifier": digit_classifier,
        "kid_subset_size": settings.GAN_KID_SUBSET_SIZE,
    }


def _upload(job, path):
    """The job's uploaded images at the checkpoint's size, or None (built-in)."""
    if job.dataset is None:
        return None
    from gan_core.checkpoint import load_checkpoint
    from ganweb.jobs.training import upload_data

    size = int(load_checkpoint(path)["config"].get("image_size") or 0)
    return upload_data(job, size or 32)


def _classifier_ready(data_ref: str) -> bool:
    """True unless the data needs a digit classifier that is not trained yet."""
    from gan_core.evaluation.classifier import weights_path
    from gan_core.evaluation.cli import DIGIT_SETS

    name = data_ref.removeprefix("builtin:")
    return name not in DIGIT_SETS or weights_path(name).is_file()
