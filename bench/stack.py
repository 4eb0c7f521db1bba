"""A scratch copy of the whole stack for bench scripts: embedded Redis, the
workers a bench needs, daphne, a migrated SQLite database and a user with an
API token, all in one temporary folder and all stopped on exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ganweb import devstack

ROOT = Path(__file__).resolve().parent.parent
WORKER_QUEUES = {"training": ("training", 1), "light": ("light", 2)}
SHARED_ENV = ("REDIS_URL", "DATABASE_URL", "MEDIA_ROOT", "GAN_VAR_DIR")


class BenchStack:
    def __init__(self, workdir: Path, *, workers=("training",), extra_env=None):
        self.workdir = workdir
        self.worker_names = tuple(workers)
        self.extra_env = dict(extra_env or {})
        self.processes: list[devstack.ManagedProcess] = []
        self.workers: dict[str, devstack.ManagedProcess] = {}

    def __enter__(self) -> BenchStack:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        logs = self.workdir / "logs"
        redis_proc = devstack.start_redis(
            devstack.free_port(), self.workdir / "redis", logs
        )
        self.processes.append(redis_proc)
        self.env = dict(
            os.environ,
            REDIS_URL=redis_proc.extra["url"],
            DATABASE_URL=f"sqlite:///{self.workdir / 'db.sqlite3'}",
            MEDIA_ROOT=str(self.workdir / "media"),
            GAN_VAR_DIR=str(self.workdir),
            PYTHONUNBUFFERED="1",
            **self.extra_env,
        )
        # This process reads and writes the same database and Redis as the stack.
        os.environ.update({key: self.env[key] for key in SHARED_ENV})
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        for name in self.worker_names:
            queue, concurrency = WORKER_QUEUES[name]
            worker = devstack.start_worker(
                self.env,
                name=name,
                queues=queue,
                device="cpu",
                concurrency=concurrency,
                log_dir=logs,
            )
            self.workers[name] = worker
            self.processes.append(worker)
        port = devstack.free_port()
        self.web = devstack.start_web(self.env, port, logs)
        self.processes.append(self.web)
        for name in self.worker_names:
            devstack.wait_for_worker(self.env, name)
        self.url, self.ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
        self._make_user()

    def _make_user(self) -> None:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ganweb.settings")
        django.setup()
        from django.contrib.auth.models import User
        from rest_framework.authtoken.models import Token

        self.user = User.objects.create_user("bench", password="bench-password-1")
        self.token = Token.objects.create(user=self.user).key

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            process.stop()
