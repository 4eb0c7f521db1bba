"""Quality bench: mode coverage on the 2D mixtures over seeds, and classifier-FID,
conditional accuracy, Stacked-MNIST modes and images/sec of the image families.

Points: the ``gan`` family (MLP) on builtin:ring8 and builtin:grid25 for each
seed, evaluated by the VEEGAN/PacGAN protocol (2,500 samples, high quality
within 3 std, modes captured, KL(q || uniform)), beside PacGAN's Table 1 row.
Images: each classic image family briefly on builtin:digits (16 px) and
builtin:mnist (32 px), for each seed: classifier-FID/KID of 1,000 samples
against 1,000 real images (NOT Inception FID: never compare with published FID
figures), conditional accuracy for cgan, and training images/sec; DCGAN on
Stacked MNIST (three digits as RGB, 1,000 modes) with the modes its samples
cover. Prints the figures and rewrites its own section of bench/RESULTS.md.

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
from gan_core.evaluation.stacked import (  # noqa: E402
    STACKED_MODES,
    make_stacked_mnist,
    stacked_mnist_modes,
)
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

# (family, data, image_size, steps, settings) for the image runs, each run for
# every seed; data "stacked" is Stacked MNIST. Steps count generator steps, so
# wgan and wgan-gp (5 critic steps each) train their critics five times longer.
SMALL = {"g_channels": 32, "d_channels": 32}
STACKED_SIZE = 16
PROJECTION = {**SMALL, "conditioning": "projection"}
IMAGE_RUNS = [
    ("dcgan", "digits", 16, 400, SMALL),
    ("wgan", "digits", 16, 400, SMALL),
    ("wgan-gp", "digits", 16, 400, SMALL),
    ("sngan", "digits", 16, 400, SMALL),
    ("cgan", "digits", 16, 400, PROJECTION),
    ("dcgan", "mnist", 32, 800, SMALL),
    ("cgan", "mnist", 32, 800, PROJECTION),
    # At 32 px D wins this short a run and G collapses to one triple; 16 px
    # learns within the bench's time.
    ("dcgan", "stacked", STACKED_SIZE, 1500, SMALL),
]
IMAGE_SAMPLES = 1000
STACKED_TRAIN = 20_000  # stacked digits to train on
STACKED_SAMPLES = 10_000  # samples whose modes are counted


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


def image_data(name: str, size: int, seed: int):
    if name == "stacked":
        return make_stacked_mnist(STACKED_TRAIN, seed=seed, image_size=size)
    return load_builtin(name, image_size=size)


def image_run(family, name, size, steps, changes, seed) -> dict:
    """Train ``family`` briefly on a digit set; its quality figures and speed."""
    data = image_data(name, size, seed)
    settings = {"image_size": size, "steps": steps, "batch_size": 64, **changes}
    settings.update(QUIET, seed=seed)
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
        n = STACKED_SAMPLES if name == "stacked" else IMAGE_SAMPLES
        labels = torch.arange(n) % 10 if handle.conditional else None
        fake = handle.sample(n, seed=1000 + seed, labels=labels)
    row = {
        "family": family,
        "data": name,
        "size": size,
        "steps": steps,
        "seed": seed,
        "images_per_sec": rates.median(),
        "seconds": seconds,
    }
    if name == "stacked":
        row["modes"] = stacked_mnist_modes(fake).modes_covered
        return row
    gen = torch.Generator().manual_seed(seed)
    real = data.images[torch.randperm(len(data), generator=gen)[:IMAGE_SAMPLES]]
    scores = classifier_scores(real, fake, name)
    row.update(fid=scores.classifier_fid, kid=scores.classifier_kid)
    if labels is not None:
        row["accuracy"] = class_accuracy(fake, labels, name)
    return row


def real_baselines() -> dict[str, float]:
    """What real data scores: classifier-FID of 1,000 real images against 1,000
    other real ones (the floor that sample noise leaves), and the Stacked-MNIST
    modes that STACKED_SAMPLES real stacked digits cover."""
    out = {}
    for name, px in (("digits", 16), ("mnist", 32)):
        data = load_builtin(name, image_size=px)
        perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(1))
        half = min(IMAGE_SAMPLES, len(data) // 2)
        a, b = data.images[perm[:half]], data.images[perm[half : 2 * half]]
        out[name] = classifier_scores(a, b, name).classifier_fid
    real = make_stacked_mnist(STACKED_SAMPLES, seed=99, image_size=STACKED_SIZE)
    out["stacked_modes"] = stacked_mnist_modes(real.images).modes_covered
    return out


def spread(values: list[float], fmt: str) -> str:
    """mean (min-max) of a figure over seeds."""
    mean = statistics.mean(values)
    return f"{mean:{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


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
        "### Images: classifier-FID (not Inception FID), Stacked MNIST",
        "",
        "classifier-FID/KID use the penultimate features of our small digit "
        "classifiers (held-out accuracy: mnist "
        f"{100 * clf['mnist']:.1f}%, digits {100 * clf['digits']:.1f}%). They are "
        "NOT Inception FID and must never be compared with published FID "
        "figures; they only rank our runs. Short CPU runs (batch 64), 1,000 "
        "samples against 1,000 real images; real against real gives "
        f"{floors['digits']:.1f} (digits) and {floors['mnist']:.1f} (mnist). "
        "Each figure is the mean over the seeds, with the lowest and highest in "
        "brackets.",
        "",
        "| family | data | px | steps | seeds | classifier-FID | classifier-KID "
        "| class accuracy | images/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    scored = [rows for rows in images if "fid" in rows[0]]
    for rows in scored:
        r = rows[0]
        acc = ""
        if "accuracy" in r:
            acc = spread([100 * x["accuracy"] for x in rows], ".1f") + " %"
        lines.append(
            f"| {r['family']} | {r['data']} | {r['size']} | {r['steps']} | "
            f"{len(rows)} | {spread([x['fid'] for x in rows], '.1f')} | "
            f"{spread([x['kid'] for x in rows], '.2f')} | {acc} | "
            f"{statistics.median(x['images_per_sec'] for x in rows):.0f} |"
        )
    for rows in (rows for rows in images if "modes" in rows[0]):
        r = rows[0]
        lines += [
            "",
            f"**Stacked MNIST** ({r['family']}, {r['size']} px, {r['steps']} steps "
            f"on {STACKED_TRAIN:,} stacked digits): modes covered by "
            f"{STACKED_SAMPLES:,} samples, of {STACKED_MODES:,}: "
            f"{spread([x['modes'] for x in rows], '.0f')} over {len(rows)} seeds "
            f"(per seed: {', '.join(str(x['modes']) for x in rows)}); "
            f"{STACKED_SAMPLES:,} real stacked digits cover "
            f"{floors['stacked_modes']}. Published figures use 26,000 samples and "
            "a classifier trained on all of MNIST, with networks trained far "
            "longer (PacGAN, Tables 2 and 3), so compare with them only in kind.",
        ]
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
    images: list[list[dict]] = []
    if not args.no_images:
        for run in IMAGE_RUNS:
            images.append([])
            for seed in range(args.seeds):
                images[-1].append(image_run(*run, seed))
                r = images[-1][-1]
                figures = {k: r[k] for k in ("fid", "accuracy", "modes") if k in r}
                print(
                    f"{r['family']} {r['data']} seed {seed}: {figures}, "
                    f"{r['images_per_sec']:.0f} img/s, {r['seconds']:.0f}s",
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
