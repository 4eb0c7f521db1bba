"""Checkpoint evaluation (light queue): the figures on a job's timeline.

After each checkpoint the training worker queues ``evaluate_checkpoint``; a
light worker draws samples from it and measures them the way the data allows
(gan_core.evaluation: mode coverage for 2D points, classifier-FID for the
built-in digit sets), stores the figures on the Checkpoint row and tells live
viewers. Training never waits for it.
"""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)

TIMELINE_SAMPLES = 1000  # enough to rank checkpoints, quick on a CPU


def timeline_figures(report: dict) -> dict:
    """The few numbers the timeline shows, from an evaluation report."""
    if "modes" in report:
        modes = report["modes"]
        return {
            "modes": modes["modes_captured"],
            "of": modes["num_modes"],
            "high_quality": round(modes["high_quality_fraction"], 4),
        }
    if "classifier_fid" in report:
        scores = report["classifier_fid"]
        return {"classifier_fid": round(scores["classifier_fid"], 2)}
    return {"note": "no figure for this data"}


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
        if data and not _classifier_ready(data):
            # Training the digit classifier takes minutes of this worker's
            # time, which belongs to the playground: it is trained by
            # `python -m gan_core evaluate` (or the test suite), not here.
            raise RuntimeError(
                "no classifier-FID yet: the digit classifier is not trained on "
                "this server (python -m gan_core evaluate trains it)"
            )
        report = evaluate(path, n=TIMELINE_SAMPLES, data=data)
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


def _classifier_ready(data_ref: str) -> bool:
    """True unless the data needs a digit classifier that is not trained yet."""
    from gan_core.evaluation.classifier import weights_path
    from gan_core.evaluation.cli import DIGIT_SETS

    name = data_ref.removeprefix("builtin:")
    return name not in DIGIT_SETS or weights_path(name).is_file()
