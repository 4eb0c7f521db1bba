"""Keep a set of child processes running: restart what dies, give up on loops.

`make run` (ganweb.devstack) supervises Redis, the Celery workers, beat and
daphne with this. A child that exits is stopped with its whole process group
(what it started must not outlive it) and started again after a backoff that
doubles with each recent crash. A child that crashes ``max_crashes`` times
within ``window`` seconds is not going to get better by itself: the supervisor
raises CrashLoop with the reason and the child's last log lines, and its caller
stops everything. Imports nothing heavy: it runs in the `make run` process.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass


class CrashLoop(RuntimeError):
    """A child crashed too often in too short a time."""


@dataclass(frozen=True)
class Child:
    """How to start one supervised process, and how to tell it is serving.

    ``start`` returns at once with the process (so a Ctrl-C meanwhile still
    finds it to stop); ``ready``, when given, is polled until it is true.
    """

    name: str
    start: Callable[[], object]  # -> devstack.ManagedProcess
    ready: Callable[[object], bool] | None = None
    ready_seconds: float = 60.0


def exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Supervisor:
    """Start children in order, restart those that exit, stop them in reverse."""

    def __init__(
        self,
        children: list[Child],
        *,
        max_crashes: int = 5,
        window: float = 120.0,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        say: Callable[[str], None] | None = None,
    ):
        self.children = list(children)
        self.max_crashes = max(1, max_crashes)
        self.window = window
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.say = say or (lambda text: print(text, flush=True))
        self.running: dict[str, object] = {}
        self.crashes: dict[str, list[float]] = {child.name: [] for child in children}
        self.restart_at: dict[str, float] = {}

    def start_all(self) -> None:
        for child in self.children:
            self._start(child)

    def check(self) -> None:
        """One round: notice children that exited, restart those whose backoff
        is over. Raises CrashLoop when one keeps crashing."""
        for child in self.children:
            process = self.running.get(child.name)
            if process is not None and not process.alive():
                reason = exit_reason(process.popen.returncode)
                tail = process.log_tail(20)
                process.stop(timeout=5)  # the rest of its process group
                del self.running[child.name]
                self._crashed(child, reason, tail)
        now = time.monotonic()
        for child in self.children:
            due = self.restart_at.get(child.name)
            if due is not None and now >= due:
                del self.restart_at[child.name]
                self._start(child)

    def stop_all(self) -> None:
        for child in reversed(self.children):
            process = self.running.pop(child.name, None)
            if process is not None:
                process.stop()
        self.restart_at.clear()

    def _start(self, child: Child) -> None:
        process = child.start()
        self.running[child.name] = process
        self.say(f"started   {child.name} (pid {process.pid})")
        if child.ready is None:
            return
        deadline = time.monotonic() + child.ready_seconds
        while process.alive() and time.monotonic() < deadline:
            try:
                if child.ready(process):
                    return
            except Exception:  # noqa: BLE001 - not serving yet
                pass
            time.sleep(0.2)
        if process.alive():  # never became ready: it counts as a crash
            tail = process.log_tail(20)
            process.stop(timeout=5)
            del self.running[child.name]
            self._crashed(child, f"was not ready in {child.ready_seconds:.0f} s", tail)
        # One that exited meanwhile is noticed by the next check().

    def _crashed(self, child: Child, reason: str, tail: str) -> None:
        now = time.monotonic()
        recent = [t for t in self.crashes[child.name] if now - t < self.window]
        recent.append(now)
        self.crashes[child.name] = recent
        if len(recent) >= self.max_crashes:
            raise CrashLoop(
                f"{child.name} {reason}: {len(recent)} crashes within "
                f"{self.window:.0f} s, so it is not restarted again; stopping.\n{tail}"
            )
        delay = min(self.max_backoff, self.backoff * 2 ** (len(recent) - 1))
        self.say(
            f"{child.name} {reason} (crash {len(recent)} of {self.max_crashes} "
            f"allowed within {self.window:.0f} s); restarting in {delay:g} s\n{tail}"
        )
        self.restart_at[child.name] = now + delay
