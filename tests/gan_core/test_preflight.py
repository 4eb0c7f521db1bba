"""Pre-flight estimates against real runs: time per step and peak memory of a
whole training run, measured in processes of their own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gan_core.preflight import DataShape, estimate

# A real run in a fresh process: median time between step events (after two)
# and the process's peak resident memory.
REAL_RUN = r"""
import json, statistics, sys, tempfile, time
from pathlib import Path
from gan_core.config import config_from_dict
from gan_core.trainer import train
model, config, data = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
stamps = []
def on_event(event):
    if event.type == "step":
        stamps.append(time.perf_counter())
with tempfile.TemporaryDirectory() as out:
    train(config_from_dict(model, config), data=data, out_dir=out, device="cpu",
          on_event=on_event)
gaps = [b - a for a, b in zip(stamps, stamps[1:])][2:]
status = Path("/proc/self/status").read_text().splitlines()
peak = next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM:"))
print(json.dumps({"step_seconds": statistics.median(gaps), "peak_bytes": peak}))
"""

RUNS = {
    "dcgan": {"image_size": 32, "batch_size": 64, "g_channels": 32, "d_channels": 32},
    "sngan": {"image_size": 32, "batch_size": 64, "g_channels": 32, "d_channels": 32},
}
QUIET = {"steps": 24, "sample_every": 10**6, "checkpoint_every": 10**6}
DIGITS = DataShape(kind="images", count=1797, channels=1)


def real_run(model: str, config: dict, data: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", REAL_RUN, model, json.dumps(config), data],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


ROUNDS = 3


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(RUNS))
def test_the_estimate_is_within_30_percent_of_a_real_run(model):
    """Step time and peak memory, against whole runs in processes of their own.

    Each round runs the estimate and then the real run, back to back, and the
    test compares the median of the rounds' step-time ratios: another process
    taking a core for a while slows one round, not the median."""
    config = {**RUNS[model], **QUIET}
    guesses, reals = [], []
    for _ in range(ROUNDS):
        guesses.append(estimate(model, config, DIGITS, "cpu"))
        reals.append(real_run(model, config, "builtin:digits"))
    ratios = sorted(
        g.step_seconds / r["step_seconds"] for g, r in zip(guesses, reals, strict=True)
    )
    peak = max(r["peak_bytes"] for r in reals)
    guess = guesses[0]
    assert all(g.fits and g.suggested_batch_size is None for g in guesses)
    assert guess.duration_seconds == pytest.approx(guess.step_seconds * 24)
    assert ratios[len(ratios) // 2] == pytest.approx(1.0, abs=0.3), (ratios, reals)
    assert max(g.peak_bytes for g in guesses) == pytest.approx(peak, rel=0.3), (
        guesses,
        reals,
    )


def test_a_run_that_would_not_fit_gets_the_largest_batch_that_does():
    """Memory grows with the batch; past what is free, the estimate says so
    and works out the largest batch from a second probe at half the batch."""
    from gan_core.preflight import available_bytes

    free = available_bytes("cpu")
    base, per_image = 300 << 20, free // 1000  # 1,000 images fill the memory
    probes = []

    def probe(model, config, shape, device):
        probes.append(config["batch_size"])
        batch = config["batch_size"]
        return {
            "step_seconds": 0.001 * batch,
            "peak_bytes": base + per_image * batch,
            "probe_data_bytes": 0,
            "device": "cpu",
        }

    shape = DataShape(kind="points", count=0)
    small = estimate("gan", {"batch_size": 256}, shape, probe_fn=probe)
    assert small.fits and small.suggested_batch_size is None and probes == [256]

    big = estimate("gan", {"batch_size": 2048}, shape, probe_fn=probe)
    assert not big.fits and probes[1:] == [2048, 1024]
    expected = (0.9 * free - base) // per_image
    assert big.suggested_batch_size == pytest.approx(expected, abs=1)
    assert base + per_image * big.suggested_batch_size <= 0.9 * free


def test_an_uploaded_dataset_counts_one_byte_per_value_up_to_the_ram_budget(
    monkeypatch,
):
    """Uploads train from their uint8 training cache, in RAM up to the data RAM
    budget and streamed beyond it; built-in datasets are held as float32. One
    real probe per estimate, on data of each kind."""
    config = {"image_size": 16, "batch_size": 8, "g_channels": 8, "d_channels": 8}
    count = 400_000  # 1.2 GB as float32, 307 MB as uint8
    value_count = count * 3 * 16 * 16
    monkeypatch.setenv("GAN_DATA_RAM_BYTES", str(1 << 30))
    held = estimate("dcgan", config, DataShape("images", count), "cpu")
    cached = estimate("dcgan", config, DataShape("images", count, dtype="uint8"), "cpu")
    # The probes' own peaks differ by a few MB from run to run.
    saved = held.peak_bytes - cached.peak_bytes
    assert saved == pytest.approx(3 * value_count, rel=0.1), (held, cached)

    monkeypatch.setenv("GAN_DATA_RAM_BYTES", str(32 << 20))  # the rest streams
    streamed = estimate(
        "dcgan", config, DataShape("images", count, dtype="uint8"), "cpu"
    )
    saved = cached.peak_bytes - streamed.peak_bytes
    assert saved == pytest.approx(value_count - (32 << 20), rel=0.1), (
        cached,
        streamed,
    )


def test_a_data_shape_of_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="dtype must be float32 or uint8"):
        DataShape("images", 10, dtype="float16")
