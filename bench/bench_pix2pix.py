"""pix2pix bench: how far below the identity baseline does L1 to the target
fall, with and without the L1 term?

For each seed, the pix2pix family (16 px, widths 16, batch 4, the paper's Adam
settings) trains through the real trainer on builtin:shapes-paired (outline ->
filled shape on the inverted ground) for --steps steps, in two arms: the
paper's objective (cGAN + lambda 100 L1) and the cGAN term alone (lambda 0),
the two rows of Isola et al. 2017, table 1 that need no other loss. Each model
translates N_EVAL held-out pairs (the set drawn with another seed) and is
scored by mean |G(A) - B| on [-1, 1]; the identity baseline is mean |A - B|.

    .venv/bin/python bench/bench_pix2pix.py [--seeds 3] [--steps 300]
        [--threads 1] [--no-write]
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
from gan_core.sampling import load_generator  # noqa: E402
from gan_core.trainer import train  # noqa: E402

SECTION = "pix2pix"
SIZE, N_EVAL, EVAL_SEED = 16, 256, 1000
BASE = {"image_size": SIZE, "batch_size": 4, "ngf": 16, "ndf": 16,
        "sample_every": 10**6}  # fmt: skip
ARMS = {"cGAN + 100 L1 (paper)": {"l1_weight": 100.0}, "cGAN alone": {"l1_weight": 0}}


def score(checkpoint: Path, a: torch.Tensor, b: torch.Tensor) -> float:
    handle = load_generator(checkpoint)
    with torch.no_grad():
        out = torch.cat([handle.net(a[i : i + 64]) for i in range(0, len(a), 64)])
    return (out - b).abs().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started_at = commit()
    held = load_builtin("shapes-paired", image_size=SIZE, seed=EVAL_SEED)
    a, b = held.a[:N_EVAL], held.b[:N_EVAL]
    baseline = (a - b).abs().mean().item()
    errors: dict[str, list[float]] = {name: [] for name in ARMS}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for name, arm in ARMS.items():
                values = {**BASE, **arm, "seed": seed, "steps": args.steps,
                          "checkpoint_every": args.steps}  # fmt: skip
                out = Path(tmp) / f"{seed}-{arm['l1_weight']}"
                result = train(
                    config_from_dict("pix2pix", values),
                    data="builtin:shapes-paired",
                    out_dir=out,
                    device="cpu",
                )
                errors[name].append(score(Path(result.checkpoint), a, b))
                print(f"seed {seed} {name}: L1 {errors[name][-1]:.4f}")
    seconds = time.perf_counter() - t0
    load = os.getloadavg()[0]
    rows = [
        f"| {name} | {statistics.mean(v):.4f} | {statistics.pstdev(v):.4f} | "
        f"{statistics.mean(v) / baseline:.3f} | "
        + ", ".join(f"{x:.4f}" for x in v)
        + " |"
        for name, v in errors.items()
    ]
    body = "\n".join(
        [
            "## pix2pix: L1 to the target vs the identity baseline "
            "(bench/bench_pix2pix.py)",
            "",
            f"Machine: {machine()}; commit {started_at}; load average {load:.1f} "
            "at the end (shared machine: the wall time is not a figure here, the "
            "errors are).",
            f"pix2pix {SIZE} px, ngf = ndf = 16, batch 4, Adam(2e-4, 0.5, 0.999), "
            f"{args.steps} steps on builtin:shapes-paired, {args.seeds} seeds per "
            f"arm; mean |G(A) - B| on [-1, 1] over {N_EVAL} held-out pairs (the "
            f"set drawn with seed {EVAL_SEED}); identity baseline mean |A - B| = "
            f"{baseline:.4f}. Wall time {seconds:.0f} s.",
            "",
            "| objective | L1 mean | std | / baseline | per seed |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
