"""Time limits and give-ups stop real tasks on the live light and interactive
workers (prefork pools), and a busy light worker never delays the playground."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from tests.conftest import api_token
from tests.ganweb.playground.tiny_models import register_model
from workers.celery_app import app
from workers.tasks.diagnostics import hold

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOLD_NAME = "workers.tasks.diagnostics.hold"


def active_holds(worker: str) -> list[str]:
    """Ids of the hold tasks the named worker is running now."""
    replies = app.control.inspect(timeout=2).active() or {}
    return [
        task["id"]
        for name, tasks in replies.items()
        if name.startswith(f"{worker}@")
        for task in tasks
        if task["name"] == HOLD_NAME
    ]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return value


def test_a_light_task_past_its_soft_limit_is_stopped(live_stack):
    result = hold.apply_async(
        args=[300], queue="light", soft_time_limit=1, time_limit=60
    )
    result.get(timeout=60, propagate=False)  # long before its 300 s were up
    assert result.state == "FAILURE"
    assert isinstance(result.result, SoftTimeLimitExceeded)
    result.forget()


def test_a_task_deaf_to_its_soft_limit_is_killed_at_the_hard_one(live_stack):
    result = hold.apply_async(
        args=[300, True], queue="light", soft_time_limit=1, time_limit=3
    )
    result.get(timeout=60, propagate=False)
    assert result.state == "FAILURE"
    assert isinstance(result.result, TimeLimitExceeded)
    result.forget()
    # The pool replaced the killed process: the worker takes work again.
    after = hold.apply_async(args=[0.1], queue="light")
    assert after.get(timeout=60) == {"held": 0.1}
    after.forget()


def test_the_web_giving_up_stops_the_interactive_task(live_stack, settings):
    """The playground's wait (services._wait) runs out: the running task is
    revoked then and there, not left to run for nobody."""
    from ganweb.playground import services
    from ganweb.playground.params import PlaygroundError

    settings.GAN_PLAYGROUND_TIMEOUT = 3
    answer = {}

    def ask():
        try:
            services._wait(hold, {"seconds": 300})
        except PlaygroundError as exc:
            answer["status"] = exc.status

    caller = threading.Thread(target=ask)
    caller.start()
    [running] = wait_for(lambda: active_holds("interactive"), 60, "hold never ran")
    caller.join(timeout=60)
    assert answer == {"status": 503}
    wait_for(
        lambda: running not in active_holds("interactive"),
        60,
        "the task still runs after the web gave up",
    )


def test_a_busy_light_worker_does_not_delay_another_users_playground(
    live_stack, alice, bob
):
    """Both light slots held (as by two big uploads): bob's sample is drawn
    by the interactive worker meanwhile, and the light work is still running."""
    job = register_model(bob, "dcgan")
    fillers = [hold.apply_async(args=[300], queue="light") for _ in range(2)]
    try:
        wait_for(lambda: len(active_holds("light")) == 2, 60, "light not busy")
        response = requests.post(
            f"{live_stack.url}/api/models/{job.pk}/sample",
            json={"n": 4, "seed": 3},
            headers={"Authorization": f"Bearer {api_token(live_stack.url, bob)}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "image/png"
        assert sorted(active_holds("light")) == sorted(f.id for f in fillers)
    finally:
        for filler in fillers:
            filler.revoke(terminate=True, signal="SIGUSR1")
        wait_for(lambda: not active_holds("light"), 60, "fillers still run")
        for filler in fillers:
            filler.forget()
