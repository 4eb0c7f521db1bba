"""Run a command beside CPU hogs: ``make test-busy`` (the tests must still pass).

    python -m tests.busy_machine --hogs 2 -- python -m pytest tests/reliability

Each hog is a process spinning on one core. They stop when the command ends,
and by themselves if this wrapper dies first (each watches its parent) or
after ``--max-seconds`` whatever happens.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def hog(parent: int, max_seconds: float) -> None:
    """Spin until the parent is gone or the time is up (checked every ~50 ms)."""
    ends = time.monotonic() + max_seconds
    while time.monotonic() < ends and os.getppid() == parent:
        spin_until = time.monotonic() + 0.05
        while time.monotonic() < spin_until:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=2, help="CPU-hog processes")
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    hogs = [
        multiprocessing.Process(
            target=hog, args=(os.getpid(), args.max_seconds), daemon=True
        )
        for _ in range(args.hogs)
    ]
    for process in hogs:
        process.start()
    print(
        f"busy_machine: {args.hogs} CPU hogs beside: {command[0]} ...", file=sys.stderr
    )
    try:
        return subprocess.call(command)
    finally:
        for process in hogs:
            process.terminate()
        for process in hogs:
            process.join(timeout=5)
        load = os.getloadavg()[0]
        print(f"busy_machine: load average {load:.1f} at the end", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
