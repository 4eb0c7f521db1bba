"""One job on two CPU processes against one process with two threads.

Same global batch, same model, same data: ``torchrun --nproc-per-node 1`` with
OMP_NUM_THREADS=2 against ``torchrun --nproc-per-node 2`` with one thread each
(gloo), interleaved A B A B so that the machine's load hits both alike. The
figure is the trainer's own images/s (real images shown to D per second) over
its last 50 steps, so start-up and the first steps are left out.

    .venv/bin/python bench/bench_distributed.py [--repeats 3] [--steps 70]

Writes the ``bench_distributed`` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import commit, machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = dict(
    image_size=16, batch_size=32, g_channels=16, d_channels=16, z_dim=32,
    sample_every=10**6, checkpoint_every=10**6,
)  # fmt: skip


def write_images(folder: Path, n: int = 256, size: int = 16) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (n, size, size, 3), generator=gen, dtype=torch.uint8)
    for i, img in enumerate(pixels):
        Image.fromarray(img.numpy()).save(folder / f"{i:04d}.png")


def run(procs: int, threads: int, data: Path, out: Path, steps: int):
    """(images/s, wall seconds) of one run: the last step event's rolling rate,
    and the whole command's time (start-up included) as a cross-check."""
    flags = [f for k, v in SETTINGS.items() for f in (f"--{k}", str(v))]
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc-per-node", str(procs), "-m", "gan_core", "train",
        "--model", "dcgan", "--data", str(data), "--out", str(out),
        "--device", "cpu", "--quiet", "--steps", str(steps), *flags,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    lines = (out / "metrics.jsonl").read_text().splitlines()
    steps_seen = [json.loads(x) for x in lines if '"type": "step"' in x]
    return float(steps_seen[-1]["images_per_sec"]), wall


NOTE = """A DCGAN-16 step takes milliseconds here, and each of its phases ends
in a gloo all-reduce over loopback TCP (and a loss read back), so on an idle
machine the two processes are bound by those messages; when other work
oversubscribes the cores the two-thread process loses instead, waiting in every
intra-op parallel region for its slower thread (a run at load 10-13 measured
51.7 images/s for it against 277.6 for two processes). Either way these are
figures of a 2-core CPU, not of scaling: the point of multi-process training
is several GPUs, which this machine lacks."""


def load_words(before: float, after: float) -> str:
    busy = max(before, after) > 2
    return (
        "other work shared these cores, so only the ratio means much"
        if busy
        else "the machine was otherwise idle"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    one, two = "1 process x 2 threads", "2 processes x 1 thread"
    layouts = {one: (1, 2), two: (2, 1), "1 process x 1 thread": (1, 1)}
    rates: dict[str, list[float]] = {k: [] for k in layouts}
    walls: dict[str, list[float]] = {k: [] for k in layouts}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "images"
        write_images(data)
        for i in range(args.repeats):
            for name, (procs, threads) in layouts.items():
                out = Path(tmp) / f"run{i}-{procs}-{threads}"
                rate, wall = run(procs, threads, data, out, args.steps)
                rates[name].append(rate)
                walls[name].append(wall)
                print(f"{name}: {rate:.1f} images/s, {wall:.0f} s", flush=True)
    load_after = os.getloadavg()[0]
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med[two] / med[one]
    alone = med[two] / med["1 process x 1 thread"]
    rows = "\n".join(
        f"| {k} | {med[k]:.1f} | {', '.join(f'{r:.1f}' for r in v)} | "
        f"{', '.join(f'{w:.0f}' for w in walls[k])} |"
        for k, v in rates.items()
    )
    body = f"""## bench_distributed: 2 CPU processes (gloo) vs 1 process x 2 threads

Machine: {machine()}. Commit {commit()}, {time.strftime("%Y-%m-%d")}.
DCGAN 16 px, global batch {SETTINGS["batch_size"]} (16 per rank with two),
{args.steps} steps per run, images/s over the last 50 steps, {args.repeats} runs
each, interleaved. Load average {load_before:.1f} before and {load_after:.1f}
after: {load_words(load_before, load_after)}.

| layout | median images/s | runs | wall s (with start-up) |
|---|---|---|---|
{rows}

Two processes / one process with two threads: {ratio:.2f}x; two processes /
one single-thread process: {alone:.2f}x. {NOTE}
"""
    write_section("bench_distributed", body)
    print(body)


if __name__ == "__main__":
    main()
