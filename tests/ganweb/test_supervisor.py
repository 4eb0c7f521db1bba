"""The supervisor behind `make run`, on tiny real child processes."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from ganweb import devstack
from ganweb.supervisor import Child, CrashLoop, Supervisor

# A leader that starts a grandchild in its own process group, then waits: as
# a Celery worker starts its pool (or, before, its beat).
WITH_GRANDCHILD = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
    "print('grandchild', child.pid, flush=True)\n"
    "time.sleep(600)\n"
)


def python_child(name: str, code: str, log_dir) -> Child:
    args = [sys.executable, "-c", code]
    return Child(name, lambda: devstack.spawn(name, args, os.environ, log_dir))


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def check_until(supervisor: Supervisor, condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        supervisor.check()
        time.sleep(0.05)


def grandchild_pid(process: devstack.ManagedProcess, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while "grandchild" not in process.log_tail():
        assert time.monotonic() < deadline, process.log_tail()
        time.sleep(0.05)
    return int(process.log_tail().split("grandchild", 1)[1].split()[0])


def test_a_killed_child_is_restarted_and_what_it_started_is_stopped(tmp_path):
    said = []
    supervisor = Supervisor(
        [python_child("worker", WITH_GRANDCHILD, tmp_path)],
        backoff=0.1,
        say=said.append,
    )
    try:
        supervisor.start_all()
        first = supervisor.running["worker"]
        orphan = grandchild_pid(first)
        os.kill(first.pid, signal.SIGKILL)  # the leader only, as kill -9 does
        check_until(
            supervisor, lambda: supervisor.running.get("worker") not in (None, first)
        )
        assert not alive(orphan)  # its group went with it
        assert any("worker was killed by SIGKILL (crash 1 of 5" in s for s in said)
        second = supervisor.running["worker"]
        assert second.alive() and second.pid != first.pid
    finally:
        supervisor.stop_all()
    assert not second.group_alive()


def test_a_child_that_keeps_crashing_stops_the_supervisor_with_the_reason(tmp_path):
    said = []
    crasher = python_child(
        "crasher",
        "print('cannot open the device', flush=True); raise SystemExit(3)",
        tmp_path,
    )
    steady = python_child("steady", "import time; time.sleep(600)", tmp_path)
    supervisor = Supervisor(
        [steady, crasher], max_crashes=3, window=60, backoff=0.05, say=said.append
    )
    try:
        supervisor.start_all()
        with pytest.raises(CrashLoop) as stopped:
            check_until(supervisor, lambda: False)
        reason = str(stopped.value)
        assert reason.startswith(
            "crasher exited with code 3: 3 crashes within 60 s, so it is not "
            "restarted again; stopping."
        )
        assert "cannot open the device" in reason  # its last log lines
        restarts = [s for s in said if s.startswith("crasher exited")]
        assert len(restarts) == 2  # restarted twice before giving up
        assert supervisor.running["steady"].alive()  # until its caller stops all
    finally:
        supervisor.stop_all()
    assert supervisor.running == {}


def test_restarts_wait_longer_after_each_recent_crash(tmp_path):
    said = []
    supervisor = Supervisor(
        [python_child("crasher", "raise SystemExit(1)", tmp_path)],
        max_crashes=6,
        backoff=0.1,
        max_backoff=0.4,
        say=said.append,
    )
    supervisor.start_all()
    with pytest.raises(CrashLoop):
        check_until(supervisor, lambda: False)
    delays = [
        s.split("restarting in ")[1].split()[0] for s in said if "restarting in" in s
    ]
    assert delays == ["0.1", "0.2", "0.4", "0.4", "0.4"]
