"""Shared fixtures: users, and a live stack of real processes.

The live stack is a real Celery worker per queue and a real daphne, started on
free ports against the test database and the Redis that `make test` provides
(REDIS_URL), so integration tests exercise exactly what `make run` runs.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ganweb import devstack

PASSWORD = "correct-horse-battery"  # every test user's, from make_user


def worker_options(name: str, log_dir: Path) -> dict:
    """How the live stack starts (and restarts) each worker: as `make run`
    does (devstack.WORKERS), on the CPU."""
    spec = devstack.worker_spec(name)
    return {
        "queues": spec.queues,
        "device": "cpu",
        "pool": spec.pool,
        "concurrency": spec.concurrency,
        "log_dir": log_dir,
    }


@dataclass
class LiveStack:
    url: str
    ws_url: str
    env: dict
    web: devstack.ManagedProcess
    workers: dict

    def restart_worker(self, name: str) -> devstack.ManagedProcess:
        """Start a fresh worker under the same name (after a kill in a test),
        with the same queues and options."""
        old = self.workers[name]
        old.stop(timeout=5)
        new = devstack.start_worker(
            self.env, name=name, **worker_options(name, old.log_path.parent)
        )
        self.workers[name] = new  # recorded first: teardown stops it even on failure
        devstack.wait_for_worker(self.env, name)
        return new

    @contextlib.contextmanager
    def queue_paused(self, name: str):
        """The named worker stops taking tasks from its queue for the block:
        what is sent meanwhile waits in Redis, as it would for a busy worker."""
        from celery import Celery

        probe = Celery(broker=self.env["REDIS_URL"], set_as_current=False)
        queue = devstack.worker_spec(name).queues
        destination = [
            worker
            for reply in probe.control.ping(timeout=1) or []
            for worker in reply
            if worker.startswith(f"{name}@")
        ]
        assert destination, f"worker {name} did not answer"
        try:
            probe.control.cancel_consumer(queue, destination=destination, reply=True)
            yield
        finally:
            probe.control.add_consumer(queue, destination=destination, reply=True)
            probe.close()


def _database_url() -> str:
    from django.db import connection

    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    auth = settings.get("USER") or ""
    if settings.get("PASSWORD"):
        auth += f":{settings['PASSWORD']}"
    auth = f"{auth}@" if auth else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings['NAME']}"


@pytest.fixture(scope="session")
def media_root(tmp_path_factory):
    from django.conf import settings

    path = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = path
    return path


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker, media_root, tmp_path_factory):
    """Real Celery workers (training, light and interactive queues), Celery beat
    and daphne, for the session."""
    log_dir = Path(os.environ.get("GAN_TEST_LOG_DIR", tmp_path_factory.mktemp("logs")))
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(media_root),
        GAN_WORKER_DEVICE="cpu",
        # Short leases so a killed worker's job is noticed within seconds.
        GAN_JOB_LEASE_SECONDS="5",
        GAN_LOST_JOB_SWEEP_SECONDS="1",
        # No sends of unsent jobs from this stack: the reliability tests' own
        # stack shares its database and sends its jobs through its own Redis
        # (this beat would take them into the session's Redis and workers).
        GAN_UNSENT_JOB_SWEEP_SECONDS="86400",
        # Interrupted jobs stay visible; tests resume them or restart a worker.
        GAN_JOB_AUTO_RESUME_AFTER_SECONDS="600",
        # A dataset whose processing worker died is queued again this soon.
        GAN_DATASET_STALE_SECONDS="4",
        # Training caches are not built ahead for every upload of the suite (on
        # two cores that would hold up the tests that follow); the cache tests
        # run that path themselves (tests/ganweb/datasets/test_training_cache).
        GAN_DATA_CACHE_AHEAD="0",
        # The augmentation value's classifiers: the flow, not a score.
        GAN_AUGMENTATION_STEPS="20",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="ganweb.settings",
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    processes = []
    workers = {}
    try:
        for spec in devstack.WORKERS:
            workers[spec.name] = devstack.start_worker(
                env, name=spec.name, **worker_options(spec.name, log_dir)
            )
        schedule = log_dir / "celerybeat-schedule"
        processes.append(devstack.start_beat(env, schedule, log_dir))
        port = devstack.free_port()
        web = devstack.start_web(env, port, log_dir)
        processes.append(web)
        for name in workers:
            devstack.wait_for_worker(env, name)
        yield LiveStack(
            url=f"http://127.0.0.1:{port}",
            ws_url=f"ws://127.0.0.1:{port}",
            env=env,
            web=web,
            workers=workers,
        )
    finally:
        # The workers as they are now: a test that restarted one replaced its
        # entry, and the new one must not outlive the session (and its Redis).
        for process in reversed(list(workers.values()) + processes):
            process.stop(timeout=10)


@pytest.fixture
def make_user(django_user_model):
    def make(username: str, password: str = PASSWORD):
        return django_user_model.objects.create_user(
            username=username, password=password
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


def api_token(base_url: str, user) -> str:
    """An API token for ``user`` (made by make_user) from a live server."""
    import requests

    response = requests.post(
        f"{base_url}/api/auth/token",
        json={"username": user.username, "password": PASSWORD},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["token"]


def session_cookie_for(user) -> str:
    """A real session for ``user``, stored in the database, as a Cookie header."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"
