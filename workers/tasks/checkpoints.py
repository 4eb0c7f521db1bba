"""Checkpoint imports (light queue): the file is read and checked here, in a
worker, so the web process never loads torch (gan_core.checkpoint_import)."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="workers.tasks.checkpoints.import_checkpoint", ignore_result=False)
def import_checkpoint(source: str, dest: str, shown_name: str) -> dict:
    """{family, config, step, data} of the clean copy written to ``dest``, or
    {"error": one line} naming the file as its owner called it."""
    from gan_core.checkpoint import CheckpointError
    from gan_core.checkpoint_import import import_checkpoint as check_and_copy

    try:
        return check_and_copy(Path(source), Path(dest))
    except CheckpointError as exc:
        return {"error": _one_line(exc, source, shown_name)}
    except Exception as exc:  # noqa: BLE001 - a file from outside; say so, live on
        log.warning("import of %s failed: %r", shown_name, exc)
        return {"error": f"{shown_name} is not a usable GAN Studio checkpoint"}


def _one_line(exc: Exception, source: str, shown_name: str) -> str:
    text = str(exc).replace(source, shown_name).replace(Path(source).name, shown_name)
    return text.strip().splitlines()[0] if text.strip() else "unusable checkpoint"
