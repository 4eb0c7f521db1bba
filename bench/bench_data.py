"""The training cache at real scale: build time, warm start, memory, feed speed.

Generates (in the temp dir, never committed) a folder of JPEGs at 256 px and a
hard-linked subset, then measures:

- cold cache build at 128 px with 1 and with 2 decode processes;
- warm start: a child process's time to import torch, then from there to the
  first training step (DCGAN 128 px, cache already built);
- peak RSS (VmHWM) of DCGAN-128 and StyleGAN2-128 runs on the small and the
  large folder with GAN_DATA_RAM_BYTES below the data size (streamed);
- the feed alone (batch 64 at 128 px, in RAM and streamed) against the
  trainer's consumption and against stylegan2-ada-pytorch's ImageFolderDataset
  in a 2-worker DataLoader over the same folder, interleaved in one run (the
  reference is exported from a `fetch`ed mirror into a temp dir, never kept);
- with --trainer-ab COMMIT: DCGAN-64 fp32 trainer images/s at COMMIT and here,
  interleaved (bench_trainer's trainer_step_times in child processes).

    .venv/bin/python bench/bench_data.py [--images 20000] [--small 5000]
        [--reference /work/.mirror/NVlabs+stylegan2-ada-pytorch/repo]
        [--trainer-ab 290a453] [--no-write] [--resume [--redo warm,rss_dcgan_big]]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from results_file import commit, machine, write_section  # noqa: E402

WORK = Path(tempfile.gettempdir()) / "gan_bench_data"
SECTION = "bench_data"
STAGES = WORK / "stages.json"  # what each stage measured, for --resume
SIZE, SOURCE_SIZE, BATCH = 128, 256, 64
TODAY = "2.67 GB peak RSS and 50 s before the first step (4,000 JPEGs at 256 px)"


# -- the folder -------------------------------------------------------------------


def _write_jpegs(args) -> None:
    from PIL import Image

    folder, start, stop = args
    rng = np.random.default_rng(start)
    for i in range(start, stop):
        small = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((SOURCE_SIZE, SOURCE_SIZE), 3)
        noisy = np.asarray(img, np.int16) + rng.integers(-12, 13, img.size + (3,))
        Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(
            Path(folder) / f"{i:06d}.jpg", quality=90
        )


def make_folder(n: int) -> Path:
    folder = WORK / f"jpegs{n}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    step = 500
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(
            _write_jpegs,
            [(str(folder), a, min(a + step, n)) for a in range(0, n, step)],
        )
    marker.touch()
    return folder


def subset(big: Path, n: int) -> Path:
    folder = WORK / f"jpegs{n}-of-{big.name}"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for path in sorted(big.glob("*.jpg"))[:n]:
            os.link(path, folder / path.name)
        (folder / ".complete").touch()
    return folder


# -- children ---------------------------------------------------------------------

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import torch
t_torch = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from gan_core.cli import load_training_data
from gan_core.config import config_from_dict
from gan_core.trainer import train
settings = json.loads(sys.argv[4])
config = config_from_dict(sys.argv[3], settings)
stamps, started = [], []
def on_event(e):
    if e.type == "step":
        stamps.append(time.perf_counter())
    elif e.type == "started":
        started.append(time.perf_counter())
data = load_training_data(sys.argv[2], config.image_size, None)
train(config, data=data, out_dir=Path(sys.argv[5]), device="cpu", on_event=on_event)
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) * 1024
step_s = (stamps[-1] - stamps[0]) / max(1, len(stamps) - 1)
kind = type(getattr(data, "images", None)).__name__
print(json.dumps({"import_torch_s": t_torch - t0, "step_s": step_s,
    "to_started_s": started[0] - t_torch, "to_first_step_s": stamps[0] - t_torch,
    "peak_rss": hwm, "streamed": kind, "batch": config.batch_size}))
"""


def run_child(folder: Path, model: str, settings: dict, ram_bytes: int | None) -> dict:
    env = dict(os.environ)
    if ram_bytes is not None:
        env["GAN_DATA_RAM_BYTES"] = str(ram_bytes)
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                str(ROOT),
                str(folder),
                model,
                json.dumps(settings),
                out,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=3600,  # a StyleGAN2-128 run took 20+ min at load 12
        )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the cache builds and the feed ------------------------------------------------


