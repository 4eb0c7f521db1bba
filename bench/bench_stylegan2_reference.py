"""StyleGAN2 training step: GAN Studio against NVlabs/stylegan2-ada-pytorch.

One unit is 16 training steps of each, so the lazy phases run in their
proportion: G main and D main every step, path length every 4 (gain 4), R1
every 16 (gain 16). Ours is ``Trainer.train_step`` (the product's loop: data
feed, phases, Adam, EMA); the reference is its training_loop's step body
written out here around its own networks and StyleGAN2Loss (phases with the
lazy intervals and gains, Adam with the lazy-regularization ratio, grad
nan_to_num, G_ema by ema_kimg). Same widths, hence the same parameter counts
(checked), conv_clamp 256, fp32, batch 16, random images in memory, and no
augmentation on either side (ours with ``ada`` off: the reference is built
without an augment pipe). Units are interleaved (ours, reference, ours, ...)
and the ratio is of the medians; ``--note`` adds a line to the section (what
else loaded the machine).

The reference is never committed: export it outside the repository, e.g.
``git -C <mirror of NVlabs/stylegan2-ada-pytorch> archive HEAD | tar -x -C
/tmp/sg2_ref``, and pass ``--reference /tmp/sg2_ref``. Its custom CUDA ops
fall back to their pure-PyTorch paths on the CPU; no shims were needed with
torch 2.x here.

    python bench/bench_stylegan2_reference.py --reference /tmp/sg2_ref
"""

from __future__ import annotations

import argparse
import copy
import os
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
from gan_core.data.types import ImageData  # noqa: E402
from gan_core.trainer import Trainer, count_parameters  # noqa: E402

SECTION = "bench_stylegan2_reference"
UNIT = 16  # steps per timed unit: lcm of the lazy intervals 4 and 16
WIDTHS = dict(z_dim=128, w_dim=128, mapping_layers=8, channel_base=1024,
              channel_max=64)  # fmt: skip
BATCH, R1_INTERVAL, PL_INTERVAL = 16, 16, 4


