"""Job services: the only place that changes jobs (views, API and tasks call them)."""

from __future__ import annotations

import shutil

from django.db import transaction
from django.utils import timezone

from ganweb.core.text import without_nul
from ganweb.jobs.data_sources import (
    DataSourceError,
    family_suits,
    job_media_dir,
    resolve_data_source,
)
from ganweb.jobs.models import RESUMABLE_STATES, Job, JobState


class JobError(ValueError):
    """A request about a job that cannot be done; ``field`` names the culprit,
    ``status`` the HTTP answer."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def validate_job_request(*, user, data_ref: str, family: str, config: dict):
    """Check data, family and settings as the trainer will; return (source, cfg)."""
    from gan_core.config import ConfigError, config_from_dict
    from gan_core.registry import get_family

    try:
        source = resolve_data_source(user=user, data_ref=data_ref)
    except DataSourceError as exc:
        raise JobError(str(exc), field="dataset") from exc
    try:
        recipe = get_family(family)
    except (KeyError, ValueError) as exc:
        raise JobError(f"unknown model family '{family}'", field="model") from exc
    if not family_suits(recipe, source.kind):
        raise JobError(
            f"{family} cannot train on {source.kind} data ('{source.title}')",
            field="model",
        )
    if not isinstance(config, dict):
        raise JobError("config must be an object of settings", field="config")
    try:
        validated = config_from_dict(family, config)
    except ConfigError as exc:
        raise JobError(str(exc), field=getattr(exc, "field", None) or "config") from exc
    return source, validated


def job_name_clean(name, *, default: str) -> str:
    """The name as stored (spaces collapsed, no NUL); ``default`` when blank.
    Longer than the column holds is refused: SQLite would keep it whole and
    PostgreSQL answer 500."""
    limit = Job._meta.get_field("name").max_length
    if not isinstance(name, str):
        raise JobError("name: text", field="name")
    cleaned = " ".join(without_nul(name).split())
    if len(cleaned) > limit:
        raise JobError(f"name: at most {limit} characters", field="name")
    return cleaned or default[:limit]


def _enqueue(job: Job) -> None:
    from workers.tasks.training import train_job

    transaction.on_commit(
        lambda: train_job.apply_async(args=[job.pk], queue="training")
    )


@transaction.atomic
def job_create(
    *, owner, data_ref: str, family: str, config: dict, name: str = "", parent=None
) -> Job:
    source, validated = validate_job_request(
        user=owner, data_ref=data_ref, family=family, config=config
    )
    name = job_name_clean(name, default=f"{family} on {source.title}")
    settings_dict = validated.to_dict()
    job = Job.objects.create(
        owner=owner,
        name=name,
        data_ref=source.data_ref,
        dataset=source.dataset,
        family=family,
        config=settings_dict,
        total_steps=int(settings_dict.get("steps", 0)),
        parent=parent,
        queued_at=timezone.now(),
    )
    _enqueue(job)
    return job


@transaction.atomic
def job_cancel(*, job: Job) -> Job:
    """Queued jobs end at once; running ones stop cooperatively at the next step."""
    now = timezone.now()
    if Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
        state=JobState.CANCELLED, ended_at=now, cancel_requested=True
    ):
        job.refresh_from_db()
        return job
    if not Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        cancel_requested=True
    ):
        job.refresh_from_db()
        raise JobError(
            f"job is {job.state}; only queued or running jobs can be cancelled"
        )
    job.refresh_from_db()
    return job


@transaction.atomic
def job_resume(*, job: Job) -> Job:
    """Queue a stopped job again; the worker continues from its last checkpoint."""
    changed = Job.objects.filter(pk=job.pk, state__in=RESUMABLE_STATES).update(
        state=JobState.QUEUED,
        cancel_requested=False,
        crash_count=0,
        auto_resume=False,
        error="",
        queued_at=timezone.now(),
        ended_at=None,
    )
    job.refresh_from_db()
    if not changed:
        raise JobError(f"job is {job.state}; it cannot be resumed")
    _enqueue(job)
    return job


def job_rerun(*, job: Job, config_changes: dict | None = None) -> Job:
    """A new job with the same data and family, recording where it came from."""
    if not isinstance(config_changes or {}, dict):
        raise JobError("config: a JSON object of settings to change", field="config")
    config = {**job.config, **(config_changes or {})}
    return job_create(
        owner=job.owner,
        data_ref=job.data_ref,
        family=job.family,
        config=config,
        parent=job,
    )


def job_promote(*, job: Job, step: int | None) -> Job:
    """Make checkpoint ``step`` the one the playground uses (None: the latest
    again). Raises JobError when no such checkpoint is kept."""
    from ganweb.playground.selectors import model_checkpoint_path

    if step is not None and not model_checkpoint_path(job, step).is_file():
        raise JobError(f"no checkpoint at step {step}", field="step")
    Job.objects.filter(pk=job.pk).update(promoted_step=step)
    job.refresh_from_db()
    return job


def job_delete(*, job: Job) -> None:
    if job.is_active:
        raise JobError("cancel the job before deleting it")
    folder = job_media_dir(job.pk)
    job.delete()
    shutil.rmtree(folder, ignore_errors=True)


def requeue_after_shutdown(*, job_id: int) -> None:
    """A worker shutting down hands its job back; it resumes from its checkpoint."""
    with transaction.atomic():
        changed = Job.objects.filter(pk=job_id, state=JobState.RUNNING).update(
            state=JobState.QUEUED,
            lease_owner="",
            lease_expires_at=None,
            queued_at=timezone.now(),
        )
        if changed:
            job = Job.objects.get(pk=job_id)
            _enqueue(job)


def jobs_requeue_interrupted(*, older_than_s: float = 0.0) -> int:
    """Queue again the jobs a lost worker interrupted at least ``older_than_s``
    ago, so they continue from their last checkpoint. A training worker that
    starts calls it at once; the periodic sweep after a grace period."""
    from datetime import timedelta

    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    requeued = 0
    for job_id in Job.objects.filter(
        state=JobState.INTERRUPTED, auto_resume=True, ended_at__lte=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            if Job.objects.filter(
                pk=job_id, state=JobState.INTERRUPTED, auto_resume=True
            ).update(
                state=JobState.QUEUED, auto_resume=False, queued_at=timezone.now()
            ):
                _enqueue(Job.objects.get(pk=job_id))
                requeued += 1
    return requeued
