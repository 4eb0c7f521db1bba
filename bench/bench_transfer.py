"""Transfer bench: does starting from a trained model help on a small set?

A DCGAN (16 px, widths 32) is trained once on builtin:mnist (downsampled to
16 px); then, for each seed, three runs of the same number of steps on a
200-image subset of builtin:digits (its 8x8 digits upsampled to the same
16 px): from scratch, from the MNIST model (init-from), and from the MNIST
model with FreezeD (freeze_d 1, Mo et al. 2020). A fourth arm trains from
scratch with ``mirror`` on the same subset. Each run is scored by
classifier-FID (the digits classifier's 128-d features, NOT Inception FID) of
N_EVAL samples against N_EVAL real digits from outside the subset.

Digits are not left-right symmetric, so mirror is expected to hurt here; the
arm measures what the setting does to a small set whose flips are off the
distribution (stylegan2-ada-pytorch turns --mirror on only for data that is).

    .venv/bin/python bench/bench_transfer.py [--seeds 3] [--steps 300]
        [--pretrain-steps 600] [--threads 1] [--no-write]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from results_file import commit, machine, write_section  # noqa: E402

from gan_core.config import config_from_dict  # noqa: E402
from gan_core.data.builtin import load_builtin  # noqa: E402
from gan_core.data.types import ImageData  # noqa: E402
from gan_core.evaluation.fid import classifier_fid  # noqa: E402
from gan_core.sampling import load_generator  # noqa: E402
from gan_core.trainer import train  # noqa: E402

SECTION = "bench_transfer"
SIZE = 16
SUBSET = 200
N_EVAL = 500
BASE = {
    "image_size": SIZE,
    "batch_size": 64,
    "g_channels": 32,
    "d_channels": 32,
    "sample_every": 10**6,
    "checkpoint_every": 10**6,
}


def digits_split(seed: int = 0) -> tuple[ImageData, torch.Tensor]:
    """(a 200-image training subset, N_EVAL real digits outside it)."""
    digits = load_builtin("digits", image_size=SIZE)
    order = torch.randperm(
        len(digits.images), generator=torch.Generator().manual_seed(seed)
    )
    pick, rest = order[:SUBSET], order[SUBSET : SUBSET + N_EVAL]
    images = digits.float_images()
    subset = ImageData(images[pick], digits.labels[pick], digits.class_names)
    return subset, images[rest]


def score(checkpoint: Path, real: torch.Tensor, seed: int) -> float:
    handle = load_generator(checkpoint)
    gen = torch.Generator().manual_seed(10_000 + seed)
    z = torch.randn(N_EVAL, handle.z_dim, generator=gen)
    with torch.no_grad():
        fake = handle.generate(handle.net, z, None).float()
    return classifier_fid(real, fake, dataset="digits")


def run(out: Path, data, seed: int, steps: int, init_from=None, **changes) -> Path:
    config = config_from_dict(
        "dcgan", {**BASE, "steps": steps, "seed": seed, **changes}
    )
    result = train(config, data=data, out_dir=out, device="cpu", init_from=init_from)
    return result.checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--pretrain-steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started_at = commit()  # the code that runs, not the HEAD when it ends
    subset, real = digits_split()
    arms = {
        "scratch": {},
        "init-from MNIST": {"init": True},
        "init-from MNIST + freeze_d 1": {"init": True, "freeze_d": 1},
        "scratch + mirror": {"mirror": True},
    }
    fids: dict[str, list[float]] = {name: [] for name in arms}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        mnist = load_builtin("mnist", image_size=SIZE)
        pretrained = run(root / "mnist", mnist, 0, args.pretrain_steps)
        pre_seconds = time.perf_counter() - t0
        print(f"pretrained on mnist: {args.pretrain_steps} steps, {pre_seconds:.0f} s")
        for seed in range(args.seeds):
            for name, arm in arms.items():
                changes = {k: v for k, v in arm.items() if k != "init"}
                start = pretrained if arm.get("init") else None
                out = root / f"{name.replace(' ', '_')}_{seed}"
                ckpt = run(out, subset, seed, args.steps, start, **changes)
                fids[name].append(score(ckpt, real, seed))
                print(f"seed {seed} {name}: classifier-FID {fids[name][-1]:.2f}")
    seconds = time.perf_counter() - t0
    load = os.getloadavg()[0]
    rows = [
        f"| {name} | {statistics.mean(v):.2f} | {statistics.pstdev(v):.2f} | "
        + ", ".join(f"{x:.2f}" for x in v)
        + " |"
        for name, v in fids.items()
    ]
    body = "\n".join(
        [
            "## Transfer: fine-tuning from MNIST vs scratch on 200 digits "
            "(bench/bench_transfer.py)",
            "",
            f"Machine: {machine()}; commit {started_at}; load average {load:.1f} "
            "at the end (the machine was shared with other work: timings are "
            "not figures here, the FIDs are).",
            f"DCGAN 16 px, widths 32, batch 64. Pretrained {args.pretrain_steps} "
            f"steps on builtin:mnist (5,000 digits, 28 -> 16 px); then "
            f"{args.steps} steps on a {SUBSET}-image subset of builtin:digits "
            f"(8x8 upsampled to 16 px) for each of {args.seeds} seeds. "
            f"classifier-FID (digits classifier features, NOT Inception FID) of "
            f"{N_EVAL} EMA samples vs {N_EVAL} real digits outside the subset. "
            f"Wall time {seconds:.0f} s.",
            "",
            "| start | classifier-FID mean | std | per seed |",
            "|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
