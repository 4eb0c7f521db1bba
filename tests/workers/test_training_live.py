"""Training jobs end to end: real Redis, real Celery worker, real WebSocket client."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests

from ganweb.jobs.models import Job, JobState, MetricPoint
from tests.conftest import api_token, session_cookie_for
from tests.deadlines import Deadline, scaled, wait_until
from tests.wsclient import handshake_status, open_socket, receive_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A tiny MLP GAN on the 8-Gaussian ring: hundreds of steps a second on a CPU.
TINY = {
    "steps": 60,
    "batch_size": 64,
    "seed": 3,
    "sample_every": 20,
    "checkpoint_every": 20,
}
LONG = {**TINY, "steps": 200_000, "sample_every": 50, "checkpoint_every": 50}


def submit(live_stack, token: str, config: dict, model: str = "gan") -> int:
    response = requests.post(
        f"{live_stack.url}/api/jobs/",
        json={"dataset": "builtin:ring8", "model": model, "config": config},
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(30),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def job_socket(live_stack, job_id: int, token: str):
    return open_socket(f"{live_stack.ws_url}/ws/jobs/{job_id}/", token=token)


def events_until(socket, stop_types: set[str], timeout: float = 120) -> list[dict]:
    deadline = Deadline(timeout)
    events = []
    while not deadline.passed:
        event = receive_json(socket, timeout=deadline.left(0.1))
        events.append(event)
        if event["type"] in stop_types:
            return events
    raise AssertionError(
        f"no {stop_types} within {timeout}s: {[e['type'] for e in events]}"
    )


def wait_for_state(job_id: int, states: set[str], timeout: float = 60) -> Job:
    deadline = Deadline(timeout)
    while not deadline.passed:
        job = Job.objects.get(pk=job_id)
        from ganweb.jobs.selectors import job_for_user

        job = job_for_user(job.owner, job_id)  # reading marks lost workers
        if job.state in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} stayed {job.state}, wanted {states}")


def test_job_runs_on_the_worker_and_streams_events_in_order(
    live_stack, alice, media_root
):
    token = api_token(live_stack.url, alice)
    job_id = submit(live_stack, token, TINY)
    with job_socket(live_stack, job_id, token) as socket:
        events = events_until(socket, {"finished", "failed"})
    types = [event["type"] for event in events]
    assert types[0] == "snapshot"
    assert "failed" not in types, events[-1]
    live = [t for t in types if t not in ("snapshot", "state")]
    assert live.count("started") <= 1 and live.index("step") < live.index("finished")
    if events[0]["job"]["state"] == JobState.QUEUED:
        assert live.index("started") < live.index("step")
    elif "started" in live:  # claimed, but training had not begun yet
        assert live.index("started") < live.index("step")
    else:  # a fast worker began before the socket joined: the snapshot says so
        assert events[0]["job"]["state"] == JobState.RUNNING
    assert live.count("step") >= 3 and "sample" in live and "checkpoint" in live
    steps = [event["step"] for event in events if event["type"] == "step"]
    assert steps == sorted(steps)
    job = Job.objects.get(pk=job_id)
    assert job.state == JobState.FINISHED and job.step == 60
    folder = Path(media_root) / "jobs" / str(job_id)
    assert (folder / "checkpoints" / "latest.pt").is_file()
    assert any((folder / "samples").iterdir())
    assert job.points.exists() and job.samples.exists()


def test_cancel_mid_run_is_quick_and_keeps_a_checkpoint(live_stack, alice):
    token = api_token(live_stack.url, alice)
    job_id = submit(live_stack, token, LONG)
    with job_socket(live_stack, job_id, token) as socket:
        events_until(socket, {"checkpoint"})
        asked = time.monotonic()
        response = requests.post(
            f"{live_stack.url}/api/jobs/{job_id}/cancel",
            headers={"Authorization": f"Bearer {token}"},
            timeout=scaled(10),
        )
        assert response.status_code == 200
        events_until(socket, {"stopped"}, timeout=30)
    job = wait_for_state(job_id, {"cancelled"}, timeout=15)
    assert time.monotonic() - asked < 15
    assert job.checkpoints.exists() and job.latest_checkpoint


def test_killed_worker_leaves_job_interrupted_and_resume_finishes_it(live_stack, alice):
    token = api_token(live_stack.url, alice)
    config = {**TINY, "steps": 200_000, "checkpoint_every": 100}
    job_id = submit(live_stack, token, config)
    with job_socket(live_stack, job_id, token) as socket:
        checkpoint = events_until(socket, {"checkpoint"})[-1]
    os.kill(live_stack.workers["training"].pid, signal.SIGKILL)
    job = wait_for_state(job_id, {"interrupted"}, timeout=30)
    assert job.state == "interrupted"
    # Shorten the rest of the run, then resume: it continues from the checkpoint
    # on the next worker to start.
    Job.objects.filter(pk=job_id).update(
        config={**job.config, "steps": checkpoint["step"] + 40}
    )
    requests.post(
        f"{live_stack.url}/api/jobs/{job_id}/resume",
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(10),
    ).raise_for_status()
    assert Job.objects.get(pk=job_id).state == "queued"
    with job_socket(live_stack, job_id, token) as socket:
        live_stack.restart_worker("training")
        events = events_until(socket, {"finished", "failed"})
    started = next(event for event in events if event["type"] == "started")
    assert started["start_step"] >= checkpoint["step"]
    assert events[-1]["type"] == "finished"
    assert wait_for_state(job_id, {"finished"}).attempts == 2


def test_viewer_joining_mid_run_gets_history_then_live_events(live_stack, alice):
    token = api_token(live_stack.url, alice)
    job_id = submit(live_stack, token, LONG)
    with job_socket(live_stack, job_id, token) as first:
        events_until(first, {"sample"})
        wait_until(  # the history a late viewer reads has reached the database
            lambda: MetricPoint.objects.filter(job_id=job_id).exists(), seconds=30
        )
        with job_socket(live_stack, job_id, token) as second:
            snapshot = receive_json(second)
            assert snapshot["type"] == "snapshot"
            assert snapshot["points"] and snapshot["samples"]
            history_last = snapshot["points"][-1]["step"]
            live = events_until(second, {"step"})
            assert live[-1]["step"] >= history_last
    requests.post(
        f"{live_stack.url}/api/jobs/{job_id}/cancel",
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(10),
    )
    wait_for_state(job_id, {"cancelled"}, timeout=30)


def test_other_users_job_socket_is_refused(live_stack, alice, bob):
    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config={}
    )
    url = f"{live_stack.ws_url}/ws/jobs/{job.pk}/"
    assert (
        handshake_status(url, cookie=session_cookie_for(bob), origin=live_stack.url)
        == 403
    )
    assert handshake_status(url, token=api_token(live_stack.url, bob)) == 403
    assert (
        handshake_status(url, cookie=session_cookie_for(alice), origin=live_stack.url)
        == 101
    )
