"""Redis stopped under a running stack: a job submitted meanwhile answers 503
at once and runs exactly once when Redis is back; sign-in answers 503 and the
lockout still holds afterwards; a second message for a job is harmless."""

from __future__ import annotations

import contextlib
import time
import uuid

import pytest
import redis
import requests

from ganweb import devstack
from ganweb.jobs.models import Job
from tests.conftest import PASSWORD
from tests.deadlines import scaled
from tests.reliability.conftest import task_lines

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

SHORT = {"steps": 60, "batch_size": 64, "seed": 9, "checkpoint_every": 30}
TRAIN = "workers.tasks.training.train_job"
# The old publish retried for 19 s inside the request; one quick try is far
# below this even on a busy machine.
FAST_ANSWER_S = 10


@contextlib.contextmanager
def redis_stopped(stack):
    """Redis is down for the block, then back on its port with its data, as a
    managed Redis restarts (the embedded one keeps nothing by itself)."""
    redis.Redis.from_url(stack.redis.extra["url"]).save()
    stack.redis.stop(timeout=10)
    try:
        yield
    finally:
        stack.redis = devstack.start_redis(
            stack.redis_port, stack.redis_dir, stack.log_dir
        )


@pytest.fixture(scope="module")
def sweeper(own_stack):
    """A light worker and Celery beat, as `make run` has: the periodic sweeps."""
    env = dict(
        own_stack.env, GAN_LOST_JOB_SWEEP_SECONDS="1", GAN_JOB_RESEND_AFTER_SECONDS="2"
    )
    worker = devstack.start_worker(
        env,
        name="light-sweeper",
        queues="light",
        device="cpu",
        log_dir=own_stack.log_dir,
    )
    beat = devstack.start_beat(
        env, own_stack.log_dir / "sweeper-beat-schedule", own_stack.log_dir
    )
    try:
        devstack.wait_for_worker(env, "light-sweeper")
        yield worker
    finally:
        beat.stop(timeout=10)
        worker.stop(timeout=10)


@contextlib.contextmanager
def training_paused(stack):
    """Both training workers stop taking tasks for the block: what is sent
    meanwhile waits in Redis."""
    from celery import Celery

    for name in ("training-a", "training-b"):  # reconnected after a restart
        devstack.wait_for_worker(stack.env, name)
    probe = Celery(broker=stack.env["REDIS_URL"], set_as_current=False)
    workers = [
        worker
        for reply in probe.control.ping(timeout=2) or []
        for worker in reply
        if worker.startswith(("training-a@", "training-b@"))
    ]
    assert len(workers) == 2, workers
    try:
        probe.control.cancel_consumer("training", destination=workers, reply=True)
        yield
    finally:
        probe.control.add_consumer("training", destination=workers, reply=True)
        probe.close()


