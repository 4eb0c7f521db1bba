"""Job services: the only place that changes jobs (views, API and tasks call them)."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ganweb.core.text import without_nul
from ganweb.jobs.data_sources import (
    DataSourceError,
    family_suits,
    job_media_dir,
    resolve_data_source,
)
from ganweb.jobs.models import ACTIVE_STATES, RESUMABLE_STATES, Job, JobState

log = logging.getLogger(__name__)

# A queued job whose task has not reached the broker this long after it was
# queued is sent by the sweep (its request's own send may still be under way).
UNSENT_GRACE_S = 5.0


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
    if getattr(validated, "mirror", False) and source.kind == "points":
        raise JobError("mirror flips images; 2D points have none", field="mirror")
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


NOTE_LIMIT = 2000


def job_note_clean(note) -> str:
    """The note as stored: trimmed, no NUL, at most NOTE_LIMIT characters."""
    if not isinstance(note, str):
        raise JobError("note: text", field="note")
    cleaned = without_nul(note).strip()
    if len(cleaned) > NOTE_LIMIT:
        raise JobError(f"note: at most {NOTE_LIMIT} characters", field="note")
    return cleaned


class QueueUnavailable(JobError):
    """The job is saved as queued but its task could not reach the broker; the
    sweep sends it when the broker is back (503, with the job)."""

    status = 503

    def __init__(self, job: Job):
        super().__init__(
            f"The job queue cannot be reached right now. Job {job.pk} is saved "
            "and queued: it starts by itself when the queue is back, so there "
            "is no need to submit it again."
        )
        self.job = job


def job_gpus_clean(gpus, *, config) -> int:
    """The number of devices a new job asks for: 1 .. the most an online
    training worker owns, dividing the global batch evenly."""
    if isinstance(gpus, bool) or not isinstance(gpus, int | str):
        raise JobError("gpus: a whole number of devices", field="gpus")
    try:
        gpus = int(gpus)
    except ValueError:
        raise JobError("gpus: a whole number of devices", field="gpus") from None
    if gpus < 1:
        raise JobError("gpus: at least 1", field="gpus")
    if gpus == 1:
        return 1
    from ganweb.jobs.devices_online import max_devices_online

    most = max_devices_online()
    if gpus > most:
        raise JobError(
            f"gpus: no online training worker owns {gpus} devices "
            f"(the most one owns now is {most})",
            field="gpus",
        )
    batch = int(config.get("batch_size") or 0)
    if batch % gpus:
        raise JobError(
            f"gpus: the batch of {batch} does not split evenly over {gpus} "
            "devices (each trains on batch_size / gpus)",
            field="gpus",
        )
    return gpus


def job_send(*, job_id: int) -> bool:
    """Hand a queued job's task to the broker, once and quickly; record that it
    was sent. False when the broker cannot be reached: the job stays queued
    and the periodic sweep (jobs_send_unsent) sends it later."""
    from ganweb.core.broker import BrokerUnavailable, send_once
    from workers.queues import training_queue
    from workers.tasks.training import train_job

    try:
        gpus = Job.objects.filter(pk=job_id).values_list("gpus", flat=True).first()
        send_once(train_job, args=[job_id], queue=training_queue(gpus or 1))
    except BrokerUnavailable as exc:
        log.warning("job %s stays queued, not sent: %s", job_id, exc)
        return False
    Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(sent_at=timezone.now())
    return True


def _enqueue(job: Job) -> dict:
    """Send the job's task once the row is committed (a worker must find it).
    The returned dict gets ``sent`` (True/False) when the send has happened."""
    outcome: dict = {}
    transaction.on_commit(lambda: outcome.update(sent=job_send(job_id=job.pk)))
    return outcome


def _raise_if_unsent(job: Job, outcome: dict) -> None:
    if outcome.get("sent") is False:
        raise QueueUnavailable(job)


def job_origin(*, user, origin, family: str, settings_dict: dict, source):
    """The resolved and checked origin of a new job (None: random weights).
    ``origin`` is an API/form request ({"job", "step", "share"}) or an Origin."""
    from ganweb.jobs.origins import Origin, OriginError, origin_check, origin_resolve
    from ganweb.jobs.preflight import data_shape

    if origin is None:
        return None
    try:
        if not isinstance(origin, Origin):
            origin = origin_resolve(user=user, origin=origin)
        origin_check(
            origin, family=family, config=settings_dict, shape=data_shape(source)
        )
    except OriginError as exc:
        raise JobError(str(exc), field="init_from") from exc
    return origin


def job_create(
    *,
    owner,
    data_ref: str,
    family: str,
    config: dict,
    name: str = "",
    note: str = "",
    parent=None,
    origin=None,
    gpus=1,
) -> Job:
    """Validate and queue a job. ``origin``: where its weights start (see
    job_origin; None: random); ``gpus``: devices it trains on at once. Raises
    JobError (400), ActiveWorkLimit (429), or QueueUnavailable (503) when the
    job is saved but could not be sent."""
    from ganweb.jobs.origins import origin_link

    source, validated = validate_job_request(
        user=owner, data_ref=data_ref, family=family, config=config
    )
    settings_dict = validated.to_dict()
    origin = job_origin(
        user=owner,
        origin=origin,
        family=family,
        settings_dict=settings_dict,
        source=source,
    )
    name = job_name_clean(name, default=f"{family} on {source.title}")
    note = job_note_clean(note)
    gpus = job_gpus_clean(gpus, config=settings_dict)
    with transaction.atomic():
        _check_active_jobs(owner)
        job = Job.objects.create(
            owner=owner,
            name=name,
            note=note,
            data_ref=source.data_ref,
            dataset=source.dataset,
            family=family,
            config=settings_dict,
            total_steps=int(settings_dict.get("steps", 0)),
            parent=parent,
            init_from=origin.job if origin else None,
            init_from_step=origin.step if origin else None,
            init_from_share=origin.share if origin else "",
            init_from_label=origin.label if origin else "",
            queued_at=timezone.now(),
            gpus=gpus,
        )
        if origin is not None:  # before the task is sent (on commit)
            origin_link(origin, job.pk)
        outcome = _enqueue(job)
    _raise_if_unsent(job, outcome)
    return job


def _check_active_jobs(owner) -> None:
    """Refuse a user's job past GAN_USER_MAX_ACTIVE_JOBS queued or running.
    The user's row is locked first so two submissions at once cannot both
    pass (ganweb.core.locks)."""
    from ganweb.core.limits import active_work_check
    from ganweb.core.locks import lock_user

    lock_user(owner)
    active = Job.objects.filter(owner=owner, state__in=ACTIVE_STATES).count()
    active_work_check(kind="jobs", active=active)


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


def job_resume(*, job: Job) -> Job:
    """Queue a stopped job again; the worker continues from its last checkpoint.
    Raises like job_create (a resumed job counts towards the user's limit)."""
    with transaction.atomic():
        if job.state in RESUMABLE_STATES:
            _check_active_jobs(job.owner)
        changed = Job.objects.filter(pk=job.pk, state__in=RESUMABLE_STATES).update(
            state=JobState.QUEUED,
            cancel_requested=False,
            crash_count=0,
            auto_resume=False,
            error="",
            queued_at=timezone.now(),
            sent_at=None,
            ended_at=None,
        )
        job.refresh_from_db()
        if not changed:
            raise JobError(f"job is {job.state}; it cannot be resumed")
        outcome = _enqueue(job)
    _raise_if_unsent(job, outcome)
    return job


def job_rerun(*, job: Job, config_changes: dict | None = None) -> Job:
    """A new job with the same data and family, recording where it came from."""
    if not isinstance(config_changes or {}, dict):
        raise JobError("config: a JSON object of settings to change", field="config")
    from ganweb.jobs.origins import origin_of

    if job.imported:
        raise JobError("an imported model was not trained here: it has no re-run")
    config = {**job.config, **(config_changes or {})}
    return job_create(
        owner=job.owner,
        data_ref=job.data_ref,
        family=job.family,
        config=config,
        parent=job,
        origin=origin_of(job),
        gpus=job.gpus,
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
    from ganweb.jobs.origins import origin_checkpoint_path

    folder, origin_file = job_media_dir(job.pk), origin_checkpoint_path(job.pk)
    job.delete()
    shutil.rmtree(folder, ignore_errors=True)
    origin_file.unlink(missing_ok=True)


def requeue_after_shutdown(*, job_id: int) -> None:
    """A worker shutting down hands its job back; it resumes from its checkpoint."""
    with transaction.atomic():
        changed = Job.objects.filter(pk=job_id, state=JobState.RUNNING).update(
            state=JobState.QUEUED,
            lease_owner="",
            lease_expires_at=None,
            queued_at=timezone.now(),
            sent_at=None,
        )
        if changed:
            job = Job.objects.get(pk=job_id)
            _enqueue(job)


def jobs_requeue_interrupted(*, older_than_s: float = 0.0) -> int:
    """Queue again the jobs a lost worker interrupted at least ``older_than_s``
    ago, so they continue from their last checkpoint. A training worker that
    starts calls it at once; the periodic sweep after a grace period."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    requeued = 0
    for job_id in Job.objects.filter(
        state=JobState.INTERRUPTED, auto_resume=True, ended_at__lte=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            if Job.objects.filter(
                pk=job_id, state=JobState.INTERRUPTED, auto_resume=True
            ).update(
                state=JobState.QUEUED,
                auto_resume=False,
                queued_at=timezone.now(),
                sent_at=None,
            ):
                _enqueue(Job.objects.get(pk=job_id))
                requeued += 1
    return requeued


def jobs_send_unsent(*, older_than_s: float = UNSENT_GRACE_S) -> int:
    """Send the queued jobs that have no task in the broker; returns how many
    were sent. Run by the periodic sweep. Two kinds: those whose task never
    reached it (it was down when they were queued), and those sent more than
    GAN_JOB_RESEND_AFTER_SECONDS ago whose message the broker no longer holds
    (a Redis that restarted without its data).

    A job whose message is there after all gets a second one, which is
    harmless: the first delivery claims the job with a conditional update, any
    other finds it claimed (or done) and leaves it alone."""
    from django.conf import settings

    now = timezone.now()
    queued = Job.objects.filter(
        state=JobState.QUEUED, queued_at__lte=now - timedelta(seconds=older_than_s)
    ).order_by("queued_at")
    to_send = list(queued.filter(sent_at__isnull=True).values_list("pk", flat=True))
    resend_after = float(getattr(settings, "GAN_JOB_RESEND_AFTER_SECONDS", 60))
    long_sent = queued.filter(sent_at__lte=now - timedelta(seconds=resend_after))
    if long_sent.exists():
        to_send += _without_message(list(long_sent.values_list("pk", flat=True)))
    sent = 0
    for job_id in to_send:
        if not job_send(job_id=job_id):
            break  # the broker is still down: the next sweep tries again
        sent += 1
    return sent


def _without_message(job_ids: list[int]) -> list[int]:
    """Those of ``job_ids`` that no training message in the broker names."""
    from ganweb.core.broker import first_args_waiting
    from workers.queues import training_queue

    counts = Job.objects.filter(pk__in=job_ids).values_list("gpus", flat=True)
    waiting = set()
    for gpus in sorted(set(counts)):
        in_queue = first_args_waiting(
            queue=training_queue(gpus), task_name="workers.tasks.training.train_job"
        )
        if in_queue is None:  # cannot tell: send nothing rather than duplicates
            return []
        waiting |= set(in_queue)
    lost = [job_id for job_id in job_ids if job_id not in waiting]
    if lost:
        log.warning("jobs %s are queued but the broker has no task for them", lost)
    return lost
