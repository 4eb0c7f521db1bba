"""GPU check: every family trains a few steps in fp32, bf16 and fp16 on CUDA.

On a CUDA machine, trains every registered family for a short fixed number of
steps through the public ``train`` with channels_last, in fp32, bf16 and fp16
(and, last and as far as the time budget allows, with torch.compile), plus
StyleGAN2 at 64, 128 and 256 px with stylegan2-ada-pytorch's ``--cfg=auto``
settings for one GPU (batch min(4096 / res, 32), channel_base 16384, mapping 2
layers, gamma 0.0002 res^2 / batch, ADA on). For each case it records sec/kimg
and images/s (real images shown to D, as the trainer counts them) over the
steps after warm-up, and the peak CUDA memory; StyleGAN2 rows stand beside the
reference's published 1-V100 figures (README, "Expected training time":
128 px 12.8-13.7 s/kimg, 256 px 21.6-24.2). A case that fails is recorded with
its error and the check goes on. Figures are written after every case (to
bench/RESULTS.md, or --results), so a run cut short still leaves what it
measured.

    python bench/gpu_check.py [--budget-s 330] [--results PATH] [--no-write]
    python bench/gpu_check.py --dry-run   # CPU: tiny sizes, 2 steps, no file
    python bench/gpu_check.py --only 'progan|stylegan2 64' --section gpu_check_rerun

--only keeps the cases whose "label precision compile=True|False" matches a
regular expression; --section writes them to a section of their own, so a
rerun of what failed keeps the first run's table.

Where only one folder comes back from the GPU machine (the device tool's
$OUT): ``cp bench/RESULTS.md $OUT/ && python bench/gpu_check.py --results
$OUT/RESULTS.md``, then copy its gpu_check section into bench/RESULTS.md.

The dry run exercises every family and case on the CPU at tiny sizes with fp32
and bf16; fp16 needs CUDA and is skipped with a message, and so is compile
(inductor builds C++ for minutes on a CPU) unless --compile-on-cpu.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from results_file import RESULTS, commit, machine, write_section  # noqa: E402

from gan_core.config import config_from_dict  # noqa: E402
from gan_core.data.types import DomainData, ImageData, PairData  # noqa: E402
from gan_core.registry import list_families  # noqa: E402
from gan_core.trainer import train  # noqa: E402

SECTION = "gpu_check"  # <!-- gpu_check --> ... <!-- /gpu_check -->
PRECISIONS = ("fp32", "bf16", "fp16")
# stylegan2-ada-pytorch README, 1 x V100, --cfg=auto --aug=ada: sec/kimg.
REFERENCE_SEC_PER_KIMG = {128: "12.8-13.7", 256: "21.6-24.2"}
STYLEGAN2_SIZES = (64, 128, 256)
WARMUP = 3  # steps left out (cuDNN autotuning, compile, first allocations)
N_IMAGES = 256  # synthetic training images per case


@dataclass
class Case:
    family: str
    label: str  # family and size, as the table shows it
    settings: dict
    data: str  # "images", "classes" or "domains"
    channels: int = 3
    steps: int = 16  # measured steps (after WARMUP)
    precision: str = "fp32"
    compile: bool = False
    result: dict = field(default_factory=dict)


def stylegan2_auto(res: int) -> dict:
    """stylegan2-ada-pytorch's --cfg=auto for one GPU at ``res`` px."""
    batch = min(4096 // res, 32)
    return {
        "image_size": res,
        "batch_size": batch,
        "channel_base": 16384,
        "channel_max": 512,
        "mapping_layers": 2,
        "mbstd_group": min(batch, 4),
        "r1_gamma": 0.0002 * res**2 / batch,
    }


GPU_CASES = {  # family -> (label, settings, data kind, channels)
    "gan": [("gan 28 px", {"image_size": 28}, "images", 1)],
    "dcgan": [("dcgan 64 px", {"image_size": 64}, "images", 3)],
    "wgan": [("wgan 64 px", {"image_size": 64}, "images", 3)],
    "wgan-gp": [("wgan-gp 64 px", {"image_size": 64}, "images", 3)],
    "sngan": [("sngan 64 px", {"image_size": 64}, "images", 3)],
    "cgan": [("cgan 32 px", {"image_size": 32}, "classes", 1)],
    "progan": [("progan 64 px", {"image_size": 64}, "images", 3)],
    "cyclegan": [("cyclegan 128 px", {"image_size": 128}, "domains", 3)],
    "pix2pix": [("pix2pix 256 px", {"image_size": 256}, "pairs", 3)],
    "stylegan2": [
        (f"stylegan2 {res} px", stylegan2_auto(res), "images", 3)
        for res in STYLEGAN2_SIZES
    ],
}

TINY = {  # dry run: every family in milliseconds
    "gan": {"image_size": 8, "hidden": 16, "depth": 2, "z_dim": 8, "batch_size": 4},
    "classic": {"image_size": 8, "g_channels": 4, "d_channels": 4, "z_dim": 8,
                "batch_size": 4},
    "progan": {"image_size": 8, "channel_base": 64, "channel_max": 8, "z_dim": 8,
               "batch_size": 4},
    "cyclegan": {"image_size": 16, "ngf": 4, "ndf": 4, "n_blocks": 1,
                 "batch_size": 2, "pool_size": 4},
    "pix2pix": {"image_size": 16, "ngf": 4, "ndf": 4, "batch_size": 2},
    "stylegan2": {"image_size": 16, "z_dim": 16, "w_dim": 16, "mapping_layers": 2,
                  "channel_base": 256, "channel_max": 16, "batch_size": 4},
}  # fmt: skip


def tiny_settings(family: str, size: int) -> dict:
    key = family if family in TINY else "classic"
    values = dict(TINY[key])
    if family == "stylegan2":
        values["image_size"] = size
    return values


def cases(dry_run: bool, compile_on_cpu: bool) -> list[Case]:
    """Every family in every precision, then the compiled ones (most wanted
    first: StyleGAN2 at 128 and 256, DCGAN, the rest)."""
    base: list[Case] = []
    known = {f.name for f in list_families()}
    for family in [f.name for f in list_families()]:
        specs = GPU_CASES.get(family, [(family, {}, "images", 3)])
        for label, settings, data, channels in specs:
            if dry_run:  # StyleGAN2 at 16, 32 and 64 px in place of 64-256
                size = settings.get("image_size", 64) // 4
                settings = tiny_settings(family, size)
                label = f"{family} {settings['image_size']} px (dry run)"
            base.append(Case(family, label, settings, data, channels))
    missing = known - {c.family for c in base}
    assert not missing, missing
    out = []
    for precision in PRECISIONS:
        for c in base:
            out.append(_variant(c, precision, False, dry_run))
    order = sorted(base, key=lambda c: _compile_rank(c.label))
    for c in order:
        out.append(_variant(c, "bf16", True, dry_run and not compile_on_cpu))
    return out


def _compile_rank(label: str) -> int:
    for rank, head in enumerate(("stylegan2 128", "stylegan2 256", "dcgan")):
        if label.startswith(head):
            return rank
    return 3


def _variant(c: Case, precision: str, compiled: bool, skip_compile: bool) -> Case:
    v = Case(c.family, c.label, dict(c.settings), c.data, c.channels, c.steps)
    v.precision, v.compile = precision, compiled
    if skip_compile and compiled:
        v.result = {"status": "skipped: compile on CPU takes minutes per network"}
    return v


def synthetic(kind: str, channels: int, size: int, device: torch.device):
    """N_IMAGES random images in [-1, 1] (two domains, or with 10 labels)."""
    gen = torch.Generator().manual_seed(0)

    def images(n: int) -> torch.Tensor:
        return torch.rand(n, channels, size, size, generator=gen) * 2 - 1

    n = N_IMAGES if device.type == "cuda" else 16
    if kind == "domains":
        return DomainData(images(n), images(n))
    if kind == "pairs":
        return PairData(images(n), images(n))
    if kind == "classes":
        names = tuple(str(i) for i in range(10))
        return ImageData(images(n), torch.arange(n) % 10, names)
    return ImageData(images(n))


def run_case(c: Case, device: torch.device, steps: int, warmup: int) -> dict:
    """Train ``c`` for warmup + steps steps; its figures, or its error."""
    if c.precision == "fp16" and device.type != "cuda":
        return {"status": "skipped: fp16 needs CUDA (its grad scaler)"}
    stamps: list[float] = []
    rates: list[float] = []

    def on_event(event):
        if event.type == "step":
            stamps.append(time.perf_counter())
            rates.append(event.images_per_sec)

    values = {
        **c.settings,
        "steps": warmup + steps,
        "precision": c.precision,
        "channels_last": True,
        "compile": c.compile,
        "sample_every": 10**6,
        "checkpoint_every": 10**6,
    }
    config = config_from_dict(c.family, values)
    data = synthetic(c.data, c.channels, config.image_size, device)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        with tempfile.TemporaryDirectory() as out:
            train(config, data=data, out_dir=Path(out), device=str(device),
                  on_event=on_event)  # fmt: skip
    except Exception as exc:  # a failing case is a result, not the end
        line = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
        traceback.print_exc()
        return {"status": f"failed: {line}"}
    # The gap before step k + 1's event is step k + 1's time: skip the warm-up.
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)][warmup - 1 :]
    seconds = sum(gaps)
    images = config.batch_size * len(gaps) * _d_batches(c.family, config)
    result = {
        "status": "ok",
        "batch": config.batch_size,
        "steps": len(gaps),
        "sec_per_kimg": seconds / max(images, 1) * 1000,
        "images_per_sec": images / max(seconds, 1e-9),
        "median_step_ms": statistics.median(gaps) * 1000 if gaps else 0.0,
        "trainer_rate": rates[-1] if rates else 0.0,
    }
    if device.type == "cuda":
        result["peak_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return result


def _d_batches(family: str, config) -> int:
    """Real batches D sees per step: the classic families' critic steps."""
    classic = ("gan", "dcgan", "wgan", "wgan-gp", "sngan", "cgan")
    return config.n_critic if family in classic else 1


def table(rows: list[Case], device: torch.device) -> str:
    lines = [
        "| case | precision | compile | batch | sec/kimg | images/s | peak GiB "
        "| reference (1 V100) | status |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for c in rows:
        r = c.result
        ref = ""
        if c.family == "stylegan2":
            res = c.settings.get("image_size")
            ref = REFERENCE_SEC_PER_KIMG.get(res, "")
            ref = f"{ref} s/kimg" if ref else ""
        if r.get("status") == "ok":
            peak = f"{r['peak_gib']:.2f}" if "peak_gib" in r else "-"
            figures = (
                f"{r['batch']} | {r['sec_per_kimg']:.2f} | {r['images_per_sec']:.0f} "
                f"| {peak}"
            )
        else:
            figures = "- | - | - | -"
        status = r.get("status", "not run (time budget or cut short)")
        lines.append(
            f"| {c.label} | {c.precision} | {'yes' if c.compile else 'no'} | "
            f"{figures} | {ref} | {status} |"
        )
    return "\n".join(lines)


def case_name(c: Case) -> str:
    """What --only matches: "stylegan2 64 px bf16 compile=False"."""
    return f"{c.label} {c.precision} compile={c.compile}"


def section(
    rows: list[Case], device: torch.device, steps: int, done: bool, only: str = ""
) -> str:
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "no GPU"
    state = "complete" if done else "in progress (written after every case)"
    title = "every family in fp32, bf16 and fp16"
    if only:
        title = f"the cases matching --only '{only}'"
    return "\n".join(
        [
            f"## GPU check: {title} (bench/gpu_check.py)",
            "",
            f"GPU: **{gpu}**. Machine: {machine()}. Commit {commit()}. Run {state}.",
            f"Each case: {WARMUP} warm-up steps, then {steps} measured steps "
            "(StyleGAN2: 32, two R1 periods) through `train` with channels_last "
            "(`steps` counts generator steps); "
            f"{N_IMAGES} random images on the GPU. sec/kimg and images/s count real "
            "images shown to D; peak GiB is torch.cuda.max_memory_allocated. "
            "StyleGAN2 rows use stylegan2-ada-pytorch's --cfg=auto for one GPU "
            "(ADA on, p starting at 0); the reference column is its README's "
            "1-V100 figure (mixed precision in its 4 highest resolutions), from "
            "another GPU, so a ratio is indicative only.",
            "",
            table(rows, device),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny, no file")
    parser.add_argument("--steps", type=int, default=16, help="measured steps")
    parser.add_argument("--budget-s", type=float, default=330.0,
                        help="start no case after this many seconds")  # fmt: skip
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="the RESULTS.md to rewrite")  # fmt: skip
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--only", default="",
                        help="regex: run the cases whose name matches")  # fmt: skip
    parser.add_argument("--section", default=SECTION,
                        help="the RESULTS.md section to write")  # fmt: skip
    parser.add_argument("--compile-on-cpu", action="store_true",
                        help="dry run: also run the compiled cases")  # fmt: skip
    args = parser.parse_args(argv)
    if args.dry_run:
        device, steps = torch.device("cpu"), 1
    elif not torch.cuda.is_available():
        print("error: no CUDA device; use --dry-run on a CPU", file=sys.stderr)
        return 2
    else:
        device, steps = torch.device("cuda"), args.steps
        torch.backends.cudnn.benchmark = True
    write = not (args.dry_run or args.no_write)
    rows = cases(args.dry_run, args.compile_on_cpu)
    if args.only:
        rows = [c for c in rows if re.search(args.only, case_name(c))]
        if not rows:
            print(f"error: no case matches --only {args.only!r}", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    for c in rows:
        if c.result:  # skipped when planned
            print(f"{case_name(c)}: {c.result['status']}")
            continue
        if time.perf_counter() - t0 > args.budget_s:
            c.result = {"status": "skipped: time budget"}
            continue
        n = 1 if args.dry_run else (32 if c.family == "stylegan2" else steps)
        c.result = run_case(c, device, n, 1 if args.dry_run else WARMUP)
        print(f"{case_name(c)}: {c.result}", flush=True)
        if write:
            body = section(rows, device, steps, False, args.only)
            write_section(args.section, body, args.results)
    body = section(rows, device, steps, True, args.only)
    if write:
        write_section(args.section, body, args.results)
    print(body)
    failed = [c for c in rows if c.result.get("status", "").startswith("failed")]
    print(f"{len(rows)} cases, {len(failed)} failed, {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
