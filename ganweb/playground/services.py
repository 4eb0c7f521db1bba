"""Playground services: validate, hand the work to the interactive worker, wait.

The web process never imports torch: every drawing runs in
workers.tasks.playground on the "interactive" queue (a worker of its own, so
dataset processing on the light queue never holds it up) and comes back through
the Redis result backend as encoded bytes.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from ganweb.jobs.models import Job
from ganweb.playground.params import PlaygroundError, check_upload_shape
from ganweb.playground.selectors import model_checkpoint_path

UPLOAD_FORMATS = {"PNG", "JPEG", "WEBP", "GIF", "BMP"}
INTERACTIVE_QUEUE = "interactive"  # its own worker: see settings.CELERY_TASK_ROUTES


@dataclass
class Result:
    content: bytes
    content_type: str
    meta: dict


def _timeout() -> float:
    return float(getattr(settings, "GAN_PLAYGROUND_TIMEOUT", 30))


def _wait(task, kwargs: dict, queue: str = INTERACTIVE_QUEUE, timeout=None) -> dict:
    """Queue ``task`` on the interactive queue and wait for its answer (or 503).

    Past the timeout nobody reads the answer, so the task is stopped there: the
    message expires if no worker took it yet, and one that is running is
    revoked with SIGUSR1, which the prefork pool turns into SoftTimeLimitExceeded
    inside the task (its process and loaded generators live on). The task's own
    time limits (settings.CELERY_TASK_ANNOTATIONS) are the same timeout, for a
    web process that died before it could revoke.
    """
    from celery.exceptions import TimeoutError as CeleryTimeout

    from ganweb.core.broker import BrokerUnavailable, send_and_wait_for

    timeout = _timeout() if timeout is None else float(timeout)
    try:
        async_result = send_and_wait_for(
            task, kwargs=kwargs, queue=queue, expires=timeout
        )
    except BrokerUnavailable as exc:
        raise PlaygroundError(
            "the sampling service is unavailable for a moment; try again shortly",
            status=503,
        ) from exc
    try:
        answer = async_result.get(timeout=timeout)
    except CeleryTimeout as exc:
        _give_up(async_result)
        raise PlaygroundError(
            f"the sampling worker did not answer within {timeout:.0f} s; "
            "try again in a moment",
            status=503,
        ) from exc
    finally:
        async_result.forget()  # The bytes were read once; keep Redis small.
    if "error" in answer:
        raise PlaygroundError(answer["error"], status=answer.get("status", 400))
    return answer


def _give_up(async_result) -> None:
    try:
        async_result.revoke(terminate=True, signal="SIGUSR1")
    except Exception:  # noqa: BLE001 - expiry and the time limits still hold
        pass


def upload_image(*, file) -> bytes:
    """Decode an uploaded image with Pillow under a pixel limit and re-encode it
    as PNG. The name and the declared type are never trusted."""
    limit = int(getattr(settings, "GAN_PLAYGROUND_MAX_PIXELS", 2048 * 2048))
    max_bytes = int(getattr(settings, "GAN_PLAYGROUND_MAX_UPLOAD_BYTES", 16 << 20))
    if file.size > max_bytes:
        raise PlaygroundError(f"image is larger than {max_bytes >> 20} MB")
    try:
        with Image.open(file) as opened:
            if opened.format not in UPLOAD_FORMATS:
                raise PlaygroundError("image must be a PNG, JPEG, WebP, GIF or BMP")
            check_upload_shape(*opened.size, limit)  # From the header alone.
            opened.load()
            image = opened.convert("RGB")
    except PlaygroundError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PlaygroundError("the upload is not an image Pillow can read") from exc
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _require_checkpoint(job: Job, step: int | None) -> None:
    if not model_checkpoint_path(job, step).is_file():
        what = "no checkpoint yet" if step is None else f"no checkpoint at step {step}"
        raise PlaygroundError(f"job {job.pk} has {what}", status=404)


def model_render(*, job: Job, action: str, params: dict) -> Result:
    """Draw ``action`` (validated ``params``) from the job's generator.

    Raises PlaygroundError: 400 for values or calls the family cannot do, 404
    for a missing checkpoint, 503 when no worker answers in time.
    """
    params = dict(params)
    upload = params.pop("image", None)
    if params.get("checkpoint") is None:
        params["checkpoint"] = job.promoted_step  # None: the latest
    _require_checkpoint(job, params.get("checkpoint"))
    image_b64 = None
    if action == "translate":
        if upload is None:
            raise PlaygroundError("image: send an image file to translate")
        png = upload if isinstance(upload, bytes) else upload_image(file=upload)
        image_b64 = base64.b64encode(png).decode("ascii")
    from workers.tasks.playground import render

    answer = _wait(
        render,
        {"job_id": job.pk, "action": action, "params": params, "image_b64": image_b64},
    )
    return Result(
        base64.b64decode(answer["data"]), answer["content_type"], answer["meta"]
    )


def model_describe(*, job: Job, checkpoint: int | None = None) -> dict:
    """Family, classes, supported calls, EMA and layer groups of the generator."""
    if checkpoint is None:
        checkpoint = job.promoted_step
    _require_checkpoint(job, checkpoint)
    from workers.tasks.playground import describe

    params = {"checkpoint": checkpoint, "generator": "ema"}
    return _wait(describe, {"job_id": job.pk, "params": params})["info"]


def model_directions(
    *, job: Job, checkpoint: int | None = None, generator: str = "ema"
) -> dict:
    """The PCA directions of the job's generator (computed once per checkpoint
    by a light worker, cached beside it): each component's explained variance,
    and the layer groups for StyleGAN2. Raises PlaygroundError like
    model_render (400 for a family without a latent space)."""
    if checkpoint is None:
        checkpoint = job.promoted_step
    _require_checkpoint(job, checkpoint)
    from workers.tasks.directions import directions

    params = {"checkpoint": checkpoint, "generator": generator}
    timeout = float(getattr(settings, "GAN_DIRECTIONS_TIMEOUT", 120))
    kwargs = {"job_id": job.pk, "params": params}
    return _wait(directions, kwargs, queue="light", timeout=timeout)["info"]
