"""Pre-flight: what a training run will cost, measured before it is queued.

Users of GAN repositories find out that a run does not fit at its first step,
often hours into a queue. Here a short probe trains a few steps of the very
configuration on synthetic data of the dataset's shape, in a fresh process
(so its peak memory is the run's own), and reports:

- the time per generator step (median of the timed steps, after warm-up);
- the peak memory of the run: the probe's peak (process RSS on a CPU, device
  memory on a GPU) with the probe's tiny data swapped for the dataset's size;
- whether that fits in the memory the device has free, and if not, the
  largest batch that does, from a second probe at half the batch (memory is
  close to linear in the batch size).

``python -m gan_core.preflight '{"model": ..., "config": ..., "data": ...}'``
prints the probe of one configuration as JSON; ``estimate`` runs the probes and
puts the answer together.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

WARMUP_STEPS = 3
TIMED_STEPS = 8
FIT_MARGIN = 0.9  # plan to use at most this share of the free memory


@dataclass(frozen=True)
class DataShape:
    """What the probe needs to know about the dataset, nothing more."""

    kind: str  # "images", "points", "domains" or "pairs"
    count: int  # images (or points) in the dataset
    channels: int = 3
    num_classes: int = 0
    # "float32": held decoded in RAM (the built-in datasets); "uint8": read
    # from its training cache (an upload), one byte per value, in RAM up to
    # the data RAM budget and streamed from the file beyond it.
    dtype: str = "float32"

    def __post_init__(self):
        if self.dtype not in ("float32", "uint8"):
            raise ValueError(f"dtype must be float32 or uint8, got {self.dtype!r}")


@dataclass(frozen=True)
class Estimate:
    step_seconds: float
    duration_seconds: float
    peak_bytes: int
    available_bytes: int
    fits: bool
    suggested_batch_size: int | None
    device: str

    def to_dict(self) -> dict:
        return asdict(self)


def data_bytes(shape: DataShape, image_size: int) -> int:
    """Memory the dataset takes in RAM during training.

    A cached (uint8) dataset past the data RAM budget is streamed: the budget
    (gan_core.data.loading.data_ram_bytes, read where this runs) is its cost.
    """
    if shape.kind == "points":
        return shape.count * 2 * 4
    value_bytes = 1 if shape.dtype == "uint8" else 4
    per_image = shape.channels * image_size * image_size * value_bytes
    pairs = 2 if shape.kind in ("domains", "pairs") else 1
    held = shape.count * per_image * pairs
    if shape.dtype == "uint8":
        from gan_core.data.loading import data_ram_bytes

        held = min(held, data_ram_bytes())
    return held


def synthetic_data(shape: DataShape, image_size: int, count: int):
    """Random data of the dataset's kind and shape (values do not change cost)."""
    import torch

    from gan_core.data.types import DomainData, ImageData, PairData, PointData

    gen = torch.Generator().manual_seed(0)
    if shape.kind == "points":
        return PointData(torch.randn(count, 2, generator=gen))
    size = (count, shape.channels, image_size, image_size)
    if shape.dtype == "uint8":  # as a training cache gives them
        images = torch.randint(0, 256, size, generator=gen, dtype=torch.uint8)
    else:
        images = torch.rand(size, generator=gen) * 2 - 1
    if shape.kind == "domains":
        return DomainData(images, images.flip(0))
    if shape.kind == "pairs":
        return PairData(images, images.flip(0))
    if shape.num_classes:
        labels = torch.arange(count) % shape.num_classes
        names = tuple(str(i) for i in range(shape.num_classes))
        return ImageData(images, labels, names)
    return ImageData(images)


def _peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def probe(model: str, config: dict, shape: DataShape, device: str = "cpu") -> dict:
    """Train a few steps of ``config`` here; {"step_seconds", "peak_bytes"}.

    Run it in a process of its own (``probe_in_subprocess``): the peak memory
    of a process is all its life's."""
    import torch

    from gan_core.config import config_from_dict
    from gan_core.devices import resolve_device
    from gan_core.trainer import Trainer

    settings = {**config, "steps": WARMUP_STEPS + TIMED_STEPS + 1}
    settings.update(sample_every=10**6, checkpoint_every=10**6, compile=False)
    cfg = config_from_dict(model, settings)
    torch_device = resolve_device(device)
    count = max(2 * cfg.batch_size, 16)
    data = synthetic_data(shape, cfg.image_size, count)
    if torch_device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(torch_device)
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(cfg, data, Path(out), torch_device, None, None)
        times = []
        for index in range(WARMUP_STEPS + TIMED_STEPS):
            started = time.perf_counter()
            trainer.train_step()
            if torch_device.type == "cuda":
                torch.cuda.synchronize(torch_device)
            if index >= WARMUP_STEPS:
                times.append(time.perf_counter() - started)
    probe_data = data_bytes(replace(shape, count=count), cfg.image_size)
    if torch_device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(torch_device)
    else:
        peak = _peak_rss_bytes()
    return {
        "step_seconds": statistics.median(times),
        "peak_bytes": int(peak),
        "probe_data_bytes": probe_data,
        "device": str(torch_device),
    }


def probe_in_subprocess(
    model: str, config: dict, shape: DataShape, device: str = "cpu"
) -> dict:
    """``probe`` in a fresh Python process, so its peak memory is its own."""
    request = json.dumps(
        {"model": model, "config": config, "data": asdict(shape), "device": device}
    )
    done = subprocess.run(
        [sys.executable, "-m", "gan_core.preflight", request],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else "the probe failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def available_bytes(device: str) -> int:
    """Memory free for a run on ``device`` now."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def estimate(
    model: str, config: dict, shape: DataShape, device: str = "cpu", *, probe_fn=None
) -> Estimate:
    """Probe ``config`` and say what the whole run costs and whether it fits."""
    from gan_core.config import config_from_dict

    run = probe_fn or probe_in_subprocess
    cfg = config_from_dict(model, config)
    measured = run(model, config, shape, device)
    dataset = data_bytes(shape, cfg.image_size)
    on_gpu = measured["device"].startswith("cuda")
    # On a GPU the dataset stays in host memory; on a CPU it is part of the peak.
    extra = 0 if on_gpu else dataset - measured["probe_data_bytes"]
    peak = measured["peak_bytes"] + max(0, extra)
    free = available_bytes(measured["device"])
    fits = peak <= FIT_MARGIN * free
    suggested = None
    if not fits and cfg.batch_size > 1:
        half = max(1, cfg.batch_size // 2)
        smaller = run(model, {**config, "batch_size": half}, shape, device)
        per_image = (measured["peak_bytes"] - smaller["peak_bytes"]) / max(
            cfg.batch_size - half, 1
        )
        fixed = peak - per_image * cfg.batch_size
        if per_image > 0:
            largest = math.floor((FIT_MARGIN * free - fixed) / per_image)
            suggested = max(0, largest) or None
    return Estimate(
        step_seconds=measured["step_seconds"],
        duration_seconds=measured["step_seconds"] * cfg.steps,
        peak_bytes=int(peak),
        available_bytes=int(free),
        fits=fits,
        suggested_batch_size=suggested,
        device=measured["device"],
    )


def main(argv: list[str] | None = None) -> int:
    request = json.loads((argv or sys.argv[1:])[0])
    shape = DataShape(**request["data"])
    result = probe(request["model"], request["config"], shape, request["device"])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
