"""Quality bench: mode coverage on the 2D mixtures over seeds, and classifier-FID,
conditional accuracy and images/sec of the image families on the digit sets.

Points: the ``gan`` family (MLP) on builtin:ring8 and builtin:grid25 for each
seed, evaluated by the VEEGAN/PacGAN protocol (2,500 samples, high quality
within 3 std, modes captured, KL(q || uniform)), beside PacGAN's Table 1 row.
Images: each classic family briefly on builtin:digits (16 px) and builtin:mnist
(32 px): classifier-FID/KID of 1,000 samples against 1,000 real images (NOT
Inception FID: never compare with published FID figures), conditional accuracy
for cgan, and training images/sec. Prints the figures and rewrites its own
section of bench/RESULTS.md.

    .venv/bin/python bench/bench_quality.py [--seeds 5] [--threads 1] [--no-write]
"""

from __future__ import annotations

import argparse
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
from gan_core.evaluation.classifier import get_classifier  # noqa: E402
from gan_core.evaluation.cli import evaluate_checkpoint  # noqa: E402
from gan_core.evaluation.conditional import class_accuracy  # noqa: E402
from gan_core.evaluation.fid import classifier_scores  # noqa: E402
from gan_core.evaluation.points import PROTOCOL_SAMPLES, mode_coverage  # noqa: E402
from gan_core.registry import get_family  # noqa: E402
from gan_core.sampling import load_generator  # noqa: E402
from gan_core.trainer import train  # noqa: E402

SECTION = "bench_quality"  # <!-- bench_quality --> ... <!-- /bench_quality -->
QUIET = {"sample_every": 10**6, "checkpoint_every": 10**6}

# PacGAN (Lin et al. 2018), Table 1, row PacGAN4: modes captured and % high
# quality samples, averaged over 10 trials, 2,500 samples each.
PUBLISHED = {
    "ring8": ("PacGAN4 (Lin et al. 2018, Table 1)", 7.8, 95.9, 8),
    "grid25": ("PacGAN4 (Lin et al. 2018, Table 1)", 24.8, 93.6, 25),
}
TARGET_HQ = 0.95
# Discriminator rejection sampling (gan_core.rejection): gamma at this
# percentile of F, as in Azadi et al. 2019's experiments.
DRS_PERCENTILE = 80.0
DRS = " + DRS"

# The settings the points runs use, over the gan family's defaults. "preset" is
# the family's own ``points`` preset: batch 512, two D steps per G step (the
# best of a short sweep over batch 256-512, 2,000-4,000 steps, lr 2e-4-1e-3,
# hinge, hidden 256, n_critic 1-2) and self-conditioning on 50 k-means clusters
# (Liu et al. 2020). "plain" is the same without the clusters: the original
# GAN, which keeps the ring's 8 modes but drops grid25 modes.
POINTS_CONFIGS = {
    "preset": {},
    "plain": {"clusters": 0},
}

# (family, data, image_size, steps, settings) for the image runs.
IMAGE_RUNS = [
    ("dcgan", "digits", 16, 400, {"g_channels": 32, "d_channels": 32}),
    ("wgan-gp", "digits", 16, 200, {"g_channels": 32, "d_channels": 32}),
    ("sngan", "digits", 16, 400, {"g_channels": 32, "d_channels": 32}),
    (
        "cgan",
        "digits",
        16,
        400,
        {"g_channels": 32, "d_channels": 32, "conditioning": "projection"},
    ),
    ("dcgan", "mnist", 32, 300, {"g_channels": 32, "d_channels": 32}),
    (
        "cgan",
        "mnist",
        32,
        300,
        {"g_channels": 32, "d_channels": 32, "conditioning": "projection"},
    ),
]
IMAGE_SAMPLES = 1000


class Rates:
    """on_event: keeps the trainer's images/sec of every step event."""

    def __init__(self):
        self.values: list[float] = []

    def __call__(self, event) -> None:
        d = event.to_dict()
        if d["type"] == "step" and d["step"] > 10 and d.get("images_per_sec"):
            self.values.append(float(d["images_per_sec"]))

    def median(self) -> float:
        return statistics.median(self.values) if self.values else 0.0


