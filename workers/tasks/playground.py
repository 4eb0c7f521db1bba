"""Playground tasks (interactive queue): draw from a generator, answer quickly.

The web view has already checked ownership and the parameters; these tasks get
the job id and step, find the checkpoint on the shared media, and keep loaded
generators in a per-process least-recently-used cache
(``GAN_PLAYGROUND_CACHE_SIZE`` entries). Results are small dicts: the encoded
image as base64 plus what the page shows next to it, or an ``error`` with the
HTTP status the web should answer.

Each runs under the time limit the web waits for (settings'
CELERY_TASK_ANNOTATIONS): at the soft limit, or when the web gives up and
revokes it, SoftTimeLimitExceeded stops the drawing and the answer says so.
"""

from __future__ import annotations

import base64
import functools
import logging
import time
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

log = logging.getLogger(__name__)


@functools.cache
def generator_cache():
    """This worker process's cache of loaded generators (built on first use)."""
    from django.conf import settings

    from ganweb.playground.rendering import GeneratorCache
    from workers.device import worker_device

    size = int(getattr(settings, "GAN_PLAYGROUND_CACHE_SIZE", 4))
    return GeneratorCache(size, device=worker_device())


def checkpoint_file(job_id: int, step: int | None) -> Path:
    from ganweb.jobs.data_sources import job_media_dir

    folder = job_media_dir(int(job_id)) / "checkpoints"
    if step is None:
        return folder / "latest.pt"
    return folder / f"step_{int(step):07d}.pt"


def _loaded(job_id: int, params: dict):
    from gan_core.checkpoint import CheckpointError

    step = params.get("checkpoint")
    path = checkpoint_file(job_id, step)
    try:
        return generator_cache().get(path, params.get("generator") or "ema"), None
    except FileNotFoundError:
        what = "no checkpoint yet" if step is None else f"no checkpoint at step {step}"
        return None, {"error": what, "status": 404}
    except CheckpointError as exc:
        return None, {"error": str(exc), "status": 400}


@shared_task(name="workers.tasks.playground.render", ignore_result=False)
def render(job_id: int, action: str, params: dict, image_b64: str | None = None):
    """One playground action -> {content_type, data (base64), meta} or {error}."""
    from ganweb.playground.rendering import render as render_action

    started = time.perf_counter()
    loaded, problem = _loaded(job_id, params)
    if problem:
        return problem
    image = base64.b64decode(image_b64) if image_b64 else None
    if action == "edit":  # its directions are cached beside the checkpoint
        path = checkpoint_file(job_id, params.get("checkpoint"))
        params = {**params, "checkpoint_file": str(path)}
    if params.get("projection"):
        start = _projection_latent(job_id, params["projection"])
        if start is None:
            return {
                "error": "projection: no such projection of this model",
                "status": 404,
            }
        params = {**params, "start": start}
    try:
        out = render_action(loaded, action, params, image)
    except ValueError as exc:  # UnsupportedSampling and bad values alike
        return {"error": str(exc), "status": 400}
    except SoftTimeLimitExceeded:
        log.warning("playground %s on job %s stopped at its time limit", action, job_id)
        return {"error": f"{action} took too long and was stopped", "status": 503}
    except Exception as exc:  # noqa: BLE001 - the page shows why, the worker lives
        log.exception("playground %s on job %s failed", action, job_id)
        return {"error": f"{action} failed: {exc.__class__.__name__}", "status": 500}
    # Time spent in this task (load, draw, encode): the rest of a request's
    # latency is the trip through the web process and Redis.
    worker_ms = round((time.perf_counter() - started) * 1000, 1)
    return {
        "content_type": out.content_type,
        "data": base64.b64encode(out.content).decode("ascii"),
        "meta": {**out.meta, "worker_ms": worker_ms},
    }


@shared_task(name="workers.tasks.playground.describe", ignore_result=False)
def describe(job_id: int, params: dict):
    """What the generator can do: family, classes, calls, EMA, layer groups."""
    from ganweb.playground.rendering import describe as describe_loaded

    loaded, problem = _loaded(job_id, params)
    if problem:
        return problem
    return {"info": describe_loaded(loaded)}


def _projection_latent(job_id: int, projection_id: str):
    """(space, latent) a projection of this model found, or None."""
    import re

    import torch

    from ganweb.jobs.data_sources import job_media_dir

    if not re.fullmatch(r"[0-9a-f]{32}", str(projection_id)):
        return None
    path = job_media_dir(int(job_id)) / "projections" / f"{projection_id}.pt"
    if not path.is_file():
        return None
    saved = torch.load(path, map_location="cpu", weights_only=True)
    return saved["space"], saved["latent"]
