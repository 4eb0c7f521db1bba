"""The CPU hogs of ``make test-busy`` run beside the command and stop with it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import psutil


def test_hogs_spin_while_the_command_runs_and_stop_after_it():
    probe = textwrap.dedent(
        """
        import os, psutil, time
        me = psutil.Process(os.getppid())  # the wrapper
        time.sleep(0.5)
        hogs = [p for p in me.children() if p.pid != os.getpid()]
        print(len(hogs), ",".join(str(p.pid) for p in hogs))
        print(min(p.cpu_percent(interval=0.5) for p in hogs))
        """
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.busy_machine", "--hogs", "2", "--",
         sys.executable, "-c", probe],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    count, pids = lines[0].split()
    assert count == "2"
    assert float(lines[1]) > 0  # each hog spins (its share depends on the load)
    assert not any(psutil.pid_exists(int(pid)) for pid in pids.split(","))
