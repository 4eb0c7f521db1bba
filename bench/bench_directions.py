"""Latent directions at full size on the CPU: how long the light worker takes
to find them (gan_core.directions.compute_directions, k=20, default samples),
how long a cached read and one edit take. Fresh weights (the cost does not
depend on training): StyleGAN2 at 256 px (z and w 512, 8 mapping layers) and
DCGAN at 64 px (its first layer has 8,192 features). One thread, as a
light worker process runs it on a loaded machine, and all threads.

    .venv/bin/python bench/bench_directions.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import commit, machine, write_section  # noqa: E402
from gan_core import directions as D  # noqa: E402
from gan_core.config import config_from_dict  # noqa: E402
from gan_core.data.loading import DataInfo  # noqa: E402
from gan_core.registry import get_family  # noqa: E402
from gan_core.sampling import GeneratorHandle  # noqa: E402

MODELS = {
    "stylegan2 256 px": ("stylegan2", {"image_size": 256}),
    "dcgan 64 px": ("dcgan", {"image_size": 64}),
}


def handle_for(family_name: str, settings: dict) -> GeneratorHandle:
    family = get_family(family_name)
    torch.manual_seed(0)  # the same fresh weights every run
    config = config_from_dict(family.name, settings)
    info = DataInfo("images", 3, settings["image_size"], fingerprint="bench")
    recipe = family.build(config, info, torch.device("cpu"))
    net = recipe.nets[recipe.generator].eval()
    return GeneratorHandle(
        family=family.name, net=net, generate=recipe.generate, z_dim=recipe.z_dim,
        kind="images", image_size=info.image_size, channels=3, class_names=(),
        conditional=False, device=torch.device("cpu"),
    )  # fmt: skip


def measure(handle, threads: int) -> dict:
    torch.set_num_threads(threads)
    started = time.perf_counter()
    dirs = D.compute_directions(handle)
    found = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = dirs.save(Path(folder) / "d.pt")
        started = time.perf_counter()
        D.load_directions(path)
        read = time.perf_counter() - started
    D.edited_image(handle, dirs, {0: 1.0})  # warm
    started = time.perf_counter()
    for alpha in (-2.0, -1.0, 1.0, 2.0):
        D.edited_image(handle, dirs, {0: alpha})
    edit = (time.perf_counter() - started) / 4
    return {"found": found, "read": read, "edit": edit, "samples": dirs.samples,
            "feature": dirs.feature, "top": float(dirs.explained[0])}  # fmt: skip


def main() -> int:
    rows = []
    all_threads = torch.get_num_threads()
    for name, (family, settings) in MODELS.items():
        handle = handle_for(family, settings)
        for threads in sorted({1, all_threads}):
            m = measure(handle, threads)
            print(name, threads, m)
            rows.append(
                f"| {name} | {m['feature']} | {m['samples']} | {threads} "
                f"| {m['found']:.2f} | {1000 * m['read']:.1f} "
                f"| {1000 * m['edit']:.0f} |"
            )
    body = "\n".join(
        [
            "## Latent directions (bench/bench_directions.py)",
            "",
            f"Machine: {machine()}; commit {commit()}; load average "
            f"{os.getloadavg()[0]:.1f} at the end (others at work). CPU, fresh "
            "weights, k=20; "
            "PCA of the sampled w (StyleGAN2) or of the first layer's features "
            "carried back to z (DCGAN). Found: sampling and PCA, what a light "
            "worker does once per checkpoint; read: the cached file; edit: one "
            "edited image (mean of 4).",
            "",
            "| model | PCA of | samples | threads | found s | read ms | edit ms |",
            "|---|---|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    write_section("bench_directions", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
