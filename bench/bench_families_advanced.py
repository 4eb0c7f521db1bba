"""Speed of the advanced families: training images/sec and sampling latency.

1. Training throughput of progan, stylegan2 and cyclegan at small sizes, through
   the real trainer (warm-up steps excluded). ProGAN is timed at its final
   resolution (phase_steps=1 grows it within the warm-up).
2. Latency of each sampling call for a 64-image grid: sample (psi 1 and 0.7),
   interpolate (64 frames, W and Z), style_mix (8 x 8), class_grid (8 classes x
   8), translate (a 256 px upload as 64 tiles of 32 px, and resized).

Writes the `bench_advanced` section of bench/RESULTS.md. Under 5 minutes on a
2-core CPU.

    .venv/bin/python bench/bench_families_advanced.py [--device cpu] [--quick]
        [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from bench.results_file import commit, machine, write_section  # noqa: E402
from gan_core.config import config_from_dict  # noqa: E402
from gan_core.data.types import DomainData, ImageData  # noqa: E402
from gan_core.registry import get_family  # noqa: E402
from gan_core.sampling import load_generator  # noqa: E402
from gan_core.trainer import Trainer, train  # noqa: E402

SIZE = 32
# The families' "quick" presets (CPU-sized widths) at 32 px.
RUNS = {
    "progan": {"phase_steps": 1},
    "stylegan2": {},
    "cyclegan": {},
}


def shapes(n: int, size: int, classes: int = 8) -> ImageData:
    """builtin:shapes when present; otherwise labelled flat squares (speed only)."""
    try:
        from gan_core.data.builtin import load_builtin

        return load_builtin("shapes", image_size=size)
    except ImportError:
        gen = torch.Generator().manual_seed(0)
        images = torch.full((n, 3, size, size), -0.8)
        for k in range(n):
            x0, y0 = torch.randint(0, size // 2, (2,), generator=gen).tolist()
            colour = (torch.rand(3, generator=gen) * 2 - 1).view(3, 1, 1)
            images[k, :, y0 : y0 + size // 2, x0 : x0 + size // 2] = colour
        labels = torch.arange(n) % classes
        names = tuple(f"c{i}" for i in range(classes))
        return ImageData(images, labels, names, fingerprint=f"bench-{n}-{size}")


def two_domains(n: int, size: int) -> DomainData:
    try:
        from gan_core.data.builtin import load_builtin

        return load_builtin("shapes-ab", image_size=size)
    except ImportError:
        x = shapes(n, size).images
        return DomainData(x, x.flip(1), fingerprint=f"bench-ab-{n}-{size}")


def settings(family: str, **extra) -> dict:
    preset = dict(get_family(family).presets["quick"])
    preset.update(image_size=SIZE, sample_every=10**6, checkpoint_every=10**6)
    preset.update(RUNS[family])
    preset.update(extra)
    return preset


def train_rate(family: str, data, device: torch.device, steps: int, warmup: int):
    """(images/sec at the median step, at the mean step, batch size) over
    ``steps`` individually timed trainer steps after warm-up."""
    config = config_from_dict(family, settings(family, steps=warmup + steps))
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, data, Path(tmp), device, None, None)
        for _ in range(warmup):
            trainer.train_step()
        times = []
        for _ in range(steps):
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            trainer.train_step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
    # The median step: robust to other processes on a shared machine. Lazy
    # regularization makes some steps dearer, so the mean is reported too.
    median, mean = statistics.median(times), statistics.fmean(times)
    return config.batch_size / median, config.batch_size / mean, config.batch_size


def timed(call, repeats: int) -> float:
    """Median wall-clock milliseconds of ``call`` after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def checkpoint(root: Path, family: str, data, **extra) -> Path:
    config = config_from_dict(family, settings(family, steps=2, **extra))
    return train(config, data=data, out_dir=root / family, device="cpu").checkpoint


