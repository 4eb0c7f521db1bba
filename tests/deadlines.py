"""Deadlines that scale with the machine, for every test that waits.

A wait is "until this holds, or until a deadline": the deadline is a generous
budget on an idle machine, multiplied by ``time_scale()``, so a test that
passes idle also passes beside other work (``make test-busy`` proves it)
instead of failing because a step took 3 s instead of 1.

GAN_TEST_TIME_SCALE (default 1) multiplies every budget; on top of it the
budget grows with the load average per core, measured when the wait starts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
MAX_LOAD_FACTOR = 8.0  # past this, a deadline no longer says anything


def time_scale() -> float:
    """GAN_TEST_TIME_SCALE times the load average per core (at least 1)."""
    try:
        factor = float(os.environ.get("GAN_TEST_TIME_SCALE", "1") or 1)
    except ValueError:
        factor = 1.0
    try:
        per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        per_core = 0.0
    return max(1.0, factor) * min(MAX_LOAD_FACTOR, max(1.0, per_core))


def scaled(seconds: float) -> float:
    """``seconds`` of an idle machine, on this one now."""
    return seconds * time_scale()


def scaled_ms(seconds: float) -> int:
    """``scaled`` in milliseconds, for Playwright's ``timeout=``."""
    return round(scaled(seconds) * 1000)


class Deadline:
    """A point in monotonic time ``seconds`` (scaled) from now."""

    def __init__(self, seconds: float):
        self.budget = scaled(seconds)
        self.at = time.monotonic() + self.budget

    def left(self, minimum: float = 0.05) -> float:
        """Seconds left, never below ``minimum`` (for socket timeouts)."""
        return max(minimum, self.at - time.monotonic())

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at


def wait_until(
    condition: Callable[[], T],
    *,
    seconds: float,
    interval: float = 0.2,
    message: str | Callable[[], str] = "",
) -> T:
    """The first truthy value of ``condition()``, polled every ``interval``;
    AssertionError with ``message`` once ``seconds`` (scaled) have passed."""
    deadline = Deadline(seconds)
    while True:
        value = condition()
        if value:
            return value
        if deadline.passed:
            text = message() if callable(message) else message
            raise AssertionError(
                f"not within {deadline.budget:.0f}s (x{time_scale():.1f}): {text}"
            )
        time.sleep(interval)
