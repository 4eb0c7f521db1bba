"""One job on two devices: a real worker owning two CPU "devices" (gloo) runs a
``gpus: 2`` job from the API, streams rank 0's events, is cancelled and
resumed, survives a killed rank and a killed worker, checkpoints and goes back
to its queue on SIGTERM, and leaves no rank process behind."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import requests

from ganweb import devstack
from ganweb.jobs.models import Job
from tests.conftest import api_token, session_cookie_for
from tests.deadlines import scaled, wait_until
from tests.workers.test_training_live import events_until, job_socket, wait_for_state

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The MLP GAN on the 8-Gaussian ring: the batch of 64 is 32 per rank.
LONG_RUN = {
    "steps": 200_000,
    "batch_size": 64,
    "seed": 3,
    "sample_every": 100,
    "checkpoint_every": 100,
}
NAME = "training2"


@pytest.fixture(scope="module")
def two_device_worker(live_stack):
    """A training worker owning two CPU devices, beside the session's one."""
    env = dict(live_stack.env, GAN_WORKER_DEVICES="cpu,cpu")
    log_dir = Path(live_stack.workers["training"].log_path).parent
    box = {}

    def start():
        box["worker"] = devstack.start_worker(
            env, name=NAME, queues="training", device="cpu", log_dir=log_dir
        )
        devstack.wait_for_worker(env, NAME)
        return box["worker"]

    start()
    try:
        yield box, start
    finally:
        box["worker"].stop(timeout=10)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def api(live_stack, token, method, path, **kwargs):
    return requests.request(
        method,
        f"{live_stack.url}/api/jobs/{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(30),
        **kwargs,
    )


def rank_pids(job_id: int, other_than: set[int] = frozenset()) -> list[int]:
    """The two ranks' pids once both said hello (and are not the old ones)."""

    def both():
        ranks = Job.objects.get(pk=job_id).ranks
        pids = [r["pid"] for r in ranks if r.get("pid")]
        fresh = len(pids) == 2 and not set(pids) & set(other_than)
        return pids if fresh and all(map(alive, pids)) else None

    return wait_until(both, seconds=120, message="the ranks did not say hello")


def gone(pids) -> None:
    wait_until(
        lambda: not any(map(alive, pids)),
        seconds=15,
        message=lambda: f"rank processes left running: {[p for p in pids if alive(p)]}",
    )


def test_a_job_asking_more_devices_than_any_worker_owns_is_refused(
    live_stack, two_device_worker, alice
):
    token = api_token(live_stack.url, alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": LONG_RUN}
    response = api(live_stack, token, "post", "", json={**body, "gpus": 3})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "gpus"
    assert "no online training worker owns 3 devices" in response.json()["error"]
    assert "(the most one owns now is 2)" in response.json()["error"]
    assert not Job.objects.filter(owner=alice).exists()


def test_preflight_for_two_devices_measures_each_ones_share(
    live_stack, two_device_worker, alice
):
    token = api_token(live_stack.url, alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": LONG_RUN}
    response = api(live_stack, token, "post", "preflight", json={**body, "gpus": 2})
    assert response.status_code == 200, response.text
    estimate = response.json()
    assert (estimate["gpus"], estimate["batch_size"]) == (2, 64)
    assert estimate["per_device_batch"] == 32
    assert "per device" in estimate["note"] and estimate["step_seconds"] > 0


def test_two_device_job_cancels_resumes_and_leaves_no_rank_behind(
    live_stack, two_device_worker, alice
):
    box, start_worker = two_device_worker
    token = api_token(live_stack.url, alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": LONG_RUN}
    response = api(live_stack, token, "post", "", json={**body, "gpus": 2})
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    assert response.json()["gpus"] == 2

    # 1. It runs on the two-device worker (the one-device worker cannot take
    # it: its queue is training-2), and rank 0's events reach the socket.
    with job_socket(live_stack, job_id, token) as socket:
        events = events_until(socket, {"checkpoint"}, timeout=180)
        started = next(e for e in events if e["type"] == "started")
        assert started["world_size"] == 2
        pids = rank_pids(job_id)
        job = Job.objects.get(pk=job_id)
        assert job.worker.startswith(f"{NAME}@") and job.device == "2 × cpu"
        assert [r["device"] for r in job.ranks] == ["cpu", "cpu"]
        page = requests.get(
            f"{live_stack.url}/jobs/{job_id}/",
            headers={"Cookie": session_cookie_for(alice)},
            timeout=scaled(30),
        ).text
        assert '<strong id="job-world-size">2</strong>' in page
        assert "rank 0: <span" in page and "rank 1: <span" in page

        # 2. Cancel: the ranks checkpoint and end within seconds.
        assert api(live_stack, token, "post", f"{job_id}/cancel").status_code == 200
        stopped = events_until(socket, {"stopped"}, timeout=30)[-1]
    assert stopped["reason"] == "cancel"
    wait_for_state(job_id, {"cancelled"}, timeout=30)
    gone(pids)

    # 3. Resume: new ranks continue from the checkpoint.
    with job_socket(live_stack, job_id, token) as socket:
        assert api(live_stack, token, "post", f"{job_id}/resume").status_code == 200
        events = events_until(socket, {"started"}, timeout=180)
    assert events[-1]["start_step"] == stopped["step"]
    pids = rank_pids(job_id, other_than=set(pids))

    # 4. kill -9 of one rank: the attempt ends, the other rank with it, and
    # the job is interrupted, to resume from its checkpoint.
    os.kill(pids[1], signal.SIGKILL)
    job = wait_for_state(job_id, {"interrupted"}, timeout=60)
    assert "rank 1" in job.error and job.auto_resume
    gone(pids)
    with job_socket(live_stack, job_id, token) as socket:
        assert api(live_stack, token, "post", f"{job_id}/resume").status_code == 200
        events_until(socket, {"started"}, timeout=180)
    pids = rank_pids(job_id, other_than=set(pids))

    # 5. kill -9 of the worker: no rank outlives it; the lease runs out, the
    # job is interrupted, and the next worker to start resumes it.
    os.kill(box["worker"].pid, signal.SIGKILL)
    gone(pids)
    assert wait_for_state(job_id, {"interrupted"}, timeout=60).crash_count >= 1
    with job_socket(live_stack, job_id, token) as socket:
        box["worker"].stop(timeout=5)
        start_worker()
        events = events_until(socket, {"started"}, timeout=180)
        assert events[-1]["world_size"] == 2
        pids = rank_pids(job_id, other_than=set(pids))

        # 6. SIGTERM (a deploy): the ranks checkpoint, the job goes back to
        # its queue for another worker to resume.
        os.kill(box["worker"].pid, signal.SIGTERM)
        stopped = events_until(socket, {"stopped"}, timeout=30)[-1]
    assert stopped["reason"] == "shutdown"
    box["worker"].popen.wait(timeout=scaled(30))
    job = wait_for_state(job_id, {"queued"}, timeout=10)
    assert job.latest_checkpoint.endswith(".pt")
    gone(pids)