def sampling_latencies(device: str, repeats: int) -> list[tuple[str, float]]:
    images, domains = shapes(256, SIZE), two_domains(256, SIZE)
    plain = ImageData(images.images, fingerprint=images.fingerprint + "-plain")
    upload = Image.new("RGB", (8 * SIZE, 8 * SIZE), (180, 40, 40))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        style = load_generator(checkpoint(root, "stylegan2", plain), device)
        cond = load_generator(
            checkpoint(root / "c", "stylegan2", images, conditional=True), device
        )
        pro = load_generator(checkpoint(root, "progan", plain), device)
        pro.net.set_progress(pro.net.num_stages - 1, 1.0)  # Time the full size.
        cycle = load_generator(checkpoint(root, "cyclegan", domains), device)
        per_class = max(1, 64 // len(cond.class_names))
        calls = [
            ("stylegan2 sample(64)", lambda: style.sample(64, seed=1)),
            ("stylegan2 sample(64, psi=0.7) [W]",
             lambda: style.sample(64, seed=1, truncation_psi=0.7)),
            ("stylegan2 interpolate(64 frames, W)",
             lambda: style.interpolate(0, 1, steps=64)),
            ("stylegan2 interpolate(64 frames) + GIF",
             lambda: style.interpolate(0, 1, steps=64, path=root / "walk.gif")),
            ("stylegan2 style_mix(8 x 8, middle)",
             lambda: style.style_mix(range(8), range(8, 16)).image()),
            (f"stylegan2 class_grid({len(cond.class_names)} x {per_class})",
             lambda: cond.class_grid(per_class)),
            ("progan sample(64, psi=0.7) [Z]",
             lambda: pro.sample(64, seed=1, truncation_psi=0.7)),
            ("progan interpolate(64 frames, Z)",
             lambda: pro.interpolate(0, 1, steps=64)),
            (f"cyclegan translate({8 * SIZE} px, 64 tiles)",
             lambda: cycle.translate(upload, "AtoB", mode="tile")),
            (f"cyclegan translate({8 * SIZE} px, resize)",
             lambda: cycle.translate(upload, "AtoB")),
        ]  # fmt: skip
        return [(name, timed(call, repeats)) for name, call in calls]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="fewer timed steps")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0: torch's default)")  # fmt: skip
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    steps, warmup, repeats = (8, 8, 2) if args.quick else (32, 10, 5)
    started = time.perf_counter()
    rows = []
    data = {"progan": shapes(256, SIZE), "stylegan2": shapes(256, SIZE)}
    data["cyclegan"] = two_domains(256, SIZE)
    for family in RUNS:
        plain = data[family]
        if isinstance(plain, ImageData):
            plain = ImageData(plain.images, fingerprint=plain.fingerprint + "-p")
        rate, mean_rate, batch = train_rate(family, plain, device, steps, warmup)
        rows.append((family, batch, rate, mean_rate))
        print(f"{family}: {rate:.1f} images/sec (batch {batch})", flush=True)
    latencies = sampling_latencies(args.device, repeats)
    for name, ms in latencies:
        print(f"{name}: {ms:.1f} ms", flush=True)
    total = time.perf_counter() - started
    lines = [
        "## Advanced families: training speed and sampling latency",
        "",
        f"Machine: {machine()}  ",
        f"Commit: {commit()}; device {device}; {total:.0f} s in all.  ",
        f"Training: each family's `quick` preset at {SIZE} px through the real "
        f"trainer, {steps} timed steps after {warmup} warm-up steps (ProGAN at its "
        "final resolution). Images/sec counts real images shown to D (CycleGAN: "
        "per domain); the median step leaves out lazy-regularization steps and "
        "other processes' spikes, the mean step includes them.",
        *(
            [
                "",
                f"Run with `--threads {args.threads}`: on a shared 2-core machine "
                "one torch thread is steadier and faster than two, whose workers "
                "wait on each other whenever another process holds a core.",
            ]
            if args.threads
            else []
        ),
        "",
        "| family | batch | images/sec (median step) | images/sec (mean step) |",
        "|---|---|---|---|",
        *[f"| {f} | {b} | {r:.1f} | {m:.1f} |" for f, b, r, m in rows],
        "",
        f"Sampling latency for a 64-image grid (median of {repeats}, after one "
        "warm-up call; untrained quick-preset weights, the cost does not depend on "
        "training):",
        "",
        "| call | ms |",
        "|---|---|",
        *[f"| {name} | {ms:.1f} |" for name, ms in latencies],
    ]
    write_section("bench_advanced", "\n".join(lines))
    print(f"wrote bench/RESULTS.md section bench_advanced ({total:.0f} s)")


if __name__ == "__main__":
    main()
