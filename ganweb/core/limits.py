"""Per-user limits on queued and running work, so one user cannot fill the
queues that everybody shares.

Each service that starts work counts the user's active work of its kind and
calls ``active_work_check`` before it queues anything; past the limit it raises
``ActiveWorkLimit``, which ``ActiveWorkLimitMiddleware`` answers with 429 and
the message (JSON for the API, a page otherwise). The limits come from the
environment (ganweb/settings.py); 0 turns one off.
"""

from __future__ import annotations

from django.conf import settings

# kind -> (setting, what the message calls it, what to do meanwhile)
KINDS = {
    "jobs": (
        "GAN_USER_MAX_ACTIVE_JOBS",
        "training jobs queued or running",
        "wait for one to finish or cancel one",
    ),
    "projections": (
        "GAN_USER_MAX_ACTIVE_PROJECTIONS",
        "projections queued or running",
        "wait for one to finish",
    ),
    "datasets": (
        "GAN_USER_MAX_ACTIVE_DATASETS",
        "datasets waiting for or in processing",
        "wait for one to be ready",
    ),
}


class ActiveWorkLimit(Exception):
    """The user already has as much work of this kind as one user may (429)."""

    status = 429

    def __init__(self, kind: str, limit: int):
        setting, what, meanwhile = KINDS[kind]
        super().__init__(
            f"Too many {what}: one user may have {limit} at a time; "
            f"{meanwhile}, then try again."
        )
        self.kind = kind
        self.limit = limit


def active_work_limit(kind: str) -> int:
    """The limit for ``kind`` ("jobs", "projections", "datasets"); 0: none."""
    return int(getattr(settings, KINDS[kind][0], 0) or 0)


def active_work_check(*, kind: str, active: int) -> None:
    """Raise ActiveWorkLimit when ``active`` items already reach the limit."""
    limit = active_work_limit(kind)
    if limit > 0 and active >= limit:
        raise ActiveWorkLimit(kind, limit)
