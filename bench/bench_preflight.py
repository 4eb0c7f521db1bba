"""Pre-flight estimates against real runs on this machine: time per step and
peak memory of a whole run, for dcgan and sngan at 32 px, batch 64, on the
built-in digits. Each side runs in a process of its own, alternating, three
times; the table keeps each side's fastest step and largest peak.

    .venv/bin/python bench/bench_preflight.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import commit, machine, write_section  # noqa: E402
from gan_core.preflight import estimate  # noqa: E402
from tests.gan_core.test_preflight import DIGITS, QUIET, RUNS, real_run  # noqa: E402

ROUNDS = 3


def measure(model: str) -> dict:
    config = {**RUNS[model], **QUIET}
    guesses, reals = [], []
    for _ in range(ROUNDS):
        guesses.append(estimate(model, config, DIGITS, "cpu"))
        reals.append(real_run(model, config, "builtin:digits"))
    return {
        "est_step": min(g.step_seconds for g in guesses),
        "real_step": min(r["step_seconds"] for r in reals),
        "est_peak": max(g.peak_bytes for g in guesses),
        "real_peak": max(r["peak_bytes"] for r in reals),
    }


def main() -> int:
    rows = []
    for model in sorted(RUNS):
        m = measure(model)
        step_err = m["est_step"] / m["real_step"] - 1
        peak_err = m["est_peak"] / m["real_peak"] - 1
        print(model, m, f"step {step_err:+.0%} peak {peak_err:+.0%}")
        rows.append(
            f"| {model} | {1000 * m['est_step']:.1f} | {1000 * m['real_step']:.1f} "
            f"| {step_err:+.0%} | {m['est_peak'] >> 20} | {m['real_peak'] >> 20} "
            f"| {peak_err:+.0%} |"
        )
    body = "\n".join(
        [
            "## Pre-flight estimates against real runs (bench/bench_preflight.py)",
            "",
            f"Machine: {machine()}; commit {commit()}. 32 px, batch 64, width 32, "
            f"builtin:digits, CPU; fastest step and largest peak of {ROUNDS} "
            "alternating runs of each side. Target: within 30 %.",
            "",
            "| family | estimated ms/step | real ms/step | step error "
            "| estimated peak MiB | real peak MiB | peak error |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    write_section("bench_preflight", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