def post_job(stack, token, config) -> requests.Response:
    return requests.post(
        f"{stack.url}/api/jobs/",
        json={"dataset": "builtin:ring8", "model": "gan", "config": config},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def wait_finished(job_id: int, timeout: float = 180) -> Job:
    deadline = time.monotonic() + scaled(timeout)
    while (job := Job.objects.get(pk=job_id)).state != "finished":
        assert time.monotonic() < deadline, (job.state, job.error, job.sent_at)
        time.sleep(0.5)
    return job


def results_since(stack, offsets: dict, task: str) -> list[str]:
    """The results logged for ``task`` by the workers since ``offsets``."""
    logs = "\n".join(
        w.log_path.read_text(errors="replace")[offsets.get(w.log_path, 0) :]
        for w in stack.workers
    )
    return [
        line.rsplit(":", 1)[-1].strip()
        for lines in task_lines(logs, task).values()
        for line in lines
        if " succeeded in " in line
    ]


def finished_results(stack, offsets: dict, timeout: float = 60) -> list[str]:
    """The logged train_job results once one says 'finished': the worker logs
    its task's result a moment after the row is marked finished."""
    deadline = time.monotonic() + scaled(timeout)
    while "'finished'" not in (results := results_since(stack, offsets, TRAIN)):
        assert time.monotonic() < deadline, results
        time.sleep(0.5)
    return results


def log_offsets(stack) -> dict:
    return {
        w.log_path: len(w.log_path.read_text(errors="replace")) for w in stack.workers
    }


def test_a_job_submitted_while_redis_is_down_is_503_and_runs_once_it_is_back(
    own_stack, sweeper, alice
):
    token = own_stack.token_for(alice)
    # The web process has loaded the families before the clock starts.
    assert post_job(own_stack, token, {"steps": -1}).status_code == 400
    offsets = log_offsets(own_stack)
    with redis_stopped(own_stack):
        asked = time.monotonic()
        answer = post_job(own_stack, token, SHORT)
        took = time.monotonic() - asked
        assert answer.status_code == 503, answer.text
        assert took < FAST_ANSWER_S, took
        body = answer.json()
        assert "saved and queued" in body["error"]
        assert body["job"]["state"] == "queued"
        job = Job.objects.get(pk=body["job"]["id"])
        assert (job.state, job.sent_at) == ("queued", None)
    # Redis is back: the sweep sends it and it trains, exactly once.
    job = wait_finished(job.pk)
    assert job.attempts == 1 and job.sent_at is not None
    assert finished_results(own_stack, offsets).count("'finished'") == 1


def test_a_queued_job_whose_message_the_broker_lost_is_sent_again_once(
    own_stack, sweeper, alice
):
    """A Redis that restarts without its data loses the messages of queued
    jobs: the sweep finds queued jobs the broker has no task for, sends them
    again, and each trains once."""
    token = own_stack.token_for(alice)
    offsets = log_offsets(own_stack)
    with training_paused(own_stack):
        job_id = own_stack.submit(token, SHORT)
        broker = redis.Redis.from_url(own_stack.env["REDIS_URL"])
        deadline = time.monotonic() + scaled(30)
        while not broker.llen("training"):
            assert time.monotonic() < deadline, "the job's message never arrived"
            time.sleep(0.2)
        assert Job.objects.get(pk=job_id).sent_at is not None
        broker.delete("training")  # lost, as in a restart without its data
    job = wait_finished(job_id)
    assert job.attempts == 1
    assert finished_results(own_stack, offsets).count("'finished'") == 1
    assert "broker has no task for them" in sweeper.log_path.read_text()


def test_a_second_message_for_a_job_already_sent_is_harmless(own_stack, alice):
    """What the sweep does when a send arrived but was not recorded: the job
    gets two messages, trains once, and the other delivery leaves it alone."""
    from celery import Celery

    token = own_stack.token_for(alice)
    offsets = log_offsets(own_stack)
    job_id = own_stack.submit(token, SHORT)
    probe = Celery(broker=own_stack.env["REDIS_URL"], set_as_current=False)
    try:
        probe.send_task(TRAIN, args=[job_id], queue="training", ignore_result=True)
    finally:
        probe.close()
    job = wait_finished(job_id)
    assert job.attempts == 1
    # Both deliveries ran to the end: one trained, every other left the job.
    finished_results(own_stack, offsets)
    deadline = time.monotonic() + scaled(60)
    while len(results := results_since(own_stack, offsets, TRAIN)) < 2:
        assert time.monotonic() < deadline, results
        time.sleep(0.5)
    assert results.count("'finished'") == 1
    assert set(results) == {"'finished'", "'not-claimed'"}, results


def sign_in_page(stack, username: str, password: str) -> requests.Response:
    session = requests.Session()
    session.get(f"{stack.url}/accounts/login/", timeout=30).raise_for_status()
    return session.post(
        f"{stack.url}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=30,
    )


def token_answer(stack, username: str, password: str) -> int:
    return requests.post(
        f"{stack.url}/api/auth/token",
        json={"username": username, "password": password},
        timeout=30,
    ).status_code


def test_sign_in_with_redis_down_is_503_and_the_lockout_holds_after(
    own_stack, make_user, alice
):
    victim = make_user(f"victim-{uuid.uuid4().hex[:8]}")
    failures = int(own_stack.env.get("GAN_LOGIN_MAX_FAILURES", 5))
    for _ in range(failures):
        assert token_answer(own_stack, victim.username, "wrong") == 401
    assert token_answer(own_stack, victim.username, PASSWORD) == 429
    with redis_stopped(own_stack):
        # Closed for everyone, locked or not, right password or not.
        for user in (victim, alice):
            assert token_answer(own_stack, user.username, PASSWORD) == 503
            page = sign_in_page(own_stack, user.username, PASSWORD)
            assert page.status_code == 503
            assert "Sign-in is unavailable for a moment" in page.text
        assert token_answer(own_stack, victim.username, "wrong") == 503
    # Back: the counters survived the restart, the lock holds; alice signs in.
    assert token_answer(own_stack, victim.username, PASSWORD) == 429
    assert sign_in_page(own_stack, victim.username, PASSWORD).status_code == 429
    assert token_answer(own_stack, alice.username, PASSWORD) == 200
    assert sign_in_page(own_stack, alice.username, PASSWORD).status_code == 302


def test_playground_and_pre_flight_with_redis_down_answer_503_at_once(own_stack, alice):
    """Calls that wait for a worker's answer refuse quickly with a message
    while Redis is down, instead of Celery's publish retrying in the request."""
    token = own_stack.token_for(alice)
    job = wait_finished(own_stack.submit(token, SHORT))
    headers = {"Authorization": f"Bearer {token}"}
    calls = [
        (f"/api/models/{job.pk}/sample", {"n": 4, "seed": 1}, "sampling service"),
        (
            "/api/jobs/preflight",
            {"dataset": "builtin:ring8", "model": "gan", "config": SHORT},
            "cannot be reached",
        ),
    ]
    with redis_stopped(own_stack):
        for path, body, message in calls:
            asked = time.monotonic()
            answer = requests.post(
                f"{own_stack.url}{path}", json=body, headers=headers, timeout=60
            )
            took = time.monotonic() - asked
            assert answer.status_code == 503, (path, answer.status_code, answer.text)
            assert message in answer.json()["error"], answer.text
            assert took < FAST_ANSWER_S, (path, took)
