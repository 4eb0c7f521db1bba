"""Running one job on this worker: claim, train with gan_core, record the outcome.

Safe to deliver twice: the claim is a conditional update, so a second delivery
of a job that another worker holds (live lease) returns without touching it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError

from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.leases import (
    job_claim,
    job_renew_lease,
    lease_seconds,
    new_lease_owner,
)
from ganweb.jobs.models import Job, JobState
from ganweb.jobs.progress import ProgressForwarder, event_publisher, mark

log = logging.getLogger(__name__)

# Set when this worker process is asked to shut down (SIGTERM on a deploy): the
# running job checkpoints, goes back to the queue, and another worker resumes it.
SHUTDOWN = threading.Event()

OOM_HINT = (
    "out of memory on {device}. Try a smaller batch size or image size, "
    "or mixed precision (precision=bf16)."
)


@dataclass
class StopSignal:
    """Why the training loop should stop; checked by gan_core every step."""

    event: threading.Event = field(default_factory=threading.Event)
    reason: str = ""
    deadline: float | None = None  # time.monotonic() of the soft time limit

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def __call__(self) -> bool:
        if SHUTDOWN.is_set():
            self.set("shutdown")
        elif self.deadline is not None and time.monotonic() > self.deadline:
            self.set("time-limit")
        return self.event.is_set()


class Heartbeat(threading.Thread):
    """Renews the lease and notices a cancel request while the job trains."""

    def __init__(self, job_id: int, lease_owner: str, stop: StopSignal):
        super().__init__(name=f"heartbeat-job-{job_id}", daemon=True)
        self.job_id = job_id
        self.lease_owner = lease_owner
        self.stop_signal = stop
        self.finished = threading.Event()
        self.interval = min(
            lease_seconds() / 3,
            float(getattr(settings, "GAN_CANCEL_POLL_SECONDS", 1.0)),
        )

    def run(self) -> None:
        from django.db import close_old_connections

        try:
            while not self.finished.wait(self.interval):
                try:
                    if not self.beat():
                        return
                except DatabaseError as exc:
                    # A locked or restarting database is no reason to give up
                    # the job: try again at the next beat, the lease has slack.
                    log.warning("job %s heartbeat failed: %s", self.job_id, exc)
                    close_old_connections()
        finally:
            close_old_connections()

    def beat(self) -> bool:
        """One renewal and cancel check; False once the job is no longer ours."""
        renewal = job_renew_lease(job_id=self.job_id, lease_owner=self.lease_owner)
        if renewal == "lost":
            self.stop_signal.set("lease-lost")
            return False
        if renewal == "revived":
            log.warning("job %s was marked interrupted; still ours", self.job_id)
            mark(self.job_id, state=JobState.RUNNING, error="")
        if Job.objects.filter(pk=self.job_id, cancel_requested=True).exists():
            self.stop_signal.set("cancel")
        return True

    def stop(self) -> None:
        self.finished.set()
        self.join(timeout=10)


def _is_out_of_memory(exc: BaseException) -> bool:
    return (
        "out of memory" in str(exc).lower()
        or exc.__class__.__name__ == "OutOfMemoryError"
    )


def job_run(
    *,
    job_id: int,
    worker: str,
    device: str,
    device_label: str = "",
    devices: tuple[str, ...] = (),
    device_labels: tuple[str, ...] = (),
) -> str:
    """Train the job if we can claim it; return what happened, for the task result.

    ``device`` is the torch device ("cpu", "cuda:0"); ``device_label`` adds the
    hardware name for people to read. ``devices`` (and their labels): all the
    worker owns; a job asking for N > 1 trains on the first N, one rank each.
    """
    lease_owner = new_lease_owner()
    label = device_label or device
    gpus = Job.objects.filter(pk=job_id).values_list("gpus", flat=True).first() or 1
    if gpus > 1:
        from ganweb.jobs.multi_device import devices_label

        if len(devices) < gpus:  # routing sends it elsewhere; an old message
            log.warning(
                "job %s wants %s devices, this worker has %s",
                job_id,
                gpus,
                len(devices),
            )
            return "not-enough-devices"
        devices = tuple(devices[:gpus])
        labels = list((device_labels or devices)[:gpus])
        label = devices_label(labels)
    if not job_claim(
        job_id=job_id, lease_owner=lease_owner, worker=worker, device=label
    ):
        return "not-claimed"
    job = Job.objects.select_related("dataset").get(pk=job_id)
    mark(job_id, state=JobState.RUNNING, device=label, worker=worker)
    stop = StopSignal()
    limit = float(getattr(settings, "GAN_JOB_TIME_LIMIT_SECONDS", 0))
    if limit > 0:
        stop.deadline = time.monotonic() + limit
    heartbeat = Heartbeat(job_id, lease_owner, stop)
    heartbeat.start()
    try:
        if gpus > 1:
            outcome = _train(job, device, stop, devices=list(devices), labels=labels)
        else:
            outcome = _train(job, device, stop)
    finally:
        heartbeat.stop()
        event_publisher().flush()
    return outcome


def _training_data(job: Job, config, forwarder):
    """What the trainer takes as ``data``: a built-in name, or the upload through
    its training cache (built first when missing, each step on the job's page)
    with its real class names (folders on disk are numbered, names are ours)."""
    if job.dataset is None:
        return job.data_ref
    from gan_core.events import PreparingEvent

    def preparing(done: int, total: int) -> None:
        forwarder(PreparingEvent(image_size=config.image_size, done=done, total=total))

    return upload_data(job, config.image_size, also=preparing)


def upload_data(job: Job, image_size: int, also=None):
    """The job's upload at ``image_size`` through its training cache, with
    the real class names; what training and its evaluation both read."""
    import dataclasses

    from ganweb.datasets.training_cache import dataset_cache_load

    data = dataset_cache_load(dataset=job.dataset, image_size=image_size, also=also)
    names = (job.dataset.stats or {}).get("class_names") or []
    if getattr(data, "labels", None) is not None and len(names) == data.num_classes:
        data = dataclasses.replace(data, class_names=tuple(names))
    return data


def _train(job: Job, device: str, stop: StopSignal, devices=None, labels=None) -> str:
    from gan_core.config import config_from_dict
    from gan_core.trainer import TrainingDiverged, train
    from workers.ranks import RanksFailed, RanksLost

    out_dir = job_media_dir(job.pk)
    if job.attempts == 1 and out_dir.exists():
        # A job's first run starts from nothing. Files already under its id
        # were left by a deleted job whose id the database reused (SQLite
        # hands out the highest id again); resuming from them would be wrong.
        log.warning("job %s: removing files of an earlier job %s", job.pk, out_dir)
        shutil.rmtree(out_dir)
    forwarder = ProgressForwarder(job.pk, media_prefix=f"/jobs/{job.pk}/files")
    resume = (out_dir / "checkpoints" / "latest.pt").exists()
    try:
        config = config_from_dict(job.family, job.config)
        init_from = _origin_file(job)
        if devices:
            status = _train_on_ranks(
                job, config, forwarder, stop, devices, labels, resume, init_from
            )
        else:
            status = train(
                config,
                data=_training_data(job, config, forwarder),
                out_dir=out_dir,
                device=device,
                on_event=forwarder,
                should_stop=stop,
                resume=resume,
                init_from=init_from,
            ).status
    except TrainingDiverged as exc:
        mark(job.pk, state=JobState.FAILED, error=str(exc), lease_owner="")
        return "failed"
    except RanksLost as exc:
        from ganweb.jobs.multi_device import job_ranks_lost

        return job_ranks_lost(job.pk, str(exc))
    except RanksFailed as exc:
        log.warning("job %s failed on its ranks: %s", job.pk, exc)
        where = f"rank {exc.rank} ({labels[exc.rank]})"
        reason = OOM_HINT.format(device=where) if exc.oom else exc.reason
        mark(job.pk, state=JobState.FAILED, error=reason, lease_owner="")
        return "failed"
    except Exception as exc:  # the job fails with its reason; the worker lives on
        log.exception("job %s failed", job.pk)
        reason = (
            OOM_HINT.format(device=device)
            if _is_out_of_memory(exc)
            else f"{exc.__class__.__name__}: {exc}"
        )
        mark(job.pk, state=JobState.FAILED, error=reason, lease_owner="")
        return "failed"
    if status == "finished":
        mark(job.pk, state=JobState.FINISHED, lease_owner="", crash_count=0)
        return "finished"
    return _after_stop(job, stop.reason)


def _train_on_ranks(job, config, forwarder, stop, devices, labels, resume, init_from):
    """The run on several devices; the upload's cache is built here first (each
    step on the job's page), so the ranks only open it."""
    from ganweb.jobs.multi_device import job_train_on_ranks, rank_spec

    if job.dataset is not None:
        _training_data(job, config, forwarder)
    spec = rank_spec(
        job,
        config,
        devices=devices,
        out_dir=job_media_dir(job.pk),
        resume=resume,
        init_from=init_from,
    )
    return job_train_on_ranks(job, spec, labels=labels, forwarder=forwarder, stop=stop)


def _origin_file(job: Job):
    """The checkpoint a job with an origin starts from (gan_core checks it);
    None for random weights. A job whose origin file is gone cannot start."""
    if not job.init_from_label:
        return None
    from ganweb.jobs.origins import origin_checkpoint_path

    path = origin_checkpoint_path(job.pk)
    if not path.is_file():
        raise FileNotFoundError(f"the checkpoint it starts from is gone: {path.name}")
    return path


def _after_stop(job: Job, reason: str) -> str:
    if reason == "cancel":
        mark(job.pk, state=JobState.CANCELLED, lease_owner="")
        return "cancelled"
    if reason == "time-limit":
        mark(
            job.pk,
            state=JobState.INTERRUPTED,
            lease_owner="",
            error="Stopped at the time limit after saving a checkpoint; resume to "
            "continue.",
        )
        return "time-limit"
    if reason == "shutdown":
        # Back to the queue: the checkpoint was just written, a new worker resumes.
        from ganweb.jobs.services import requeue_after_shutdown

        requeue_after_shutdown(job_id=job.pk)
        return "requeued"
    return "lease-lost"
