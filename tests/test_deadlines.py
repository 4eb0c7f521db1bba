"""The deadline helper scales with the machine and gives up with a reason."""

from __future__ import annotations

import pytest

from tests import deadlines


def test_time_scale_multiplies_the_env_factor_by_the_load_per_core(monkeypatch):
    monkeypatch.setattr(deadlines.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(deadlines.os, "getloadavg", lambda: (1.0, 0, 0))
    monkeypatch.delenv("GAN_TEST_TIME_SCALE", raising=False)
    assert deadlines.time_scale() == 1.0  # idle: budgets as written
    monkeypatch.setattr(deadlines.os, "getloadavg", lambda: (5.0, 0, 0))
    assert deadlines.time_scale() == 2.5
    monkeypatch.setenv("GAN_TEST_TIME_SCALE", "3")
    assert deadlines.time_scale() == 7.5 and deadlines.scaled(10) == 75
    monkeypatch.setattr(deadlines.os, "getloadavg", lambda: (500.0, 0, 0))
    assert deadlines.time_scale() == 3 * deadlines.MAX_LOAD_FACTOR


def test_wait_until_returns_the_first_truthy_value():
    calls = iter([None, 0, "ready"])
    assert deadlines.wait_until(lambda: next(calls), seconds=5, interval=0) == "ready"


def test_wait_until_gives_up_with_its_message(monkeypatch):
    monkeypatch.setattr(deadlines, "time_scale", lambda: 1.0)
    with pytest.raises(AssertionError, match="not within 0s .*still queued"):
        deadlines.wait_until(lambda: False, seconds=0.1, message=lambda: "still queued")
