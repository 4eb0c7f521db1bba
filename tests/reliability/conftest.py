"""A stack of our own: its own Redis (which these tests stop and start), two
training workers and daphne, with a visibility timeout of a few seconds.

Never the shared Redis: restarting that one would pull it from under every
other test in the session.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ganweb import devstack
from tests.conftest import _database_url, api_token
from tests.deadlines import scaled

VISIBILITY_TIMEOUT_S = 4


@dataclass
class OwnStack:
    url: str
    ws_url: str
    env: dict
    redis: devstack.ManagedProcess
    redis_port: int
    redis_dir: Path
    log_dir: Path
    workers: list

    def restart_redis(self, down_for: float = 1.0) -> None:
        """Stop Redis (it saves on the way down, like a managed Redis does on a
        restart) and start it again on the same port and data folder."""
        self.redis.stop(timeout=scaled(10))
        time.sleep(down_for)
        self.redis = devstack.start_redis(self.redis_port, self.redis_dir, self.log_dir)

    def worker_logs(self) -> str:
        return "\n".join(w.log_path.read_text(errors="replace") for w in self.workers)

    def token_for(self, user) -> str:
        return api_token(self.url, user)

    def submit(self, token: str, config: dict) -> int:
        response = requests.post(
            f"{self.url}/api/jobs/",
            json={"dataset": "builtin:ring8", "model": "gan", "config": config},
            headers={"Authorization": f"Bearer {token}"},
            timeout=scaled(30),
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def cancel(self, token: str, job_id: int) -> None:
        response = requests.post(
            f"{self.url}/api/jobs/{job_id}/cancel",
            headers={"Authorization": f"Bearer {token}"},
            timeout=scaled(10),
        )
        assert response.status_code == 200, response.text


def task_lines(logs: str, task_name: str) -> dict[str, list[str]]:
    """Worker log lines per Celery task id, for one task name."""
    by_id: dict[str, list[str]] = {}
    for line in logs.splitlines():
        match = re.search(rf"{re.escape(task_name)}\[([0-9a-f-]+)\]", line)
        if match:
            by_id.setdefault(match[1], []).append(line)
    return by_id


@pytest.fixture(scope="package")  # shared by this folder's tests
def own_stack(django_db_setup, django_db_blocker, media_root, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("own-stack-logs")
    redis_dir = tmp_path_factory.mktemp("own-redis")
    redis_port = devstack.free_port()
    processes = []
    redis = devstack.start_redis(redis_port, redis_dir, log_dir)
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = dict(
        os.environ,
        REDIS_URL=redis.extra["url"],
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(media_root),
        GAN_WORKER_DEVICE="cpu",
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT_S),
        GAN_JOB_LEASE_SECONDS="5",
        GAN_JOB_AUTO_RESUME_AFTER_SECONDS="600",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="ganweb.settings",
        OMP_NUM_THREADS="1",
    )
    stack = None
    try:
        workers = [
            devstack.start_worker(
                env, name=name, queues="training", device="cpu", log_dir=log_dir
            )
            for name in ("training-a", "training-b")
        ]
        processes += workers
        port = devstack.free_port()
        processes.append(devstack.start_web(env, port, log_dir))
        for name in ("training-a", "training-b"):
            devstack.wait_for_worker(env, name)
        stack = OwnStack(
            url=f"http://127.0.0.1:{port}",
            ws_url=f"ws://127.0.0.1:{port}",
            env=env,
            redis=redis,
            redis_port=redis_port,
            redis_dir=redis_dir,
            log_dir=log_dir,
            workers=workers,
        )
        yield stack
    finally:
        for process in reversed(processes):
            process.stop(timeout=scaled(10))
        (stack.redis if stack else redis).stop(timeout=scaled(10))
