"""Job leases: how a worker proves it is still training a job.

A worker that claims a job holds a lease until ``lease_expires_at`` and renews it
from a heartbeat thread. A job whose lease ran out while ``running`` lost its
worker (killed, machine gone): it is marked ``interrupted`` and can resume from
its last checkpoint. A second delivery of the same task sees a live lease and
leaves the job alone, so one job is never trained twice at once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from ganweb.jobs.models import Job, JobState


def lease_seconds() -> float:
    return float(getattr(settings, "GAN_JOB_LEASE_SECONDS", 30))


def new_lease_owner() -> str:
    return uuid.uuid4().hex


def job_claim(*, job_id: int, lease_owner: str, worker: str, device: str) -> bool:
    """Atomically take a queued job (or one whose worker died); True if we got it."""
    now = timezone.now()
    claimable = Q(state=JobState.QUEUED) | Q(
        state=JobState.RUNNING, lease_expires_at__lt=now
    )
    changed = Job.objects.filter(claimable, id=job_id, cancel_requested=False).update(
        state=JobState.RUNNING,
        lease_owner=lease_owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
        worker=worker,
        device=device,
        started_at=now,
        error="",
    )
    return changed == 1


def job_renew_lease(*, job_id: int, lease_owner: str) -> str:
    """Extend our lease: "renewed", "revived" or "lost" (then we must stop).

    "revived": a reader marked the job interrupted because a renewal came late
    (a starved or stalled worker), but nobody has taken it since, so it is
    still ours and goes back to running instead of losing the work in flight.
    """
    now = timezone.now()
    expires = now + timedelta(seconds=lease_seconds())
    mine = Job.objects.filter(id=job_id, lease_owner=lease_owner)
    if mine.filter(state=JobState.RUNNING).update(lease_expires_at=expires):
        return "renewed"
    revived = mine.filter(state=JobState.INTERRUPTED).update(
        state=JobState.RUNNING,
        lease_expires_at=expires,
        error="",
        ended_at=None,
        auto_resume=False,
        crash_count=F("crash_count") - 1,
    )
    return "revived" if revived else "lost"


def max_crashes() -> int:
    return int(getattr(settings, "GAN_JOB_MAX_CRASHES", 3))


def jobs_mark_interrupted() -> int:
    """Running jobs whose lease has run out lost their worker: say so.

    They resume by themselves when a training worker starts, unless they have
    now lost their worker ``max_crashes()`` times in a row: then they fail.
    """
    now = timezone.now()
    lost = Job.objects.filter(state=JobState.RUNNING, lease_expires_at__lt=now)
    if not lost.exists():  # the common case: a cheap read, no write lock taken
        return 0
    failed = lost.filter(crash_count__gte=max_crashes() - 1).update(
        state=JobState.FAILED,
        error=f"The job stopped its worker {max_crashes()} times in a row (killed, "
        "or out of memory?). Try a smaller batch size or image size, then resume.",
        crash_count=F("crash_count") + 1,
        ended_at=now,
        lease_owner="",
        auto_resume=False,
    )
    # The lease owner stays: a worker that was only late takes the job back
    # at its next renewal (see job_renew_lease); any resume replaces it.
    interrupted = lost.update(
        state=JobState.INTERRUPTED,
        error="The worker running this job stopped answering; it continues from "
        "the last checkpoint when a worker is back, or when you resume it.",
        crash_count=F("crash_count") + 1,
        ended_at=now,
        auto_resume=True,
    )
    return failed + interrupted