def points_run(name: str, seed: int, changes: dict) -> dict:
    """Train gan on a mixture, evaluate 2,500 samples; returns the figures."""
    data = load_builtin(name)
    settings = {**get_family("gan").presets["points"], **changes, **QUIET}
    settings["seed"] = seed
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        train(config_from_dict("gan", settings), data=data, out_dir=out, device="cpu")
        seconds = time.perf_counter() - t0
        path = Path(out) / "checkpoints/latest.pt"
        handle = load_generator(path)
        samples = handle.sample(PROTOCOL_SAMPLES, seed=0)
        # The same generator, its samples kept by discriminator rejection.
        kept = evaluate_checkpoint(path, rejection=DRS_PERCENTILE)["modes"]
    report = mode_coverage(samples, data.modes, data.std)
    return {
        "seed": seed,
        "modes": report.modes_captured,
        "of": report.num_modes,
        "hq": report.high_quality_fraction,
        "kl": report.kl_to_uniform,
        "seconds": seconds,
        "steps": settings["steps"],
        "drs": {
            "seed": seed,
            "modes": kept["modes_captured"],
            "of": kept["num_modes"],
            "hq": kept["high_quality_fraction"],
            "kl": kept["kl_to_uniform"],
            "seconds": seconds,
            "acceptance": kept["rejection"]["acceptance"],
        },
    }


def image_run(family, name, size, steps, changes) -> dict:
    """Train ``family`` briefly on a digit set; classifier-FID and speed."""
    data = load_builtin(name, image_size=size)
    settings = {"image_size": size, "steps": steps, "batch_size": 64, **changes}
    settings.update(QUIET)
    rates = Rates()
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        train(
            config_from_dict(family, settings),
            data=data,
            out_dir=out,
            device="cpu",
            on_event=rates,
        )
        seconds = time.perf_counter() - t0
        handle = load_generator(Path(out) / "checkpoints/latest.pt")
        labels = torch.arange(IMAGE_SAMPLES) % 10 if handle.conditional else None
        fake = handle.sample(IMAGE_SAMPLES, seed=0, labels=labels)
    gen = torch.Generator().manual_seed(0)
    real = data.images[torch.randperm(len(data), generator=gen)[:IMAGE_SAMPLES]]
    scores = classifier_scores(real, fake, name)
    row = {
        "family": family,
        "data": name,
        "size": size,
        "steps": steps,
        "fid": scores.classifier_fid,
        "kid": scores.classifier_kid,
        "images_per_sec": rates.median(),
        "seconds": seconds,
        "accuracy": None,
    }
    if labels is not None:
        row["accuracy"] = class_accuracy(fake, labels, name)
    return row


