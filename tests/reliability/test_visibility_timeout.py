"""A training task outliving the Redis visibility timeout is delivered again;
the second delivery sees the live lease and leaves the job alone."""

from __future__ import annotations

import pytest

from ganweb.jobs.models import Job
from tests.deadlines import Deadline, wait_until
from tests.reliability.conftest import VISIBILITY_TIMEOUT_S, task_lines
from tests.wsclient import open_socket, receive_json

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

LONG = {"steps": 200_000, "batch_size": 64, "seed": 5, "checkpoint_every": 500}
TASK = "workers.tasks.training.train_job"


def wait_for_redelivery(stack, seconds: float, known: set[str]) -> list[str]:
    """The log lines of the first new training task (not in ``known``: the
    package's earlier tests share these workers) that two workers received,
    one of them leaving it unclaimed."""

    def redelivered():
        for task_id, lines in task_lines(stack.worker_logs(), TASK).items():
            if task_id in known:
                continue
            if sum("received" in line.lower() for line in lines) >= 2 and any(
                "not-claimed" in line for line in lines
            ):
                return lines
        return None

    return wait_until(
        redelivered,
        seconds=seconds,
        interval=0.5,
        message=lambda: f"no redelivery:\n{stack.worker_logs()[-3000:]}",
    )


def test_redelivered_training_task_sees_the_lease_and_exits(own_stack, alice):
    token = own_stack.token_for(alice)
    known = set(task_lines(own_stack.worker_logs(), TASK))
    job_id = own_stack.submit(token, LONG)
    with open_socket(f"{own_stack.ws_url}/ws/jobs/{job_id}/", token=token) as socket:
        events = [receive_json(socket)]
        assert events[0]["type"] == "snapshot"
        # Past the timeout plus kombu's sweep (a tenth of the timeout) plus slack.
        lines = wait_for_redelivery(own_stack, VISIBILITY_TIMEOUT_S * 6, known)
        job = wait_until(
            lambda: Job.objects.filter(pk=job_id, state="running").first(),
            seconds=30,
            message=lambda: Job.objects.get(pk=job_id).state,
        )
        assert job.attempts == 1
        own_stack.cancel(token, job_id)
        ended = Deadline(60)
        while events[-1]["type"] not in ("stopped", "finished", "failed"):
            events.append(receive_json(socket, timeout=ended.left()))
    received = [line for line in lines if "received" in line.lower()]
    assert len(received) == 2, lines
    # One delivery trained (and stopped when cancelled), the other did nothing.
    outcomes = [line for line in lines if "succeeded" in line]
    assert any("not-claimed" in line for line in outcomes), lines
    types = [event["type"] for event in events]
    # Only the first delivery starts training (the socket may have joined
    # after that start: then the snapshot already says running).
    assert types.count("started") <= 1, types
    if events[0]["job"]["state"] == "queued":
        assert types.count("started") == 1, types
    assert events[-1]["type"] == "stopped"
    job = Job.objects.get(pk=job_id)
    assert job.attempts == 1 and job.state == "cancelled"
    assert job.step > 0
