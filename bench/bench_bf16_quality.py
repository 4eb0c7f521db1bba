"""Does bf16 hurt quality? DCGAN trained in fp32 and in bf16 autocast, same
seeds, same steps, scored by classifier-FID/KID (bench_quality's image runs).

Runs alternate fp32 and bf16 per seed so the shared machine's load hits both.
Prints the figures and rewrites its own section of bench/RESULTS.md.

    .venv/bin/python bench/bench_bf16_quality.py [--seeds 5] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_quality import SMALL, image_run, spread  # noqa: E402
from results_file import commit, machine, write_section  # noqa: E402

SECTION = "bench_bf16_quality"
RUNS = [("digits", 16, 400), ("mnist", 32, 800)]  # as in bench_quality
PRECISIONS = ("fp32", "bf16")


def measure(seeds: int) -> dict:
    """(data, precision) -> the image_run rows over the seeds."""
    rows: dict = {}
    for name, size, steps in RUNS:
        for seed in range(seeds):
            for precision in PRECISIONS:
                changes = {**SMALL, "precision": precision}
                row = image_run("dcgan", name, size, steps, changes, seed)
                rows.setdefault((name, precision), []).append(row)
                print(
                    f"{name} {precision} seed {seed}: classifier-FID "
                    f"{row['fid']:.1f}, {row['images_per_sec']:.0f} img/s",
                    flush=True,
                )
    return rows


def section(rows: dict, seeds: int) -> str:
    lines = [
        "## bf16 and quality (bench/bench_bf16_quality.py)",
        "",
        f"Machine: {machine()}  ",
        f"Commit: {commit()}.",
        "",
        "DCGAN (width 32, batch 64) trained with `precision` fp32 and bf16 "
        f"(CPU autocast) on the same {seeds} seeds, alternating; classifier-FID/KID "
        "of 1,000 samples against 1,000 real images as in bench_quality (NOT "
        "Inception FID). Mean over the seeds, lowest and highest in brackets.",
        "",
        "| data | px | steps | precision | classifier-FID | classifier-KID "
        "| images/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, size, steps in RUNS:
        for precision in PRECISIONS:
            got = rows[(name, precision)]
            lines.append(
                f"| {name} | {size} | {steps} | {precision} | "
                f"{spread([r['fid'] for r in got], '.1f')} | "
                f"{spread([r['kid'] for r in got], '.2f')} | "
                f"{statistics.median(r['images_per_sec'] for r in got):.0f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    body = section(measure(args.seeds), args.seeds)
    print(body)
    if not args.no_write:
        write_section(SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
