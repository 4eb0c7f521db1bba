"""Latent projection (light queue): gan_core.projection with live progress."""

from __future__ import annotations

import base64
import io
import logging
import time

from celery import shared_task

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.2


@shared_task(name="workers.tasks.projection.project_image", ignore_result=True)
def project_image(
    projection_id: str,
    job_id: int,
    image_b64: str,
    steps: int,
    seed: int = 0,
    label=None,
    checkpoint: int | None = None,
) -> None:
    import torch
    from PIL import Image

    from gan_core.projection import project
    from gan_core.sampling import save_grid
    from ganweb.jobs.data_sources import job_media_dir
    from ganweb.jobs.progress import event_publisher
    from ganweb.playground.projections import (
        projection_group,
        projection_update,
        public_view,
    )
    from workers.tasks.playground import checkpoint_file, generator_cache

    publisher = event_publisher()
    group = projection_group(projection_id)

    def tell(kind: str, **fields) -> None:
        record = projection_update(projection_id, **fields)
        publisher.publish(group, {"type": kind, **public_view(record)})

    last = [0.0]

    def on_step(step: int, distance: float) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or step == steps:
            last[0] = now
            tell("progress", state="running", step=step, distance=distance)

    try:
        tell("progress", state="running", step=0)
        loaded = generator_cache().get(checkpoint_file(job_id, checkpoint), "ema")
        with Image.open(io.BytesIO(base64.b64decode(image_b64))) as opened:
            image = opened.convert("L" if loaded.handle.channels == 1 else "RGB")
        result = project(
            loaded.handle,
            image,
            steps=steps,
            seed=seed,
            label=label,
            on_step=on_step,
            features=_digit_features(job_id),
        )
        folder = job_media_dir(job_id) / "projections"
        folder.mkdir(parents=True, exist_ok=True)
        save_grid(
            torch.stack([result.target, result.image]),
            folder / f"{projection_id}.png",
            nrow=2,
        )
        torch.save(
            {"space": result.space, "latent": result.latent},
            folder / f"{projection_id}.pt",
        )
        tell(
            "done",
            state="done",
            step=steps,
            distance=result.losses[-1],
            space=result.space,
            url=f"/jobs/{job_id}/files/projections/{projection_id}.png",
        )
    except Exception as exc:  # noqa: BLE001 - the page shows why
        log.exception("projection %s failed", projection_id)
        tell("failed", state="failed", error=f"{exc.__class__.__name__}: {exc}")
    finally:
        publisher.flush()


def _digit_features(job_id: int):
    """Our digit classifier's features for models of the built-in digit sets,
    when the classifier is already trained (it is never trained here)."""
    from gan_core.evaluation.classifier import weights_path
    from gan_core.projection import classifier_features
    from ganweb.jobs.models import Job

    data_ref = Job.objects.filter(pk=job_id).values_list("data_ref", flat=True).first()
    name = (data_ref or "").removeprefix("builtin:")
    if name in ("digits", "mnist") and weights_path(name).is_file():
        return classifier_features(name)
    return None