def images(size: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return torch.rand(256, 3, size, size, generator=gen) * 2 - 1


class Ours:
    """The product's trainer on in-memory images."""

    def __init__(self, size: int, out_dir: Path):
        settings = {**WIDTHS, "image_size": size, "batch_size": BATCH,
                    "r1_gamma": 0.01, "steps": 10**6, "sample_every": 10**6,
                    "checkpoint_every": 10**6, "ada": "off"}  # fmt: skip
        config = config_from_dict("stylegan2", settings)
        data = ImageData(images(size))
        self.trainer = Trainer(config, data, out_dir, torch.device("cpu"), None, None)
        for net in self.trainer.recipe.nets.values():
            net.train()

    def params(self) -> tuple[int, int]:
        nets = self.trainer.recipe.nets
        return count_parameters(nets["G"]), count_parameters(nets["D"])

    def unit(self) -> None:
        for _ in range(UNIT):
            self.trainer.train_step()


class Reference:
    """stylegan2-ada-pytorch's networks, loss and training-loop step body.

    ``settings`` names ours (WIDTHS' keys, r1_gamma, pl_weight,
    style_mixing_prob, mbstd_group; the reference's defaults where absent);
    ``step(real)`` is one training step on a batch of real images in [-1, 1].
    """

    def __init__(
        self,
        size: int,
        ref_dir: Path,
        settings: dict | None = None,
        channels: int = 3,
        seed: int = 0,
    ):
        sys.path.insert(0, str(ref_dir))
        from training.loss import StyleGAN2Loss
        from training.networks import Discriminator, Generator

        s = {**WIDTHS, "r1_gamma": 0.01, **(settings or {})}
        torch.manual_seed(seed)
        common = dict(channel_base=s["channel_base"], channel_max=s["channel_max"],
                      num_fp16_res=0, conv_clamp=256)  # fmt: skip
        self.G = Generator(
            z_dim=s["z_dim"], c_dim=0, w_dim=s["w_dim"],
            img_resolution=size, img_channels=channels,
            mapping_kwargs=dict(num_layers=s["mapping_layers"]),
            synthesis_kwargs=common,
        ).train()  # fmt: skip
        epilogue = {"mbstd_group_size": s["mbstd_group"]} if "mbstd_group" in s else {}
        self.D = Discriminator(
            c_dim=0, img_resolution=size, img_channels=channels,
            epilogue_kwargs=epilogue, **common,
        ).train()  # fmt: skip
        self.G_ema = copy.deepcopy(self.G).eval()
        keys = ("r1_gamma", "pl_weight", "style_mixing_prob")
        self.loss = StyleGAN2Loss(
            "cpu", self.G.mapping, self.G.synthesis, self.D,
            **{k: s[k] for k in keys if k in s},
        )  # fmt: skip
        self.phases = []
        for name, module, interval in (
            ("G", self.G, PL_INTERVAL),
            ("D", self.D, R1_INTERVAL),
        ):
            ratio = interval / (interval + 1)  # training_loop's mb_ratio
            opt = torch.optim.Adam(
                module.parameters(), lr=0.002 * ratio, betas=(0.0, 0.99**ratio)
            )
            self.phases.append((name + "main", module, opt, 1))
            self.phases.append((name + "reg", module, opt, interval))
        self.phases.sort(key=lambda p: p[0][0] == "D")  # G phases first
        self.z_dim = s["z_dim"]
        self.real = images(size)
        self.gen = torch.Generator().manual_seed(1)
        self.step_count = 0

    def params(self) -> tuple[int, int]:
        return count_parameters(self.G), count_parameters(self.D)

    def unit(self) -> None:
        for _ in range(UNIT):
            idx = torch.randint(len(self.real), (BATCH,), generator=self.gen)
            self.step(self.real.index_select(0, idx))

    def step(self, real: torch.Tensor) -> None:
        batch = len(real)
        c = torch.zeros(batch, 0)
        for name, module, opt, interval in self.phases:
            if self.step_count % interval:
                continue
            opt.zero_grad(set_to_none=True)
            module.requires_grad_(True)
            z = torch.randn(batch, self.z_dim)
            self.loss.accumulate_gradients(
                name, real, c, z, c, sync=True, gain=interval
            )
            module.requires_grad_(False)
            for p in module.parameters():
                if p.grad is not None:
                    torch.nan_to_num(p.grad, nan=0, posinf=1e5, neginf=-1e5, out=p.grad)
            opt.step()
        ema_nimg = min(10_000, self.step_count * batch * 0.05)
        beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
        with torch.no_grad():
            for p_ema, p in zip(
                self.G_ema.parameters(), self.G.parameters(), strict=True
            ):
                p_ema.copy_(p.lerp(p_ema, beta))
            for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
                b_ema.copy_(b)
        self.step_count += 1


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def top_ops(fn, k: int = 6) -> str:
    """The k ops with the most self CPU time in one unit."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in rows) or 1
    return ", ".join(
        f"{e.key} {100 * e.self_cpu_time_total / total:.0f}%" for e in rows[:k]
    )


def bench_size(size: int, ref_dir: Path, repeats: int, profile: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ours, ref = Ours(size, Path(tmp)), Reference(size, ref_dir)
        if ours.params() != ref.params():
            raise SystemExit(f"parameter counts differ: {ours.params()} {ref.params()}")
        ours.unit(), ref.unit()  # warm-up: allocator, first lazy phases
        times = {"ours": [], "reference": []}
        for _ in range(repeats):
            times["ours"].append(timed(ours.unit))
            times["reference"].append(timed(ref.unit))
        result = {k: statistics.median(v) / UNIT for k, v in times.items()}
        result["spread"] = {k: (min(v) / UNIT, max(v) / UNIT) for k, v in times.items()}
        result["params"] = ours.params()
        if profile:
            result["ops"] = {"ours": top_ops(ours.unit), "reference": top_ops(ref.unit)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--note", default="", help="a line added to the section")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start; "
        f"code measured: {commit()}.",
        f"stylegan2 training step, fp32 on the CPU, batch {BATCH}, widths {WIDTHS}, "
        f"conv_clamp 256, no augmentation (ours: ada off); {args.repeats} "
        f"interleaved units of {UNIT} steps each "
        "(lazy path length every 4, R1 every 16, in proportion); seconds per step, "
        "median (min-max). Reference: NVlabs/stylegan2-ada-pytorch networks + "
        "StyleGAN2Loss, its ops on their pure-PyTorch CPU paths.",
        *([args.note] if args.note else []),
        "",
        "| px | params G / D | ours s/step | reference s/step | ours / reference |",
        "|---|---|---|---|---|",
    ]
    notes = []
    for size in args.sizes:
        r = bench_size(size, args.reference, args.repeats, not args.no_profile)
        (olo, ohi), (rlo, rhi) = r["spread"]["ours"], r["spread"]["reference"]
        ratio = r["ours"] / r["reference"]
        lines.append(
            f"| {size} | {r['params'][0]:,} / {r['params'][1]:,} | "
            f"{r['ours']:.3f} ({olo:.3f}-{ohi:.3f}) | "
            f"{r['reference']:.3f} ({rlo:.3f}-{rhi:.3f}) | {ratio:.2f} |"
        )
        if "ops" in r:
            notes.append(f"- {size} px, ours: {r['ops']['ours']}")
            notes.append(f"- {size} px, reference: {r['ops']['reference']}")
        # Written after every size, so a long run keeps what it measured.
        text = "\n".join(
            lines
            + (["", "Self CPU time by op in one unit (profiler):"] + notes)
            * bool(notes)
        )
        print(text, flush=True)
        if not args.no_write:
            write_section(SECTION, text)


if __name__ == "__main__":
    main()