def cold_build(folder: Path, workers: int, cache_dir: Path | None) -> dict:
    from gan_core.data.cache import default_cache_dir, open_or_build

    shutil.rmtree(cache_dir or default_cache_dir(folder), ignore_errors=True)
    t = time.perf_counter()
    cache = open_or_build(folder, image_size=SIZE, cache_dir=cache_dir, workers=workers)
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "images": cache.count("images"),
        "bytes": cache.path.stat().st_size,
        "skipped": cache.header["skipped"],
    }


def ours(data, batches: int, seed: int) -> float:
    import torch

    from gan_core.feed import DataFeed

    feed = DataFeed(data, BATCH, seed, torch.device("cpu"), False)
    feed.next()  # starts the reader (streamed)
    t = time.perf_counter()
    for _ in range(batches):
        feed.next()
    rate = batches / (time.perf_counter() - t)
    feed.close()
    return rate


def reference_loader(reference: Path, folder: Path, tmp: Path):
    """stylegan2-ada-pytorch's ImageFolderDataset (exported, never kept) in a
    2-worker DataLoader, shuffled with a seeded sampler."""
    target = tmp / "sg2ada"
    target.mkdir()
    archive = subprocess.run(
        ["git", "--git-dir", str(reference), "archive", "HEAD", "training/dataset.py"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    # Their module imports dnnlib for EasyDict only (in get_details, unused here).
    (target / "dnnlib").mkdir()
    (target / "dnnlib" / "__init__.py").write_text("EasyDict = dict\n")
    (target / "training" / "__init__.py").touch()
    sys.path.insert(0, str(target))
    import torch
    from training.dataset import ImageFolderDataset  # type: ignore

    dataset = ImageFolderDataset(str(folder))
    sampler = torch.utils.data.RandomSampler(
        dataset,
        replacement=True,
        num_samples=10**7,
        generator=torch.Generator().manual_seed(0),
    )
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=BATCH,
        sampler=sampler,
        num_workers=2,
        persistent_workers=True,
        prefetch_factor=2,
    )
    return dataset, iter(loader)


def theirs(batches_iter, batches: int) -> float:
    t = time.perf_counter()
    for _ in range(batches):
        next(batches_iter)
    return batches / (time.perf_counter() - t)


def feed_comparison(folder: Path, reference: Path | None, rounds: int) -> dict:
    from gan_core.data.loading import load_image_folder

    in_ram = load_image_folder(folder, SIZE, ram_bytes=1 << 40)
    streamed = load_image_folder(folder, SIZE, ram_bytes=0)
    figures: dict[str, list[float]] = {"ram": [], "streamed": [], "reference": []}
    with tempfile.TemporaryDirectory() as tmp:
        ref_iter = None
        if reference is not None:
            dataset, ref_iter = reference_loader(reference, folder, Path(tmp))
            figures["reference_shape"] = list(dataset.image_shape)
            next(ref_iter)  # workers started
        for r in range(rounds):
            figures["streamed"].append(ours(streamed, 40, r))
            if ref_iter is not None:
                figures["reference"].append(theirs(ref_iter, 8))
            figures["ram"].append(ours(in_ram, 40, r))
        del ref_iter
    return figures


# -- DCGAN-64 before and after -----------------------------------------------------

AB_CHILD = r"""
import sys, json, torch
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/bench")
from bench_trainer import dataset, trainer_step_times
print(json.dumps(min(trainer_step_times(dataset(), "fp32", 4))))
"""


def trainer_ab(base: str, rounds: int) -> dict:
    tree = WORK / f"base-{base}"
    if not tree.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), base],
            check=True,
            capture_output=True,
        )
    out: dict[str, list[float]] = {"before": [], "after": []}
    try:
        for _ in range(rounds):
            for name, where in (("before", tree), ("after", ROOT)):
                proc = subprocess.run(
                    [sys.executable, "-c", AB_CHILD, str(where)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                out[name].append(64 / json.loads(proc.stdout.strip().splitlines()[-1]))
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
            capture_output=True,
        )
    return out


# -- report -----------------------------------------------------------------------


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def section(fig: dict, args) -> str:
    load = fig["load"]
    lines = [
        "## Training cache at real scale (bench/bench_data.py)",
        "",
        f"Machine: {machine()}.  ",
        f"Commit: {commit()}, {time.strftime('%Y-%m-%d')}. Load average at start "
        f"{load[0]:.1f}, at end {fig['load_end']:.1f}: the machine was shared with "
        "other work, so times are upper bounds.  ",
        f"Data: {args.images:,} random-texture JPEGs at {SOURCE_SIZE} px (quality 90, "
        f"generated in {WORK}), and the first {args.small:,} of them; cache at "
        f"{SIZE} px RGB.",
        "",
        f"Before this change: {TODAY}, DCGAN 128 px, 1 step.",
        "",
        "| measurement | figure |",
        "|---|---|",
    ]
    for w in (1, 2):
        b = fig[f"build{w}"]
        lines.append(
            f"| cold cache build, {w} decode process{'es' if w > 1 else ''}, "
            f"{b['images']:,} images | {b['seconds']:.1f} s "
            f"({b['images'] / b['seconds']:,.0f} images/s, file {mib(b['bytes'])}) |"
        )
    warm = fig["warm"]
    lines += [
        f"| warm start: import torch | {warm['import_torch_s']:.1f} s |",
        f"| warm start: after the import, to the loop's start (data loaded, "
        f"DCGAN 128 px built; {args.images:,} images, streamed) | "
        f"**{warm['to_started_s']:.1f} s** (target: under 3 s) |",
        f"| warm start: after the import, to the end of the first step "
        f"(batch {warm['batch']}) | {warm['to_first_step_s']:.1f} s |",
    ]
    for key, label in fig["rss_labels"].items():
        r = fig[key]
        lines.append(f"| peak RSS, {label} | {mib(r['peak_rss'])} |")
    lines.append("")
    for model in args.models.split(","):
        small, big = fig[f"rss_{model}_small"], fig[f"rss_{model}_big"]
        change = big["peak_rss"] / small["peak_rss"] - 1
        lines.append(
            f"- {model} peak RSS, {args.images:,} against {args.small:,} images: "
            f"**{change:+.1%}** (target: within 10 %, under 1.5 GB)."
        )
    feed = fig["feed"]
    med = {
        k: statistics.median(v) for k, v in feed.items() if k != "reference_shape" and v
    }
    run = fig["rss_dcgan_big"]
    consume = run["batch"] / run["step_s"] / BATCH  # in batches of BATCH
    lines += [
        "",
        f"Feed alone, batch {BATCH} at {SIZE} px, uint8 to float32 on the CPU, "
        f"median of {len(feed['ram'])} interleaved rounds:",
        "",
        "| source | batches/s |",
        "|---|---|",
        f"| our cache, in RAM | {med['ram']:,.1f} |",
        f"| our cache, streamed (pread + reader thread) | {med['streamed']:,.1f} |",
        f"| DCGAN-128 trainer consumption on this CPU (images/s / {BATCH}) | "
        f"{consume:.3f} |",
    ]
    if "reference" in med:
        shape = feed.get("reference_shape")
        ratio_s, ratio_r = (med[k] / med["reference"] for k in ("streamed", "ram"))
        lines += [
            f"| stylegan2-ada-pytorch ImageFolderDataset, 2-worker DataLoader "
            f"(decodes the JPEGs each time, at their {shape[-1]} px) | "
            f"{med['reference']:,.1f} |",
            "",
            f"- streamed cache / reference: **{ratio_s:.1f}x**; "
            f"in RAM / reference: **{ratio_r:.1f}x**.",
        ]
    lines.append(
        f"- streamed feed / trainer consumption: **{med['streamed'] / consume:,.0f}x** "
        "(data is never what the step waits for)."
    )
    if "ab" in fig:
        ab = fig["ab"]
        before, after = max(ab["before"]), max(ab["after"])
        lines += [
            "",
            f"DCGAN-64 fp32 trainer (bench_trainer's trainer_step_times, fastest "
            f"step of 4, best of {len(ab['before'])} interleaved rounds): "
            f"{args.trainer_ab} **{before:.1f}** images/s, this commit "
            f"**{after:.1f}** images/s ({after / before - 1:+.1%}).",
        ]
    return "\n".join(lines)


def prefetch_rss(done: dict, model: str, settings: dict, folders, ram, stages):
    """Both memory children of ``model`` at once, stored as their stages."""
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"rss_{model}_{name}" for name in ("small", "big")]
    todo = [(k, f) for k, f in zip(keys, folders, strict=True) if k not in done]
    load = os.getloadavg()[0]
    with ThreadPoolExecutor(len(todo) or 1) as pool:
        futures = {k: pool.submit(run_child, f, model, settings, ram) for k, f in todo}
    for key, future in futures.items():
        done[key] = {**future.result(), "load": [load, os.getloadavg()[0]]}
        done[key]["parallel"] = True
    stages.write_text(json.dumps(done))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument(
        "--reference",
        type=Path,
        default=Path("/work/.mirror/NVlabs+stylegan2-ada-pytorch/repo"),
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trainer-ab", default=None, help="base commit to compare")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--models", default="dcgan,stylegan2", help="memory runs")
    parser.add_argument(
        "--parallel-rss",
        action="store_true",
        help="run each model's two memory children at once (peak RSS is per "
        "process; saves wall time on a shared machine)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="keep the stages an earlier run measured"
    )
    parser.add_argument(
        "--redo",
        default="",
        help="with --resume: stages to measure again (comma-separated keys)",
    )
    args = parser.parse_args()
    fig: dict = {"load": os.getloadavg()}
    t_all = time.perf_counter()
    big = make_folder(args.images)
    small = subset(big, args.small)
    print(f"folders ready ({time.perf_counter() - t_all:.0f} s)", flush=True)
    saved = STAGES.read_text() if args.resume and STAGES.exists() else "{}"
    done = json.loads(saved)
    for key in filter(None, args.redo.split(",")):
        done.pop(key, None)

    def stage(key, fn, *a):
        """A measurement, or (with --resume) the one an interrupted run made."""
        if key not in done:
            load = os.getloadavg()[0]
            done[key] = fn(*a)
            if isinstance(done[key], dict):  # the load it was measured under
                done[key]["load"] = [load, os.getloadavg()[0]]
            STAGES.write_text(json.dumps(done))
        print(key, done[key], flush=True)
        return done[key]

    fig["build1"] = stage("build1", cold_build, big, 1, WORK / "cold1")
    shutil.rmtree(WORK / "cold1", ignore_errors=True)
    # The folder's own .gan_cache, which the runs below use.
    fig["build2"] = stage("build2", cold_build, big, 2, None)
    stage("build_small", cold_build, small, 2, None)
    below = 64 << 20  # below both data sizes: streamed
    # Small batches: the networks' own memory stays small beside the data's, and
    # the runs stay short on a shared two-core CPU.
    dcgan = {
        "image_size": SIZE,
        "steps": 2,
        "batch_size": 16,
        "sample_every": 10**6,
        "checkpoint_every": 10**6,
    }
    sg2 = {**dcgan, "batch_size": 4}
    fig["rss_labels"] = {}
    runs = {"dcgan": dcgan, "stylegan2": sg2}
    for model, settings in ((m, runs[m]) for m in args.models.split(",")):
        if args.parallel_rss:
            prefetch_rss(done, model, settings, (small, big), below, STAGES)
        for name, folder, n in (
            ("small", small, args.small),
            ("big", big, args.images),
        ):
            key = f"rss_{model}_{name}"
            fig[key] = stage(key, run_child, folder, model, settings, below)
            batch = settings["batch_size"]
            fig["rss_labels"][key] = (
                f"{model} {SIZE} px, {n:,} images, batch {batch}, RAM budget "
                f"{mib(below)} ({fig[key]['streamed']})"
            )
    fig["warm"] = stage("warm", run_child, big, "dcgan", {**dcgan, "steps": 1}, below)
    reference = args.reference if args.reference.exists() else None
    fig["feed"] = stage("feed", feed_comparison, big, reference, args.rounds)
    if args.trainer_ab:
        fig["ab"] = stage("ab", trainer_ab, args.trainer_ab, args.rounds)
    fig["load_end"] = os.getloadavg()[0]
    text = section(fig, args)
    print(text)
    print(f"total {time.perf_counter() - t_all:.0f} s")
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
