"""Latent directions (light queue): PCA of a checkpoint's latent space, cached.

The page asks once per checkpoint for the sliders' explained variances; this
task computes the directions (gan_core.directions) and writes them beside the
checkpoint, where the interactive worker drawing the edits reads them.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

log = logging.getLogger(__name__)


@shared_task(name="workers.tasks.directions.directions", ignore_result=False)
def directions(job_id: int, params: dict):
    """{"info": components with their explained variance, layer groups} or
    {"error", "status"}."""
    from ganweb.playground.edits import directions_info
    from workers.tasks.playground import _loaded, checkpoint_file

    loaded, problem = _loaded(job_id, params)
    if problem:
        return problem
    path = checkpoint_file(job_id, params.get("checkpoint"))
    try:
        return {"info": directions_info(loaded, path, params.get("generator", "ema"))}
    except ValueError as exc:  # UnsupportedSampling among them
        return {"error": str(exc), "status": 400}
    except SoftTimeLimitExceeded:
        return {"error": "finding the directions took too long", "status": 503}
