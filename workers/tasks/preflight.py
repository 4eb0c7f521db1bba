"""Pre-flight probes (light queue): a few training steps of a configuration,
in a fresh process on this worker's device (gan_core.preflight)."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="workers.tasks.preflight.preflight", ignore_result=False)
def preflight(family: str, config: dict, shape: dict) -> dict:
    from gan_core.preflight import DataShape, estimate
    from workers.device import worker_device

    try:
        return estimate(family, config, DataShape(**shape), worker_device()).to_dict()
    except Exception as exc:  # noqa: BLE001 - the form shows why
        log.warning("preflight of %s failed: %s", family, exc)
        return {"error": f"the probe failed: {exc}"}
