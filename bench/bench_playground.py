"""Playground latency through the real stack: HTTP -> daphne -> light worker -> back.

Starts an embedded Redis, a light worker (2 threads, as `make run` does) and
daphne on free ports against a scratch SQLite database, trains small models in
this process (one step each: the latency does not depend on training), then
times each playground action over HTTP:
  - warm: the generator already sits in the worker's cache;
  - cold: the checkpoint was just rewritten, so the worker loads it again.
Also times the generator forward pass alone, in this process, for comparison.
Writes the `bench_playground` section of bench/RESULTS.md.

    .venv/bin/python bench/bench_playground.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import commit, machine, write_section  # noqa: E402
from bench.stack import BenchStack  # noqa: E402

# Small configurations: the 64 px DCGAN at its default width, and the
# quick presets' sizes for the others.
MODELS = {
    "dcgan-64": ("dcgan", "builtin:shapes", {"image_size": 64}),
    "cgan-32": ("cgan", "builtin:digits", {"image_size": 32, "g_channels": 32}),
    "stylegan2-32": (
        "stylegan2",
        "builtin:shapes",
        {
            "image_size": 32,
            "z_dim": 128,
            "w_dim": 128,
            "channel_base": 1024,
            "channel_max": 64,
        },
    ),
    "cyclegan-32": (
        "cyclegan",
        "builtin:shapes-ab",
        {"image_size": 32, "ngf": 16, "ndf": 16},
    ),
}
ACTIONS = [
    ("sample 64 images", "dcgan-64", "sample", {"n": 64, "seed": 0}),
    ("sample 16 images", "dcgan-64", "sample", {"n": 16, "seed": 0}),
    ("open one image", "dcgan-64", "sample", {"n": 1, "seed": 5}),
    ("sample 64, psi 0.7", "stylegan2-32", "sample", {"n": 64, "truncation": 0.7}),
    ("class grid 10x8", "cgan-32", "class-grid", {"per_class": 8}),
    (
        "interpolate 16 frames (Z, GIF)",
        "dcgan-64",
        "interpolate",
        {"seed_a": 1, "seed_b": 2, "steps": 16, "space": "z", "format": "gif"},
    ),
    (
        "interpolate 16 frames (W, WebP)",
        "stylegan2-32",
        "interpolate",
        {"seed_a": 1, "seed_b": 2, "steps": 16, "space": "w", "format": "webp"},
    ),
    (
        "style mix 4x4",
        "stylegan2-32",
        "style-mix",
        {"row_seeds": [0, 1, 2, 3], "col_seeds": [4, 5, 6, 7], "layers": "middle"},
    ),
    ("translate 128x128 upload", "cyclegan-32", "translate", {"direction": "AtoB"}),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def upload_png() -> bytes:
    from PIL import Image

    image = Image.effect_noise((128, 128), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Stack(BenchStack):
    """The bench stack with the light worker, and a way to add trained models."""

    def __init__(self, workdir: Path):
        super().__init__(workdir, workers=("light",))

    def register(self, name: str, checkpoint: Path) -> int:
        import shutil

        from ganweb.jobs.data_sources import job_media_dir
        from ganweb.jobs.models import Job

        family, data, settings = MODELS[name]
        job = Job.objects.create(
            owner=self.user,
            name=name,
            data_ref=data,
            family=family,
            config=settings,
            state="finished",
        )
        folder = job_media_dir(job.pk) / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(checkpoint, folder / "latest.pt")
        return job.pk


def train_models(workdir: Path) -> dict[str, Path]:
    from gan_core.config import config_from_dict
    from gan_core.trainer import train

    paths = {}
    for name, (family, data, settings) in MODELS.items():
        config = config_from_dict(
            family,
            {
                "steps": 1,
                "batch_size": 2,
                "sample_every": 100,
                "checkpoint_every": 100,
                **settings,
            },
        )
        result = train(config, data=data, out_dir=workdir / name, device="cpu")
        paths[name] = Path(result.checkpoint)
    return paths


def forward_alone(checkpoint: Path, repeats: int) -> list[float]:
    """The generator's forward pass for 64 images, in this process."""
    import torch

    from gan_core.sampling import load_generator

    handle = load_generator(checkpoint)
    z = torch.randn(64, handle.z_dim)
    times = []
    with torch.no_grad():
        for _ in range(repeats + 2):
            started = time.perf_counter()
            handle.generate(handle.net, z, None)
            times.append((time.perf_counter() - started) * 1000)
    return times[2:]


