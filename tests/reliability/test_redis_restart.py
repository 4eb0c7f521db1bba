"""Redis restarted under a running stack: work and live events carry on, and a
viewer that reconnects reads the history from the database, without a hole."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import ConnectionClosed

from ganweb.jobs.models import Job
from tests.deadlines import Deadline, wait_until
from tests.wsclient import open_socket, receive_json

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

LONG = {"steps": 200_000, "batch_size": 64, "seed": 7, "checkpoint_every": 500}
SHORT = {"steps": 60, "batch_size": 64, "seed": 8, "checkpoint_every": 30}


def live_steps(socket, deadline: Deadline, want: int) -> tuple[list[int], str]:
    """Step numbers received until ``want`` of them came, the socket closed or
    the deadline passed, and how it ended ("open" when ``want`` arrived)."""
    steps = []
    while len(steps) < want:
        if deadline.passed:
            return steps, "quiet"
        try:
            event = receive_json(socket, timeout=deadline.left(0.1))
        except TimeoutError:
            return steps, "quiet"
        except ConnectionClosed as closed:
            return steps, f"closed {closed.rcvd.code if closed.rcvd else None}"
        if event["type"] == "step":
            steps.append(event["step"])
    return steps, "open"


def job_socket(stack, job_id, token):
    return open_socket(f"{stack.ws_url}/ws/jobs/{job_id}/", token=token)


def reconnect(stack, job_id, token, seconds: float = 20):
    """What the dashboard does on close: try again every half second."""
    deadline = Deadline(seconds)
    while True:
        try:
            return job_socket(stack, job_id, token)
        except Exception:
            if deadline.passed:
                raise
            time.sleep(0.5)


def test_redis_restart_under_a_running_job(own_stack, alice):
    token = own_stack.token_for(alice)
    job_id = own_stack.submit(token, LONG)
    with job_socket(own_stack, job_id, token) as socket:
        assert receive_json(socket)["type"] == "snapshot"
        before, how = live_steps(socket, Deadline(30), want=2)
        assert len(before) == 2, how
        own_stack.restart_redis(down_for=2.0)
        after, how = live_steps(socket, Deadline(30), want=1)
    # The open socket either carries on or is closed by the server so that the
    # page reconnects; it never stays open and silent.
    assert how == "open" and after or how.startswith("closed"), (how, after)

    with reconnect(own_stack, job_id, token) as socket:
        snapshot = receive_json(socket)
        assert snapshot["type"] == "snapshot"
        resumed, how = live_steps(socket, Deadline(30), want=1)
    assert resumed and resumed[0] > before[-1], (how, resumed)
    # The history read from the database covers the outage: the chart's hole
    # closes as soon as the page has reconnected.
    points = [point["step"] for point in snapshot["points"]]
    during = [step for step in points if before[-1] < step < resumed[0]]
    assert len(during) >= 2, (before[-1], resumed[0], points[-20:])
    assert Job.objects.get(pk=job_id).attempts == 1

    # And the workers take new work from the restarted Redis.
    own_stack.cancel(token, job_id)
    second = own_stack.submit(token, SHORT)
    wait_until(
        lambda: Job.objects.get(pk=second).state == "finished",
        seconds=90,
        interval=0.5,
        message=lambda: str(Job.objects.filter(pk=second).values()[0]),
    )
    # The cancel takes effect at the running job's next heartbeat and step,
    # which on a busy machine can come after the short job has finished.
    wait_until(
        lambda: Job.objects.get(pk=job_id).state == "cancelled",
        seconds=60,
        interval=0.5,
        message=lambda: str(Job.objects.filter(pk=job_id).values()[0]),
    )
