"""Reading jobs: always scoped to their owner, and honest about lost workers."""

from __future__ import annotations

from django.db.models import Avg, F
from django.http import Http404

from ganweb.core.ids import parse_id
from ganweb.core.text import without_nul
from ganweb.jobs.leases import jobs_mark_interrupted
from ganweb.jobs.models import Job, JobState

HISTORY_SAMPLES = 24


def jobs_for_user(user, *, state: str | None = None):
    jobs_mark_interrupted()
    queryset = Job.objects.filter(owner=user).select_related("dataset")
    if state:  # a value no state has (a NUL even) finds nothing, not a 500
        queryset = queryset.filter(state=without_nul(state))
    return queryset


def job_for_user(user, job_id) -> Job | None:
    """The job if ``user`` owns it; None for missing and foreign jobs alike."""
    if not getattr(user, "is_authenticated", False):
        return None
    job_id = parse_id(job_id)
    if job_id is None:
        return None
    jobs_mark_interrupted()
    return Job.objects.filter(owner=user, pk=job_id).select_related("dataset").first()


def job_for_user_or_404(user, job_id) -> Job:
    """job_for_user, or a 404 for pages and API calls alike."""
    job = job_for_user(user, job_id)
    if job is None:
        raise Http404("no such job")
    return job


def queue_position(job: Job) -> int | None:
    """1 for the next job a free worker takes; None when the job is not waiting."""
    if job.state != JobState.QUEUED or job.queued_at is None:
        return None
    ahead = Job.objects.filter(
        state=JobState.QUEUED, queued_at__lt=job.queued_at
    ).count()
    return ahead + 1


def queue_wait_estimate_seconds(job: Job) -> float | None:
    """Position times the average length of recent finished runs (a rough guide)."""
    position = queue_position(job)
    if position is None:
        return None
    recent = (
        Job.objects.filter(state=JobState.FINISHED, started_at__isnull=False)
        .order_by("-ended_at")[:20]
        .aggregate(avg=Avg(F("ended_at") - F("started_at")))
    )["avg"]
    running = Job.objects.filter(state=JobState.RUNNING).exists()
    if recent is None:
        return None
    return recent.total_seconds() * (position - (0 if running else 1))


def job_summary(job: Job) -> dict:
    """The job as the API and the dashboard show it."""
    return {
        "id": job.pk,
        "name": job.name,
        "note": job.note,
        "state": job.state,
        "model": job.family,
        "dataset": job.data_ref,
        "dataset_title": job.data_title,
        "config": job.config,
        "step": job.step,
        "total_steps": job.total_steps,
        "progress": round(job.progress, 4),
        "metrics": job.metrics,
        "images_per_sec": job.images_per_sec,
        "eta_seconds": job.eta_seconds,
        "error": job.error,
        "device": job.device,
        "gpus": job.gpus,
        "ranks": job.ranks,
        "worker": job.worker,
        "attempts": job.attempts,
        "rollbacks": job.rollbacks,
        "promoted_step": job.promoted_step,
        "parent": job.parent_id,
        "init_from": job_origin_summary(job),
        "imported": bool(job.imported),
        "latest_sample": job.latest_sample,
        "latest_checkpoint": job.latest_checkpoint,
        "queue_position": queue_position(job),
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "ended_at": job.ended_at.isoformat() if job.ended_at else None,
    }


def job_origin_summary(job: Job) -> dict | None:
    """Where the job's weights started, as its owner may see it: the origin's
    page when it is theirs, the shared gallery when a link granted it."""
    if not job.init_from_label:
        return None
    from django.urls import reverse

    url = ""
    if job.init_from_share:
        url = reverse("gallery-shared", args=[job.init_from_share])
    elif job.init_from_id and job.init_from.owner_id == job.owner_id:
        url = reverse("job-detail", args=[job.init_from_id])
    return {
        "job": job.init_from_id,
        "step": job.init_from_step,
        "label": job.init_from_label,
        "url": url,
    }


def job_snapshot(job: Job) -> dict:
    """Everything a viewer needs before live events: the job and its history."""
    points = [
        {"step": step, **values}
        for step, values in job.points.order_by("step").values_list("step", "values")
    ]
    samples = list(job.samples.order_by("-step")[:HISTORY_SAMPLES])
    samples.reverse()
    return {
        "type": "snapshot",
        "job": job_summary(job),
        "points": points,
        "samples": [
            {"step": sample.step, "url": sample.image, **sample.payload}
            for sample in samples
        ],
        "checkpoints": _timeline(job),
    }


def _timeline(job: Job) -> list[dict]:
    """The job's checkpoints, oldest first, each with its figures and the
    sample grid drawn at its step (when there is one)."""
    checkpoints = list(job.checkpoints.values("step", "path", "figures"))
    steps = [c["step"] for c in checkpoints]
    grids = dict(job.samples.filter(step__in=steps).values_list("step", "image"))
    return [{**c, "sample": grids.get(c["step"], "")} for c in checkpoints]
