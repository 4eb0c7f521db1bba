"""Where a StyleGAN2 training step spends its CPU time, op by op and by shape.

Profiles one unit (16 steps, lazy phases in proportion) of
bench_stylegan2_reference's ``Ours`` at one size and prints the ops with the
most self CPU time, then the same grouped by input shape (which tells the
layer: channels and spatial size). Prints only; nothing is written.

    python bench/stylegan2_profile.py --size 64 --rows 30
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_stylegan2_reference import Ours  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        ours = Ours(args.size, Path(tmp))
        ours.unit()  # warm-up: allocator, first lazy phases
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            ours.unit()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    by_shape = prof.key_averages(group_by_input_shape=True)
    print(
        by_shape.table(
            sort_by="self_cpu_time_total",
            row_limit=args.rows,
            max_name_column_width=40,
            max_shapes_column_width=80,
        )
    )


if __name__ == "__main__":
    main()
