"""A job on several devices of this worker: its ranks, seen from the web's side.

The worker's job thread keeps what a single-device job has (the claim, the
lease heartbeat, the stop signal, the progress forwarder) and hands the
training to workers.ranks, which starts one process per device with torch's
launcher. Rank 0's events come back here and go through the same forwarder;
the stop signal (cancel, shutdown, time limit, lost lease) goes to rank 0,
which gan_core broadcasts to the others.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections
from django.db.models import F

from ganweb.jobs.models import Job, JobState
from ganweb.jobs.progress import mark

log = logging.getLogger(__name__)


def devices_label(devices: list[str]) -> str:
    """What the job's ``device`` column says for a run on several devices."""
    if len(set(devices)) == 1:
        return f"{len(devices)} × {devices[0]}"
    return ", ".join(devices)


def job_ranks_initial(devices: list[str]) -> list[dict]:
    return [{"rank": r, "device": d, "pid": None} for r, d in enumerate(devices)]


class RankBook:
    """Writes each rank's pid into the job row as the rank says hello."""

    def __init__(self, job_id: int, labels: list[str]):
        self.job_id = job_id
        self.ranks = job_ranks_initial(labels)
        self.lock = threading.Lock()
        Job.objects.filter(pk=job_id).update(ranks=self.ranks)

    def hello(self, rank: int, pid: int) -> None:
        with self.lock:
            if 0 <= rank < len(self.ranks):
                self.ranks[rank] = {**self.ranks[rank], "pid": pid}
            Job.objects.filter(pk=self.job_id).update(ranks=list(self.ranks))


def rank_spec(job: Job, config, *, devices: list[str], out_dir, resume, init_from):
    """The plain data every rank trains from."""
    from workers.ranks import RankSpec

    cuda = devices[0].startswith("cuda")
    visible = _visible_devices(devices) if cuda else ""
    common = dict(
        family=job.family,
        config=config.to_dict(),
        out_dir=str(out_dir),
        device="cuda" if cuda else "cpu",
        resume=resume,
        init_from=str(init_from) if init_from else None,
        visible_devices=visible,
    )
    if job.dataset is None:
        return RankSpec(data=job.data_ref, **common)
    from ganweb.datasets.training_cache import dataset_cache_dir, dataset_training_path

    names = tuple((job.dataset.stats or {}).get("class_names") or ())
    return RankSpec(
        data=str(dataset_training_path(dataset=job.dataset)),
        cache_dir=str(dataset_cache_dir(job.dataset.pk)),
        class_names=names,
        **common,
    )


def _visible_devices(devices: list[str]) -> str:
    """CUDA_VISIBLE_DEVICES for the ranks, so rank r's ``cuda:r`` is the
    worker's r-th device (through the worker's own CUDA_VISIBLE_DEVICES, if
    it was started with one: its cuda:0 is that list's first entry)."""
    import os

    indices = [int(d.partition(":")[2] or 0) for d in devices]
    outer = [v for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v]
    return ",".join(outer[i] if outer else str(i) for i in indices)


def job_train_on_ranks(job: Job, spec, *, labels: list[str], forwarder, stop) -> str:
    """Train ``job`` on ``len(labels)`` ranks; "finished" or "stopped".

    Raises workers.ranks.RanksFailed (a rank raised: the job fails) and
    RanksLost (a rank died: the job is interrupted, see job_ranks_lost)."""
    from workers.ranks import ranks_train

    book = RankBook(job.pk, labels)
    result = ranks_train(
        spec,
        world_size=len(labels),
        on_event=forwarder,
        should_stop=stop,
        stop_reason=lambda: stop.reason,
        on_hello=book.hello,
        on_link_end=close_old_connections,
    )
    return result["status"]


def job_ranks_lost(job_id: int, why: str) -> str:
    """A rank died (killed, out of host memory): the attempt is over, as when
    the worker dies. The job is interrupted and resumes from its checkpoint
    (the periodic sweep queues it again, or its owner resumes it)."""
    from ganweb.jobs.leases import max_crashes

    log.warning("job %s lost a rank: %s", job_id, why)
    job = Job.objects.get(pk=job_id)
    if job.crash_count + 1 >= max_crashes():
        mark(
            job_id,
            state=JobState.FAILED,
            error=f"The job lost a process {max_crashes()} times in a row ({why}).",
            lease_owner="",
            auto_resume=False,
            crash_count=F("crash_count") + 1,
        )
        return "failed"
    mark(
        job_id,
        state=JobState.INTERRUPTED,
        error=f"A process of this job stopped ({why}); it continues from the "
        "last checkpoint when resumed.",
        lease_owner="",
        auto_resume=True,
        crash_count=F("crash_count") + 1,
    )
    return "interrupted"
