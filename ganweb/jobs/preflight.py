"""Pre-flight estimates for the job form and the API.

The web process never imports torch: it validates the request, describes the
data's shape, and asks a light worker to probe the configuration
(gan_core.preflight). Answers are cached per configuration, data shape and
device (not per step count or seed: they do not change a step's cost).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.cache import cache

from ganweb.jobs.data_sources import BUILTIN_PREFIX
from ganweb.jobs.services import JobError, validate_job_request

CACHE_SECONDS = 24 * 3600


class NoWorkerAnswered(JobError):
    """No light worker measured the configuration in time: try again (503)."""

    status = 503


# Settings that change how long a run is, not what one step costs.
COST_FREE = ("steps", "seed", "sample_every", "checkpoint_every")


def data_shape(source) -> dict:
    """gan_core.preflight.DataShape fields for a data source."""
    if source.dataset is None:
        from gan_core.data.builtin_catalog import describe_builtin

        info = describe_builtin(source.data_ref[len(BUILTIN_PREFIX) :])
        kind, count = info["kind"], info["count"]
        channels, classes = info["channels"] or 3, len(info["classes"])
        dtype = "float32"
    else:
        dataset = source.dataset
        kind, count = dataset.kind, dataset.image_count
        seen = (dataset.stats or {}).get("channels") or {"3": 1}
        channels, classes = max(int(c) for c in seen), len(dataset.classes or {})
        dtype = "uint8"  # trained from its uint8 training cache
    if kind == "classes":
        kind = "images"
    return {
        "kind": kind,
        "count": int(count),
        "channels": int(channels),
        "num_classes": classes if kind == "images" else 0,
        "dtype": dtype,
    }


def _cache_key(family: str, config: dict, shape: dict) -> str:
    costly = {k: v for k, v in sorted(config.items()) if k not in COST_FREE}
    blob = json.dumps([family, costly, shape], sort_keys=True, default=str)
    return "preflight:" + hashlib.sha256(blob.encode()).hexdigest()[:32]


# The cache lives in Redis: when that is down the estimate is measured afresh
# (and the send then says the workers cannot be reached), never a 500.
def _cached(key: str) -> dict | None:
    from redis.exceptions import RedisError

    try:
        return cache.get(key)
    except RedisError:
        return None


def _remember(key: str, answer: dict) -> None:
    from redis.exceptions import RedisError

    try:
        cache.set(key, answer, CACHE_SECONDS)
    except RedisError:
        pass


def job_preflight(*, user, data_ref: str, family: str, config: dict, gpus=1) -> dict:
    """Time per step, duration, peak memory and whether it fits, for a job
    that is not queued yet. Raises JobError for bad requests and when no
    worker answers in time (status 503).

    On ``gpus`` devices each trains on batch_size / gpus: that share is what
    the worker measures, so the memory is per device and the step time one
    device's compute; the gradient all-reduce of every phase comes on top
    (small next to the compute on NCCL, not on gloo: see bench_distributed)."""
    from ganweb.jobs.services import job_gpus_clean

    source, validated = validate_job_request(
        user=user, data_ref=data_ref, family=family, config=config
    )
    settings_dict = validated.to_dict()
    gpus = job_gpus_clean(gpus, config=settings_dict)
    measured = dict(settings_dict, batch_size=settings_dict["batch_size"] // gpus)
    shape = data_shape(source)
    key = _cache_key(family, measured, shape)
    answer = _cached(key)
    if answer is None:
        answer = _probe_on_worker(family, measured, shape)
        _remember(key, answer)
    else:
        answer = {**answer, "cached": True}
    steps = settings_dict["steps"]
    estimate = {
        **answer,
        "steps": steps,
        "duration_seconds": answer["step_seconds"] * steps,
        "batch_size": settings_dict["batch_size"],
        "gpus": gpus,
    }
    if gpus > 1:
        estimate["per_device_batch"] = measured["batch_size"]
        if answer.get("suggested_batch_size"):  # per device: the global batch
            estimate["suggested_batch_size"] = answer["suggested_batch_size"] * gpus
        estimate["note"] = (
            f"measured at {measured['batch_size']} per device, the share of each "
            f"of {gpus} devices; memory is per device, and the step time leaves "
            "out the gradient all-reduce between them"
        )
    return estimate


def _probe_on_worker(family: str, config: dict, shape: dict) -> dict:
    from celery.exceptions import TimeoutError as CeleryTimeout

    from ganweb.core.broker import BrokerUnavailable, send_and_wait_for
    from workers.tasks.preflight import preflight

    timeout = float(getattr(settings, "GAN_PREFLIGHT_TIMEOUT", 120))
    try:
        result = send_and_wait_for(
            preflight, args=[family, config, shape], queue="light", expires=timeout
        )
    except BrokerUnavailable as exc:
        raise NoWorkerAnswered(
            "the workers cannot be reached for a moment; try again shortly"
        ) from exc
    try:
        answer = result.get(timeout=timeout)
    except CeleryTimeout as exc:
        raise NoWorkerAnswered(
            f"no worker measured the configuration within {timeout:.0f} s; "
            "try again in a moment"
        ) from exc
    finally:
        result.forget()
    if "error" in answer:
        raise JobError(answer["error"], field="config")
    return {**answer, "cached": False}
