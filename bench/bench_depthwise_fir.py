"""StyleGAN2's phases with FIR resampling through ATen's grouped convolution
against gan_core.nets.depthwise_fir's adjoint pair.

The two are the same function (tests/gan_core/test_depthwise_fir.py); the
difference is ATen's per-channel loop in the double backward of a grouped
convolution, which R1 (D_reg) and path length (G_reg) run through. Each
phase of bench_stylegan2_reference's ``Ours`` (the product's trainer, batch
16, CPU, fp32) is timed with either implementation swapped into
gan_core.nets.resample, interleaved, median of the rounds.

    python bench/bench_depthwise_fir.py --sizes 32 64
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_stylegan2_reference import Ours  # noqa: E402
from results_file import commit, machine, write_section  # noqa: E402

import gan_core.nets.resample as resample  # noqa: E402

SECTION = "bench_depthwise_fir"
PHASES = ("G_main", "G_reg", "D_main", "D_reg")


def _grouped(x, w, stride=1, padding=0):
    return F.conv2d(x, w, stride=stride, padding=padding, groups=x.shape[1])


def _grouped_t(x, w, stride=1, padding=0):
    return F.conv_transpose2d(x, w, stride=stride, padding=padding, groups=x.shape[1])


IMPLEMENTATIONS = {
    "ATen grouped": (_grouped, _grouped_t),
    "adjoint pair": (resample.depthwise_conv2d, resample.depthwise_conv_transpose2d),
}


def bench_size(size: int, rounds: int, calls: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Ours(size, Path(tmp)).trainer
        phases = {p.name: p for p in trainer.recipe.phases}
        times = {(impl, ph): [] for impl in IMPLEMENTATIONS for ph in PHASES}
        for r in range(rounds + 1):  # round 0 warms up
            for impl, (conv, conv_t) in IMPLEMENTATIONS.items():
                resample.depthwise_conv2d = conv
                resample.depthwise_conv_transpose2d = conv_t
                for ph in PHASES:
                    t0 = time.perf_counter()
                    for _ in range(calls):
                        trainer.run_phase(phases[ph], {})
                    if r:
                        times[(impl, ph)].append((time.perf_counter() - t0) / calls)
        conv, conv_t = IMPLEMENTATIONS["adjoint pair"]
        resample.depthwise_conv2d, resample.depthwise_conv_transpose2d = conv, conv_t
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start; "
        f"code measured: {commit()}.",
        f"stylegan2 phases of the product's trainer (bench_stylegan2_reference's "
        f"widths, batch 16, fp32, CPU), ms per phase, median of {args.rounds} "
        f"interleaved rounds of {args.calls} calls; the lazy phases run every 4 "
        "(G_reg) and 16 (D_reg) steps.",
        "",
        "| px | phase | ATen grouped ms | adjoint pair ms | adjoint / grouped |",
        "|---|---|---|---|---|",
    ]
    for size in args.sizes:
        t = bench_size(size, args.rounds, args.calls)
        for ph in PHASES:
            a, b = t[("ATen grouped", ph)], t[("adjoint pair", ph)]
            lines.append(
                f"| {size} | {ph} | {a * 1e3:.0f} | {b * 1e3:.0f} | {b / a:.2f} |"
            )
        text = "\n".join(lines)
        print(text, flush=True)
        if not args.no_write:
            write_section(SECTION, text)


if __name__ == "__main__":
    main()
