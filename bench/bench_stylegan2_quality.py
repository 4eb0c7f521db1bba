"""StyleGAN2 quality before and after a code change: classifier-FID on MNIST.

Trains the ``stylegan2`` family (the quick preset's widths) on builtin:mnist at
32 px for a fixed number of steps and seeds, with the gan_core of ``--code``
(default: this checkout), and saves ``--n`` samples of the EMA generator per
seed. ``--report`` then scores every saved run with THIS checkout's
classifier-FID (``--n`` generated against ``--n`` real digits; NOT Inception
FID) so two code trees are compared by one metric, one n, one step count, and
rewrites its section of bench/RESULTS.md. A label whose samples are gone (they
live in a temporary folder) keeps the row an earlier report gave it, marked
with a *, so one table can hold runs from more than one session.

    python bench/bench_stylegan2_quality.py --label old --code /tmp/old_tree
    python bench/bench_stylegan2_quality.py --label new
    python bench/bench_stylegan2_quality.py --label reference --reference /tmp/sg2_ref
    python bench/bench_stylegan2_quality.py --report old new reference

``--reference DIR`` trains NVlabs/stylegan2-ada-pytorch's own networks and
StyleGAN2Loss (fetched, exported outside the repository, never committed; its
ops on their pure-PyTorch CPU paths) with the same settings, data and batch,
in its training loop's step order (G phases, then D; Adam with the lazy
regularization ratio; G_ema by ema_kimg 10 with ramp-up 0.05), so the figures
say whether a gap between two of our trees is ours or the method's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "bench_stylegan2_quality"
RUNS = Path(tempfile.gettempdir()) / "sg2_quality_runs"
# The quick preset's widths with stylegan2-ada-pytorch's 32 px ("cifar")
# choices (train.py: no path length, no style mixing, 2 mapping layers, a large
# minibatch-std group) and R1 gamma 1. With the full config F regularizers and
# gamma 0.01 (or 1) every run of both codes had collapsed to one digit by 800
# to 1,500 steps (bench/RESULTS.md history), which measures the mode a seed
# falls into, not the code. Settings both code trees understand.
SETTINGS = {
    "image_size": 32,
    "batch_size": 16,
    "z_dim": 128,
    "w_dim": 128,
    "channel_base": 1024,
    "channel_max": 64,
    "r1_gamma": 1.0,
    "pl_weight": 0.0,
    "style_mixing_prob": 0.0,
    "mapping_layers": 2,
    "mbstd_group": 16,
    "sample_every": 10**6,
    "checkpoint_every": 10**6,
}


def run(
    label: str, code: Path, seeds: range, steps: int, n: int, settings: dict
) -> None:
    """Train one model per seed with the gan_core under ``code``; save samples."""
    sys.path.insert(0, str(code))
    import torch

    from gan_core.config import config_from_dict
    from gan_core.sampling import load_generator
    from gan_core.trainer import train

    torch.set_num_threads(1)
    out = RUNS / label
    out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        config = config_from_dict(
            "stylegan2", {**settings, "steps": steps, "seed": seed}
        )
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            result = train(
                config, data="builtin:mnist", out_dir=Path(tmp), device="cpu"
            )
            handle = load_generator(result.checkpoint)
            gen = torch.Generator().manual_seed(10_000 + seed)
            z = torch.randn(n, handle.z_dim, generator=gen)
            with torch.no_grad():
                images = torch.cat(
                    [handle.generate(handle.net, zz, None) for zz in z.split(250)]
                ).clamp(-1, 1)
        seconds = time.perf_counter() - t0
        torch.save(
            {
                "images": images,
                "seconds": seconds,
                "steps": steps,
                "seed": seed,
                "settings": settings,
            },  # fmt: skip
            out / f"seed{seed}.pt",
        )
        print(f"{label} seed {seed}: {steps} steps in {seconds:.0f} s", flush=True)


def reference_run(
    label: str, ref_dir: Path, seeds: range, steps: int, n: int, settings: dict
) -> None:
    """Train the reference's networks and loss per seed; save samples as run."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import torch
    from bench_stylegan2_reference import Reference

    from gan_core.data.loading import load_data

    torch.set_num_threads(1)
    size, batch = settings["image_size"], settings["batch_size"]
    real_all = load_data("builtin:mnist", image_size=size).images.float()
    out = RUNS / label
    out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        ref = Reference(size, ref_dir, settings, real_all.shape[1], seed)
        order = torch.Generator().manual_seed(seed)
        feed = torch.empty(0, dtype=torch.long)
        t0 = time.perf_counter()
        for _ in range(steps):
            if len(feed) < batch:  # epochs in random order, as InfiniteSampler
                feed = torch.cat([feed, torch.randperm(len(real_all), generator=order)])
            ref.step(real_all[feed[:batch]])
            feed = feed[batch:]
        gen = torch.Generator().manual_seed(10_000 + seed)
        z = torch.randn(n, settings["z_dim"], generator=gen)
        with torch.no_grad():
            chunks = [
                ref.G_ema(zz, torch.zeros(len(zz), 0), noise_mode="const")
                for zz in z.split(250)
            ]
        images = torch.cat(chunks).clamp(-1, 1)
        seconds = time.perf_counter() - t0
        torch.save(
            {"images": images, "seconds": seconds, "steps": steps, "seed": seed,
             "settings": settings},
            out / f"seed{seed}.pt",
        )  # fmt: skip
        print(f"{label} seed {seed}: {steps} steps in {seconds:.0f} s", flush=True)


