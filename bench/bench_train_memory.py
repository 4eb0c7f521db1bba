"""Where a training run's memory goes, phase by phase (peak RSS per segment).

tracemalloc does not see torch's allocations, so a child process resets its
peak RSS (``/proc/self/clear_refs`` 5) at every boundary and reads VmHWM at the
next: import torch, the data, the build (networks, optimizers, EMA), then in
each step every phase's forward, backward and optimizer step, the EMA update,
and the sample grid and checkpoint at the end. It also prints what the weights,
gradients, Adam state and EMA copy weigh by arithmetic, and the RSS of
``import torch`` alone.

    .venv/bin/python bench/bench_train_memory.py [--model stylegan2]
        [--size 128] [--batch 4] [--steps 2] [--set key=value ...] [--write]

The data is a folder of small generated JPEGs streamed from the training cache
(GAN_DATA_RAM_BYTES 0), as bench_data's memory rows; the data's own memory is
not what this measures (bench_data shows it flat from 5,000 to 20,000 images).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from results_file import commit, machine, write_section  # noqa: E402

SECTION = "bench_train_memory"
FOLDER = Path(tempfile.gettempdir()) / "gan_bench_train_memory" / "jpegs"

CHILD = r"""
import json, sys, time
def status():
    out = {}
    for line in open("/proc/self/status"):
        if line.startswith(("VmHWM:", "VmRSS:")):
            out[line[:5]] = int(line.split()[1]) * 1024
    return out
rows = []
def mark(label):
    s = status()
    rows.append([label, s["VmHWM"], s["VmRSS"]])
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM to the current RSS
mark("python")
import torch
mark("import torch")
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import gan_core.trainer as T
from gan_core.cli import load_training_data
from gan_core.config import config_from_dict
mark("import gan_core")
config = config_from_dict(sys.argv[3], json.loads(sys.argv[4]))
data = load_training_data(sys.argv[2], config.image_size, None)
mark("data (cache opened, streamed)")
trainer = T.Trainer(config, data, Path(sys.argv[5]), T.resolve_device("cpu"),
                    None, None)
mark("build: networks, optimizers, EMA, feed")
current = ["?"]
run_phase, backward = T.Trainer.run_phase, torch.Tensor.backward
def traced_run_phase(self, phase, stats):
    current[0] = f"step {self.step} {phase.name}"
    run_phase(self, phase, stats)
    mark(current[0] + ": optimizer step")
def traced_backward(self, *a, **k):
    mark(current[0] + ": forward")
    backward(self, *a, **k)
    mark(current[0] + ": backward")
T.Trainer.run_phase, torch.Tensor.backward = traced_run_phase, traced_backward
update_ema, sample, save = T.update_ema, T.Trainer.sample, T.Trainer.save
def traced_update_ema(*a):
    update_ema(*a)
    mark(current[0].rsplit(" ", 1)[0] + " EMA update")
def traced_sample(self):
    sample(self)
    mark("sample grid (64 images)")
def traced_save(self):
    out = save(self)
    mark("checkpoint")
    return out
T.update_ema, T.Trainer.sample, T.Trainer.save = (
    traced_update_ema, traced_sample, traced_save)
t = time.perf_counter()
try:
    trainer.loop()
finally:
    trainer.feed.close()
seconds = time.perf_counter() - t
r = trainer.recipe
params = {k: sum(p.numel() for p in n.parameters()) for k, n in r.nets.items()}
ema = sum(p.numel() for p in trainer.ema.parameters()) if trainer.ema else 0
adam = sum(t.numel() for o in r.optimizers.values() for s in o.state.values()
           for t in s.values() if torch.is_tensor(t) and t.dim() > 0)
print(json.dumps({"rows": rows, "params": params, "ema": ema, "adam": adam,
                  "seconds": seconds, "batch": config.batch_size,
                  "torch_threads": torch.get_num_threads()}))
"""


def make_folder(n: int = 64) -> Path:
    from PIL import Image

    if (FOLDER / ".complete").exists():
        return FOLDER
    FOLDER.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(FOLDER / f"{i:04d}.jpg", quality=90)
    (FOLDER / ".complete").touch()
    return FOLDER


def run_child(model: str, settings: dict, env_extra: dict) -> dict:
    env = {**os.environ, "GAN_DATA_RAM_BYTES": "0", **env_extra}
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), str(make_folder()), model,
             json.dumps(settings), out],
            capture_output=True, text=True, env=env, timeout=1800,
        )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def table(fig: dict) -> list[str]:
    lines = [
        "| segment | peak RSS in it, MiB | RSS after it, MiB |",
        "|---|---|---|",
    ]
    for label, hwm, rss in fig["rows"]:
        lines.append(f"| {label} | {mib(hwm)} | {mib(rss)} |")
    peak = max(hwm for _, hwm, _ in fig["rows"])
    lines.append(f"| **whole run** | **{mib(peak)}** | |")
    return lines


def arithmetic(fig: dict) -> str:
    p = fig["params"]
    total = sum(p.values())
    return (
        "Parameters: "
        + ", ".join(f"{k} {v:,}" for k, v in p.items())
        + f" (weights {mib(4 * total)} MiB fp32); gradients at most "
        f"{mib(4 * max(p.values()))} MiB alive at once when each optimizer's are "
        f"freed after its step ({mib(4 * total)} MiB when kept); Adam state "
        f"{mib(4 * fig['adam'])} MiB; EMA copy {mib(4 * fig['ema'])} MiB."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="stylegan2")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], help="key=value")
    parser.add_argument("--env", action="append", default=[], help="NAME=value")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    settings = {
        "image_size": args.size,
        "batch_size": args.batch,
        "steps": args.steps,
        "sample_every": 10**6,
        "checkpoint_every": 10**6,
    }
    for item in args.set:
        key, value = item.split("=", 1)
        settings[key] = json.loads(value)
    env = dict(item.split("=", 1) for item in args.env)
    load = os.getloadavg()[0]
    t = time.perf_counter()
    fig = run_child(args.model, settings, env)
    lines = [
        "## Training memory phase by phase (bench/bench_train_memory.py)",
        "",
        f"Machine: {machine()}.  ",
        f"Commit: {commit()}, {time.strftime('%Y-%m-%d')}; load average "
        f"{load:.1f} at start, {os.getloadavg()[0]:.1f} at end.  ",
        f"Run: {args.model} {args.size} px, batch {args.batch}, {args.steps} steps "
        f"(step 0 runs every phase, step 1 the main ones), settings "
        f"{settings}, env {env or 'default'}, data streamed "
        f"(GAN_DATA_RAM_BYTES 0); {time.perf_counter() - t:.0f} s.",
        "",
        arithmetic(fig),
        "",
        *table(fig),
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
