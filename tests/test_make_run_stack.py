"""`make run`'s supervisor brings the whole stack up and takes it down cleanly."""

import os
import signal
import subprocess
import sys
import threading
import time
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


def test_stack_starts_healthy_with_embedded_redis_and_stops_on_ctrl_c(tmp_path):
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
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    stack = subprocess.Popen(
        [sys.executable, "-m", "ganweb.devstack", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(stack.stdout), daemon=True)
    reader.start()
    try:
        started = time.monotonic()
        _wait_for_health(f"http://127.0.0.1:{port}", stack, timeout=120)
        deadline = Deadline(60)
        while not any("running at" in line for line in lines):
            assert not deadline.passed, "".join(lines)
            time.sleep(0.2)
        # The URL is printed once both workers answer a ping; the health
        # report (healthy as soon as one does) lists both within moments.
        deadline, queues = Deadline(15), set()
        while queues != {"training", "light"} and not deadline.passed:
            health = _wait_for_health(f"http://127.0.0.1:{port}", stack, timeout=10)
            queues = {q for w in health["workers"] for q in w["queues"]}
            time.sleep(0.2)
        assert health["redis"] == "ok" and health["database"] == "ok"
        assert queues == {"training", "light"}, health
        assert (tmp_path / "db.sqlite3").exists()
        assert (tmp_path / "redis").is_dir()
        print(f"healthy after {time.monotonic() - started:.1f}s")
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        stack.wait(timeout=scaled(60))
        reader.join(timeout=scaled(10))
    output = "".join(lines)
    assert stack.returncode == 0, output
    assert f"running at http://127.0.0.1:{port}" in output
    assert "stopped." in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=scaled(2))