def request(stack: Stack, job_id: int, action: str, body: dict, upload: bytes):
    import requests

    url = f"{stack.url}/api/models/{job_id}/{action}"
    headers = {"Authorization": f"Bearer {stack.token}"}
    started = time.perf_counter()
    if action == "translate":
        response = requests.post(
            url,
            headers=headers,
            data=body,
            files={"image": ("in.png", upload, "image/png")},
            timeout=120,
        )
    else:
        response = requests.post(url, headers=headers, json=body, timeout=120)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{action}: {response.status_code} {response.text}")
    worker = json.loads(response.headers["X-Playground"])["worker_ms"]
    return elapsed, len(response.content), elapsed - worker


def touch(path: Path) -> None:
    """A new modification time: the worker's cache loads the file again."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


def measure(stack: Stack, jobs: dict, warm: int, cold: int) -> list[tuple]:
    from ganweb.jobs.data_sources import job_media_dir

    upload = upload_png()
    rows = []
    for label, model, action, body in ACTIONS:
        job_id = jobs[model]
        latest = job_media_dir(job_id) / "checkpoints" / "latest.pt"
        cold_times = []
        for _ in range(cold):
            touch(latest)
            cold_times.append(request(stack, job_id, action, body, upload)[0])
        request(stack, job_id, action, body, upload)  # warm-up
        warm_times, trips, size = [], [], 0
        for _ in range(warm):
            elapsed, size, trip = request(stack, job_id, action, body, upload)
            warm_times.append(elapsed)
            trips.append(trip)
        rows.append((label, model, warm_times, cold_times, trips, size))
        print(
            f"{label:34s} warm p50 {statistics.median(warm_times):7.1f} ms  "
            f"cold p50 {statistics.median(cold_times):7.1f} ms  "
            f"trip p50 {statistics.median(trips):5.1f} ms",
            flush=True,
        )
    return rows


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(rows, forward: list[float], warm: int, cold: int, load: str) -> str:
    lines = [
        "## Playground latency over HTTP (bench/bench_playground.py)",
        "",
        f"Machine: {machine()}. Commit {commit()}. Load average at the start: "
        f"{load} (the 2 cores are shared with other work, so expect noise).",
        "",
        "Client -> daphne -> light worker (2 threads) over Redis -> PNG/GIF/WebP "
        f"back. Warm: {warm} requests with the generator cached in the worker. "
        f"Cold: {cold} requests, each right after the checkpoint was rewritten, "
        "so the worker loads it again. Milliseconds.",
        "",
        "The trip column is the warm request's latency minus the time the worker "
        "task itself took (load, draw, encode): what HTTP, the web process, Redis "
        "and the result backend add.",
        "",
        "| action | model | warm p50 | warm p95 | cold p50 | cold p95 | trip p50 "
        "| bytes |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, model, warm_times, cold_times, trips, size in rows:
        lines.append(
            f"| {label} | {model} | {percentile(warm_times, 50):.0f} | "
            f"{percentile(warm_times, 95):.0f} | {percentile(cold_times, 50):.0f} | "
            f"{percentile(cold_times, 95):.0f} | {percentile(trips, 50):.0f} | "
            f"{size:,} |"
        )
    lines += [
        "",
        f"Generator forward alone, 64 images of dcgan-64 in one process: p50 "
        f"{percentile(forward, 50):.0f} ms, p95 {percentile(forward, 95):.0f} ms.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    warm, cold = (8, 2) if args.quick else (30, 5)
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-playground-") as tmp:
        workdir = Path(tmp)
        checkpoints = train_models(workdir / "runs")
        forward = forward_alone(checkpoints["dcgan-64"], warm)
        with Stack(workdir) as stack:
            jobs = {
                name: stack.register(name, path) for name, path in checkpoints.items()
            }
            rows = measure(stack, jobs, warm, cold)
    body = report(rows, forward, warm, cold, load)
    print(body)
    if not args.quick:
        write_section("bench_playground", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