EARLIER = " *"  # marks a row kept from an earlier report


def earlier_rows(results: Path) -> dict[str, str]:
    """The table rows of this script's section in ``results``, by label."""
    start, end = f"<!-- {SECTION} -->", f"<!-- /{SECTION} -->"
    text = results.read_text() if results.exists() else ""
    if start not in text or end not in text:
        return {}
    section = text.split(start, 1)[1].split(end, 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("code", "---"):
            label = cells[0].removesuffix(EARLIER.strip()).strip()
            rows[label] = "| " + " | ".join([label + EARLIER, *cells[1:]]) + " |"
    return rows


def saved_runs(label: str) -> list[Path]:
    return sorted((RUNS / label).glob("seed*.pt"))


def report(labels: list[str], write: bool, note: str, n: int) -> None:
    """classifier-FID of every saved run, by this checkout's evaluation code;
    labels without saved runs keep their earlier rows (SystemExit if none)."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import torch
    from results_file import RESULTS, commit, machine, write_section

    from gan_core.data.loading import load_data
    from gan_core.evaluation.fid import classifier_fid

    real = load_data("builtin:mnist", image_size=32).images
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))
    kept = earlier_rows(RESULTS)
    missing = [x for x in labels if x not in kept and not saved_runs(x)]
    if missing:
        raise SystemExit(f"no saved runs and no earlier row for: {missing}")
    rows, n_used = [], n
    for label in labels:
        if not saved_runs(label):
            rows.append(kept[label])
            continue
        fids, secs, steps, changes = [], [], None, {}
        for path in saved_runs(label):
            saved = torch.load(path, weights_only=True)
            images = saved["images"]
            n_used, steps = len(images), saved["steps"]
            settings = saved.get("settings", SETTINGS)
            changes = {k: v for k, v in settings.items() if SETTINGS.get(k) != v}
            fids.append(classifier_fid(real[pick[: len(images)]].float(), images))
            secs.append(saved["seconds"])
        per = ", ".join(f"{f:.2f}" for f in fids)
        spread = f"{statistics.fmean(fids):.2f} ({min(fids):.2f}-{max(fids):.2f})"
        said = ", ".join(f"{k} {v}" for k, v in changes.items()) or "-"
        sec = statistics.fmean(secs)
        rows.append(f"| {label} | {said} | {steps} | {spread} | {per} | {sec:.0f} |")
    lines = [
        f"Machine: {machine()}; code measured: {commit()} (wall times depend on "
        "what else ran: the figures are the FIDs).",
        f"stylegan2 on builtin:mnist, settings {SETTINGS} with each row's "
        f"changes; classifier-FID (NOT Inception FID) of n = {n_used} EMA samples "
        f"against {n_used} real digits; compare rows of one step count.",
        "",
        *([note, ""] if note else []),
        "| code | changes | steps | classifier-FID mean (min-max) | per seed "
        "| wall s per run |",
        "|---|---|---|---|---|---|",
    ]
    lines += rows
    if any(row.startswith(f"| {x}{EARLIER} |") for x in labels for row in rows):
        lines += [
            "",
            f"Rows marked {EARLIER.strip()} are kept from an earlier "
            "report (their samples were not kept): another session, "
            "possibly another machine and its classifier.",
        ]
    text = "\n".join(lines)
    print(text)
    if write:
        write_section(SECTION, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="new")
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from here (parallel runs)"
    )
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--report", nargs="+", metavar="LABEL")
    parser.add_argument(
        "--reference", type=Path, help="train stylegan2-ada-pytorch's code from here"
    )
    parser.add_argument("--note", default="", help="a line saying what each label is")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--set", default="{}", help="JSON settings merged over SETTINGS for a run"
    )
    args = parser.parse_args()
    if args.report:
        report(args.report, not args.no_write, args.note, args.n)
    else:
        settings = {**SETTINGS, **json.loads(args.set)}
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        if args.reference:
            reference_run(args.label, args.reference.resolve(), seeds,
                          args.steps, args.n, settings)  # fmt: skip
            return
        run(args.label, args.code.resolve(), seeds, args.steps, args.n, settings)


if __name__ == "__main__":
    main()
