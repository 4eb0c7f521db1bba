"""Latent projections: a queued light task with live progress.

A projection record lives in the cache (Redis) for a day: who asked, for which
model, how far it is, and where the result is. The worker updates it and
publishes each change to the projection's channel group, which the page's
socket follows; the result (the upload beside its projection, and the latent)
is written under the job's media folder.
"""

from __future__ import annotations

import base64
import time
import uuid

from django.core.cache import cache

from ganweb.playground.params import PlaygroundError

RECORD_SECONDS = 24 * 3600
MAX_STEPS = 1000
ACTIVE_STATES = ("queued", "running")
# A projection whose record has not changed this long lost its worker (or
# waits behind much else); it no longer counts towards its owner's limit.
STALE_SECONDS = 15 * 60


def projection_group(projection_id: str) -> str:
    return f"projection-{projection_id}"


def _is_projection_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def _key(projection_id: str) -> str:
    return f"projection:{projection_id}"


def _owner_key(user_id: int) -> str:
    return f"projections-of:{int(user_id)}"


def _active_projection_ids(user) -> list[str]:
    """The user's projections still queued or running (not stale)."""
    ids = cache.get(_owner_key(user.pk)) or []
    records = cache.get_many([_key(i) for i in ids])
    now = time.time()
    return [
        i
        for i in ids
        if (record := records.get(_key(i)))
        and record.get("state") in ACTIVE_STATES
        and now - record.get("updated_at", 0) < STALE_SECONDS
    ]


def projection_start(
    *, user, job, png: bytes, steps: int = 200, seed: int = 0, label=None
) -> dict:
    """Queue the projection of ``png`` (already decoded and re-encoded) onto
    ``job``'s generator; returns its record."""
    from ganweb.core.limits import active_work_check
    from workers.tasks.projection import project_image

    if not 1 <= steps <= MAX_STEPS:
        raise PlaygroundError(f"steps must be between 1 and {MAX_STEPS}")
    # Two requests at the very same moment may both pass (no lock): the limit
    # is about a user filling the queue, which takes many more than two.
    active = _active_projection_ids(user)
    active_work_check(kind="projections", active=len(active))
    projection_id = uuid.uuid4().hex
    record = {
        "id": projection_id,
        "owner": user.pk,
        "model": job.pk,
        "state": "queued",
        "step": 0,
        "steps": steps,
        "distance": None,
        "space": "",
        "url": "",
        "error": "",
        "checkpoint": job.promoted_step,
        "updated_at": time.time(),
    }
    cache.set(_key(projection_id), record, RECORD_SECONDS)
    cache.set(_owner_key(user.pk), [*active, projection_id], RECORD_SECONDS)
    project_image.apply_async(
        kwargs={
            "projection_id": projection_id,
            "job_id": job.pk,
            "image_b64": base64.b64encode(png).decode("ascii"),
            "steps": steps,
            "seed": seed,
            "label": label,
            "checkpoint": job.promoted_step,
        },
        queue="light",
    )
    return record


def projection_for_user(user, projection_id: str) -> dict | None:
    """The record if ``user`` asked for it; None for others and unknown ids."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not _is_projection_id(str(projection_id)):
        return None  # ids are uuid4 hex; anything else never names a record
    record = cache.get(_key(str(projection_id)))
    if record is None or record.get("owner") != user.pk:
        return None
    return record


def projection_update(projection_id: str, **fields) -> dict:
    """Called by the worker: store the new fields, return the whole record."""
    record = cache.get(_key(projection_id)) or {"id": projection_id}
    record.update(fields, updated_at=time.time())
    cache.set(_key(projection_id), record, RECORD_SECONDS)
    return record


def public_view(record: dict) -> dict:
    """The record as its owner sees it."""
    return {k: v for k, v in record.items() if k not in ("owner", "updated_at")}
