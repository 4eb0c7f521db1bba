"""Jobs survive what real machines do: deploys, kills, crash loops, time limits."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from ganweb.jobs.models import Checkpoint, Job, JobState, MetricPoint
from tests.conftest import api_token
from tests.deadlines import scaled
from tests.workers.test_training_live import (
    TINY,
    events_until,
    job_socket,
    submit,
    wait_for_state,
)

LONG_RUN = {**TINY, "steps": 200_000, "checkpoint_every": 100}
# Checkpoints far apart, so a kill lands well between two of them.
LOST_BETWEEN_CHECKPOINTS = {**LONG_RUN, "checkpoint_every": 250}


def finish_soon(job_id: int, after_step: int) -> None:
    """Shorten a long run so that, once resumed, it ends a few steps later."""
    job = Job.objects.get(pk=job_id)
    Job.objects.filter(pk=job_id).update(
        config={**job.config, "steps": after_step + 40}
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_sigterm_checkpoints_requeues_and_a_new_worker_resumes(live_stack, alice):
    token = api_token(live_stack.url, alice)
    job_id = submit(live_stack, token, LONG_RUN)
    with job_socket(live_stack, job_id, token) as socket:
        events_until(socket, {"checkpoint"})
        worker = live_stack.workers["training"]
        os.kill(worker.pid, signal.SIGTERM)
        stopped = events_until(socket, {"stopped"}, timeout=30)[-1]
    assert stopped["reason"] == "shutdown"
    worker.popen.wait(timeout=scaled(30))
    job = wait_for_state(job_id, {"queued"}, timeout=10)
    assert job.latest_checkpoint.endswith(".pt")
    finish_soon(job_id, stopped["step"])
    with job_socket(live_stack, job_id, token) as socket:
        live_stack.restart_worker("training")
        events = events_until(socket, {"finished", "failed"})
    started = next(event for event in events if event["type"] == "started")
    assert started["start_step"] == stopped["step"]
    assert events[-1]["type"] == "finished"


def wait_for_point_past(job_id: int, step: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not MetricPoint.objects.filter(job_id=job_id, step__gt=step).exists():
        assert time.monotonic() < deadline, f"no point past step {step}"
        time.sleep(0.05)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_killed_worker_job_continues_by_itself_when_a_worker_is_back(live_stack, alice):
    """It resumes from its checkpoint, and what the lost attempt recorded past
    that checkpoint is dropped: from the database and from live charts."""
    token = api_token(live_stack.url, alice)
    job_id = submit(live_stack, token, LOST_BETWEEN_CHECKPOINTS)
    with job_socket(live_stack, job_id, token) as socket:
        checkpoint = events_until(socket, {"checkpoint"}, timeout=300)[-1]
    wait_for_point_past(job_id, checkpoint["step"])
    os.kill(live_stack.workers["training"].pid, signal.SIGKILL)
    assert wait_for_state(job_id, {"interrupted"}, timeout=30).crash_count == 1
    resume_from = Checkpoint.objects.filter(job_id=job_id).latest("step").step
    lost = set(
        MetricPoint.objects.filter(job_id=job_id, step__gt=resume_from).values_list(
            "pk", flat=True
        )
    )
    assert lost, "the lost attempt recorded nothing past its checkpoint"
    finish_soon(job_id, resume_from)
    with job_socket(live_stack, job_id, token) as socket:
        live_stack.restart_worker("training")  # no resume request: it just continues
        events = events_until(socket, {"finished", "failed"}, timeout=300)
    started = next(event for event in events if event["type"] == "started")
    assert started["start_step"] == resume_from
    rewind = next(event for event in events if event["type"] == "rewind")
    assert rewind["step"] == resume_from
    live = [event for event in events if event["type"] in ("rewind", "step")]
    assert live[0]["type"] == "rewind"  # before the redone steps, not after
    job = wait_for_state(job_id, {"finished"})
    assert job.crash_count == 0 and job.attempts == 2
    history = list(job.points.order_by("pk").values_list("pk", "step"))
    assert not lost & {pk for pk, _ in history}
    steps = [step for _, step in history]
    assert steps == sorted(set(steps)), "the history has repeated steps"


@pytest.mark.django_db
def test_job_that_keeps_losing_its_worker_ends_failed(alice, settings):
    from ganweb.jobs.leases import jobs_mark_interrupted

    settings.GAN_JOB_MAX_CRASHES = 3
    expired = timezone.now() - timedelta(seconds=1)
    common = {
        "owner": alice,
        "data_ref": "builtin:ring8",
        "family": "gan",
        "config": {},
        "state": JobState.RUNNING,
        "lease_expires_at": expired,
    }
    first_crash = Job.objects.create(**common, crash_count=0)
    third_crash = Job.objects.create(**common, crash_count=2)
    assert jobs_mark_interrupted() == 2
    first_crash.refresh_from_db()
    third_crash.refresh_from_db()
    assert first_crash.state == JobState.INTERRUPTED and first_crash.auto_resume
    assert third_crash.state == JobState.FAILED and not third_crash.auto_resume
    assert "3 times in a row" in third_crash.error


@pytest.mark.django_db(transaction=True)
def test_soft_time_limit_ends_in_a_saved_checkpoint_not_a_lost_run(
    alice, settings, media_root
):
    from ganweb.jobs.training import job_run

    settings.GAN_JOB_TIME_LIMIT_SECONDS = 2.0
    job = Job.objects.create(
        owner=alice,
        data_ref="builtin:ring8",
        family="gan",
        config={**LONG_RUN},
        total_steps=LONG_RUN["steps"],
    )
    started = time.monotonic()
    assert job_run(job_id=job.pk, worker="test", device="cpu") == "time-limit"
    assert time.monotonic() - started < 60
    job.refresh_from_db()
    assert job.state == JobState.INTERRUPTED and "time limit" in job.error
    assert job.latest_checkpoint and job.checkpoints.filter(step=job.step).exists()
    assert (media_root / "jobs" / str(job.pk) / "checkpoints" / "latest.pt").is_file()


@pytest.mark.django_db(transaction=True)
def test_second_delivery_of_a_running_job_leaves_it_alone(alice):
    """A redelivered task (visibility timeout) sees the live lease and exits."""
    from ganweb.jobs.leases import job_claim
    from ganweb.jobs.training import job_run

    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config=TINY
    )
    assert job_claim(job_id=job.pk, lease_owner="first", worker="w1", device="cpu")
    assert job_run(job_id=job.pk, worker="w2", device="cpu") == "not-claimed"
    job.refresh_from_db()
    assert (job.state, job.lease_owner, job.attempts) == ("running", "first", 1)


@pytest.mark.django_db(transaction=True)
def test_a_first_run_ignores_files_left_under_a_reused_job_id(alice, media_root):
    """SQLite hands a deleted job's id out again; the new job must not resume
    from the checkpoint the deleted one left behind."""
    from ganweb.jobs.training import job_run

    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config=TINY
    )
    stale = media_root / "jobs" / str(job.pk) / "checkpoints"
    stale.mkdir(parents=True)
    (stale / "latest.pt").write_bytes(b"a checkpoint of some other model")
    (stale / "step_0009999.pt").write_bytes(b"and an older one")

    assert job_run(job_id=job.pk, worker="w1", device="cpu") == "finished"
    job.refresh_from_db()
    assert (job.state, job.step, job.error) == (JobState.FINISHED, TINY["steps"], "")
    assert not (stale / "step_0009999.pt").exists()
    assert (stale / "latest.pt").stat().st_size > 1000
