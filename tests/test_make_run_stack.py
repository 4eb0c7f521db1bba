"""`make run`'s supervisor brings the whole stack up and takes it down cleanly."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ganweb import devstack
from tests.deadlines import Deadline, scaled

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _wait_for_health(url: str, process: subprocess.Popen, timeout: float) -> dict:
    deadline = Deadline(timeout)
    last = None
    while not deadline.passed:
        assert process.poll() is None, "the stack exited before it was healthy"
        try:
            response = requests.get(f"{url}/healthz", timeout=scaled(3))
            last = response.json()
            if response.status_code == 200:
                return last
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not healthy within {timeout}s: {last}")


STARTED = re.compile(r"^started\s+(\S+) \(pid (\d+)\)$")
QUEUES = {"training", "light", "interactive"}


@dataclass
class RunningStack:
    process: subprocess.Popen
    url: str
    lines: list[str]

    def output(self) -> str:
        return "".join(self.lines)

    def pids(self, name: str) -> list[int]:
        """Every pid the supervisor started ``name`` with, in order."""
        found = (STARTED.match(line.strip()) for line in list(self.lines))
        return [int(m[2]) for m in found if m and m[1] == name]

    def all_pids(self) -> list[int]:
        found = (STARTED.match(line.strip()) for line in list(self.lines))
        return [int(m[2]) for m in found if m]

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + scaled(timeout)
        while text not in self.output():
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output()}"
            time.sleep(0.2)

    def wait_for_pids(self, name: str, count: int, timeout: float) -> list[int]:
        deadline = time.monotonic() + scaled(timeout)
        while len(self.pids(name)) < count:
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)
        return self.pids(name)

    def queues(self) -> set[str]:
        health = _wait_for_health(self.url, self.process, timeout=30)
        return {q for w in health["workers"] for q in w["queues"]}

    def wait_for_queues(self, queues: set[str], timeout: float) -> None:
        deadline, found = time.monotonic() + scaled(timeout), set()
        while not queues <= found:
            assert time.monotonic() < deadline, f"only {found} answer"
            found = self.queues()
            time.sleep(0.2)


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid`` (from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@contextlib.contextmanager
def running_stack(tmp_path, **extra_env):
    """`python -m ganweb.devstack run` as `make run` starts it, on free ports."""
    port = devstack.free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "MEDIA_ROOT"}
    }
    env.update(
        GAN_VAR_DIR=str(tmp_path),
        GAN_EMBEDDED_REDIS_PORT=str(devstack.free_port()),
        GAN_WORKER_DEVICE="cpu",
        **extra_env,
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "ganweb.devstack", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    stack = RunningStack(process, f"http://127.0.0.1:{port}", lines)
    try:
        yield stack
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=scaled(90))
        reader.join(timeout=scaled(10))
        # Nothing the supervisor started outlives it, whatever its exit.
        leftovers = {pid: group_members(pid) for pid in stack.all_pids()}
        assert not any(leftovers.values()), f"{leftovers}\n{stack.output()}"


def test_stack_starts_healthy_with_embedded_redis_and_stops_on_ctrl_c(tmp_path):
    with running_stack(tmp_path) as stack:
        started = time.monotonic()
        _wait_for_health(stack.url, stack.process, timeout=120)
        stack.wait_for_output("running at", timeout=60)
        # The URL is printed once every worker answers a ping; the health
        # report (healthy as soon as one does) lists them all within moments.
        stack.wait_for_queues(QUEUES, timeout=30)
        health = _wait_for_health(stack.url, stack.process, timeout=10)
        assert health["redis"] == "ok" and health["database"] == "ok"
        assert (tmp_path / "db.sqlite3").exists()
        assert (tmp_path / "redis").is_dir()
        assert len(stack.pids("beat")) == 1
        print(f"healthy after {time.monotonic() - started:.1f}s")
        os.killpg(stack.process.pid, signal.SIGINT)
        stack.process.wait(timeout=scaled(90))
    output = stack.output()
    assert stack.process.returncode == 0, output
    assert f"running at {stack.url}" in output
    assert "stopped." in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.url}/healthz", timeout=scaled(2))


def test_killed_workers_come_back_without_orphans_until_one_keeps_crashing(
    tmp_path,
):
    """kill -9 of a worker's leader: the web keeps answering, the worker comes
    back, nothing of the old one stays behind; the third crash within the
    window stops the stack with the reason."""
    with running_stack(tmp_path, GAN_STACK_MAX_CRASHES="3") as stack:
        stack.wait_for_output("running at", timeout=180)
        stack.wait_for_queues(QUEUES, timeout=30)

        [training] = stack.pids("worker-training")
        os.kill(training, signal.SIGKILL)
        stack.wait_for_output("worker-training was killed by SIGKILL", timeout=30)
        assert requests.get(f"{stack.url}/healthz", timeout=10).json()["database"]
        stack.wait_for_pids("worker-training", 2, timeout=60)
        stack.wait_for_queues({"training"}, timeout=120)

        [light] = stack.pids("worker-light")
        pool = group_members(light)
        assert len(pool) > 1, pool  # the prefork children that would be orphans
        os.kill(light, signal.SIGKILL)
        stack.wait_for_pids("worker-light", 2, timeout=60)
        assert group_members(light) == []
        stack.wait_for_queues({"light"}, timeout=120)
        assert stack.process.poll() is None

        for crash in (2, 3):
            pid = stack.wait_for_pids("worker-training", crash, timeout=60)[-1]
            os.kill(pid, signal.SIGKILL)
        stack.process.wait(timeout=scaled(90))
    output = stack.output()
    assert stack.process.returncode == 1, output
    assert "worker-training was killed by SIGKILL: 3 crashes within" in output
    assert "stopped." in output


def test_a_second_beat_on_the_same_schedule_refuses_to_start(tmp_path):
    """Two beats would send every periodic task twice: the pidfile beside the
    schedule lets only one run (a second `make run` on the same var dir)."""
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{devstack.free_port()}/0")
    schedule = tmp_path / "celerybeat-schedule"
    first = devstack.start_beat(env, schedule, tmp_path / "one")
    try:
        devstack.wait_until(
            lambda: Path(f"{schedule}.pid").exists(), 60, "the first beat", first
        )
        second = devstack.start_beat(env, schedule, tmp_path / "two")
        assert second.popen.wait(timeout=scaled(60)) != 0
        assert "already exists" in second.log_tail()
        assert first.alive()
    finally:
        first.stop()
