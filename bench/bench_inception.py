"""How long the FID Inception-v3 (gan_core/evaluation/inception.py) takes per
image on this machine: what a checkpoint's Inception FID/KID costs the light
worker (n real + n generated images, each through the network once).

Weights are a seeded random initialisation (the time does not depend on
them); images are 16 px gray, resized to 299 px as for any input.

    python -m bench.bench_inception [--images 32] [--batch 16] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from bench.results_file import commit, machine, write_section
from gan_core.evaluation.inception import FIDInceptionV3


def images_per_second(images: int, batch: int, device: str) -> float:
    torch.manual_seed(0)
    net = FIDInceptionV3().eval().to(device)
    x = torch.rand(images, 1, 16, 16) * 2 - 1
    with torch.inference_mode():
        net(x[:batch].to(device))  # warm-up: kernels chosen, memory allocated
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for i in range(0, images, batch):
            net(x[i : i + batch].to(device))
        if device == "cuda":
            torch.cuda.synchronize()
    return images / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=32)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        rate = images_per_second(args.images, args.batch, device)
        rows.append(f"| {device} | {args.batch} | {args.images} | {rate:.2f} |")
        print(
            f"{device}: {rate:.2f} images/s ({args.images} images, batch {args.batch})"
        )
    load = os.getloadavg()[0]
    body = "\n".join(
        [
            "### FID Inception-v3 forward (bench/bench_inception.py)",
            "",
            f"Machine: {machine()}; commit {commit()}; 1-minute load average "
            f"{load:.1f} when it ran. A checkpoint's Inception FID/KID at n "
            "costs 2n images (real and generated, each once).",
            "",
            "| device | batch | images | images/s |",
            "|---|---|---|---|",
            *rows,
        ]
    )
    if not args.no_write:
        write_section("bench_inception", body)


if __name__ == "__main__":
    main()