def real_baselines() -> dict[str, float]:
    """classifier-FID of 1,000 real images against 1,000 other real ones: the
    floor that sample noise leaves."""
    out = {}
    for name, size in (("digits", 16), ("mnist", 32)):
        data = load_builtin(name, image_size=size)
        perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(1))
        half = min(IMAGE_SAMPLES, len(data) // 2)
        a, b = data.images[perm[:half]], data.images[perm[half : 2 * half]]
        out[name] = classifier_scores(a, b, name).classifier_fid
    return out


# -- the section --------------------------------------------------------------


def _points_table(name: str, config: str, rows: list[dict]) -> list[str]:
    label, modes, hq, k = PUBLISHED[name]
    lines = [
        f"**builtin:{name}** ({config} settings)",
        "",
        "| run | modes captured | high quality | KL(q‖u) | train s |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| seed {r['seed']} | {r['modes']} / {r['of']} | {100 * r['hq']:.1f}% "
            f"| {r['kl']:.3f} | {r['seconds']:.0f} |"
        )
    mean_modes = statistics.mean(r["modes"] for r in rows)
    mean_hq = statistics.mean(r["hq"] for r in rows)
    lines.append(
        f"| **mean of {len(rows)}** | **{mean_modes:.1f}** | **{100 * mean_hq:.1f}%** "
        "| | |"
    )
    lines.append(f"| {label} | {modes} / {k} | {hq}% | | |")
    hit = all(r["modes"] == k and r["hq"] >= TARGET_HQ for r in rows)
    if "acceptance" in rows[0]:
        kept = statistics.mean(r["acceptance"] for r in rows)
        lines += [
            "",
            f"Rejection kept {100 * kept:.0f}% of the samples drawn, on average.",
        ]
    lines += [
        "",
        f"Target ({k}/{k} and >= 95% in every seed): {'met' if hit else 'NOT met'}.",
        "",
    ]
    return lines


def section(points: dict, images: list[dict], floors: dict, seconds: float) -> str:
    clf = {name: get_classifier(name).test_accuracy for name in ("mnist", "digits")}
    lines = [
        "## Quality: mode coverage and classifier-FID (bench/bench_quality.py)",
        "",
        f"Machine: {machine()}  ",
        f"Commit: {commit()}; {seconds / 60:.1f} min in all, CPU only.",
        "",
        "### 2D mixtures: the VEEGAN/PacGAN protocol",
        "",
        "The `gan` family (MLP G and D) trained per seed, then 2,500 samples: a "
        "sample is high quality within 3 std of its nearest mode; a mode is "
        "captured when it is the nearest mode of at least one high-quality sample; "
        "KL(q‖u) is the reverse KL of the high-quality samples' mode histogram from "
        "uniform (natural log). The published row averages 10 trials.",
        "",
        '"preset" is the `points` preset, which conditions G and D on 50 '
        "k-means clusters of the training data (self-conditioning, Liu et al. "
        '2020; `clusters` setting); "plain" is the same MLP GAN without them.',
        "",
        f'Rows marked "{DRS.strip(" +")}" evaluate the same trained generators '
        "with discriminator rejection sampling (Azadi et al. 2019; gamma at the "
        f"{DRS_PERCENTILE:g}th percentile of F; `python -m gan_core evaluate "
        f"--rejection {DRS_PERCENTILE:g}`): the 2,500 samples are those the run's "
        "own discriminator keeps. PacGAN's row samples the generator alone, so "
        "those rows are not a like-for-like comparison with it.",
        "",
    ]
    for (name, config), rows in points.items():
        base = config.removesuffix(DRS)
        settings = {**get_family("gan").presets["points"], **POINTS_CONFIGS[base]}
        shown = {k: v for k, v in settings.items() if k not in QUIET}
        lines += _points_table(name, config, rows)
        lines += [f"Settings: `{shown}`", ""]
    lines += [
        "### Images: classifier-FID (not Inception FID)",
        "",
        "classifier-FID/KID use the penultimate features of our small digit "
        "classifiers (held-out accuracy: mnist "
        f"{100 * clf['mnist']:.1f}%, digits {100 * clf['digits']:.1f}%). They are "
        "NOT Inception FID and must never be compared with published FID "
        "figures; they only rank our runs. Short CPU runs (batch 64), 1,000 "
        "samples against 1,000 real images; real against real gives "
        f"{floors['digits']:.1f} (digits) and {floors['mnist']:.1f} (mnist).",
        "",
        "| family | data | px | steps | classifier-FID | classifier-KID "
        "| class accuracy | images/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in images:
        acc = f"{100 * r['accuracy']:.1f}%" if r["accuracy"] is not None else ""
        lines.append(
            f"| {r['family']} | {r['data']} | {r['size']} | {r['steps']} | "
            f"{r['fid']:.1f} | {r['kid']:.2f} | {acc} | {r['images_per_sec']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--configs", default="preset,plain")
    parser.add_argument("--no-images", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    get_classifier("mnist"), get_classifier("digits")  # trained once, cached
    images = []
    if not args.no_images:
        for run in IMAGE_RUNS:
            images.append(image_run(*run))
            r = images[-1]
            print(
                f"{r['family']} {r['data']}: classifier-FID {r['fid']:.1f}, "
                f"{r['images_per_sec']:.0f} img/s, acc {r['accuracy']}",
                flush=True,
            )
    points: dict = {}
    for config in args.configs.split(","):
        for name in ("ring8", "grid25"):
            rows = []
            for seed in range(args.seeds):
                rows.append(points_run(name, seed, POINTS_CONFIGS[config]))
                r = rows[-1]
                print(
                    f"{config} {name} seed {seed}: {r['modes']}/{r['of']} modes, "
                    f"{100 * r['hq']:.1f}% hq, KL {r['kl']:.3f}, {r['seconds']:.0f}s",
                    flush=True,
                )
            points[(name, config)] = rows
            points[(name, config + DRS)] = [r["drs"] for r in rows]
    floors = real_baselines()
    body = section(points, images, floors, time.perf_counter() - t0)
    print(body)
    if not args.no_write:
        write_section(SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
