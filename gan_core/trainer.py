"""The one training loop every family runs (STYLE.md point 4).

The loop owns devices, mixed precision, channels_last, torch.compile, the
generator EMA, seeding, the learning-rate schedule, NaN and gradient-norm
guards, samples, checkpoints and the two callbacks (``on_event`` and
``should_stop``); everything family-specific comes from the family's Recipe.

Under torchrun (WORLD_SIZE > 1) every rank runs this loop on its share of the
global batch (gan_core.distributed): gradients are averaged in every phase,
and rank 0 alone emits events, draws samples, writes checkpoints and decides
when to stop.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from gan_core import distributed
from gan_core.checkpoint import CheckpointError, link_atomic, load_checkpoint
from gan_core.checkpoint import save_checkpoint as _save_checkpoint
from gan_core.config import TrainConfig
from gan_core.data.loading import DataError, DataInfo, data_info, load_data
from gan_core.data.types import Data
from gan_core.ema import ema_beta, ema_beta_for_images, make_ema, update_ema
from gan_core.events import (
    CheckpointEvent,
    Event,
    FailedEvent,
    FinishedEvent,
    RollbackEvent,
    SampleEvent,
    StartedEvent,
    StepEvent,
    StoppedEvent,
)
from gan_core.feed import DataFeed
from gan_core.heap import map_large_allocations
from gan_core.recipe import Phase, Recipe
from gan_core.registry import Family, list_families
from gan_core.sampling import generate_in_chunks, save_grid, save_points_plot
from gan_core.transfer import InitReport, init_from_checkpoint

SAMPLE_IMAGES = 64  # Grid of 8 x 8 for unconditional image families.
SAMPLE_POINTS = 512  # Generated points per point-data sample event.
SAMPLE_CHUNK = 16  # Sample rows generated at once (bounds the grid's memory).
SURFACE_SIZE = 48  # Discriminator surface resolution for point data.
METRIC_LINES = 2000  # Step lines kept in metrics.jsonl per run (throttled).


class Diverging(RuntimeError):
    """Raised inside a step when a loss or gradient is not finite; the loop
    rolls back (``Trainer.recover``) or gives up with TrainingDiverged."""


class TrainingDiverged(RuntimeError):
    """A loss or gradient became NaN or infinite; no checkpoint was written."""


@dataclass
class TrainResult:
    """How ``train`` ended: status "finished" or "stopped"."""

    status: str
    step: int
    checkpoint: Path | None
    out_dir: Path
    seconds: float
    losses: dict[str, float] = field(default_factory=dict)


def family_of(config: TrainConfig) -> Family:
    """The registered family whose config class is ``type(config)``."""
    matches = [f for f in list_families() if f.config_cls is type(config)]
    if len(matches) != 1:
        raise ValueError(f"no single family uses {type(config).__name__}")
    return matches[0]


def lr_factor(schedule: str, step: int, total: int) -> float:
    """Multiplier of the base learning rate at ``step`` of ``total``.

    linear: constant for the first half, then linear to zero (Zhu 2017, section
    4: "keep the same learning rate for the first 100 epochs and linearly decay
    the rate to zero over the next 100"); cosine: 0.5 (1 + cos(pi t)).
    """
    t = step / max(1, total)
    if schedule == "linear":
        return 1.0 if t < 0.5 else max(0.0, 2.0 * (1.0 - t))
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))
    return 1.0


def check_data_kind(family: Family, data: Data) -> None:
    """Unconditional image families also train on class folders (labels unused)."""
    kind = data.kind
    if kind in family.data_kinds or (
        kind == "classes" and "images" in family.data_kinds
    ):
        return
    wanted = ", ".join(family.data_kinds)
    raise DataError(f"{family.name} cannot train on {kind} data (it needs {wanted})")


def autocast(device: torch.device, precision: str):
    """The autocast context for ``precision`` (fp32: none)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


class Trainer:
    """One run: build, (restore), loop, save. ``train()`` is its public face."""

    def __init__(
        self,
        config: TrainConfig,
        data: Data,
        out_dir: Path,
        device: torch.device,
        on_event: Callable[[Event], None] | None,
        should_stop: Callable[[], bool] | None,
    ):
        self.config, self.data, self.device = config, data, device
        self.family = family_of(config)
        check_data_kind(self.family, data)
        if config.precision == "fp16" and device.type != "cuda":
            raise ValueError("precision fp16 needs a CUDA device; use bf16 on CPU")
        self.world = distributed.world()
        if config.batch_size % self.world.size:
            raise ValueError(
                f"batch_size {config.batch_size} does not split evenly over "
                f"{self.world.size} processes"
            )
        self.resumed_world: int | None = None  # world size of the checkpoint
        self.out_dir = Path(out_dir)
        self.ckpt_dir = self.out_dir / "checkpoints"
        self.sample_dir = self.out_dir / "samples"
        self.on_event, self.should_stop = on_event, should_stop
        self.info: DataInfo = data_info(data)
        self.images = self.info.kind != "points"
        self.step = 0
        # Divergence watchdog: learning rates are scaled by lr_scale, halved at
        # each rollback; both survive in checkpoints so a resume keeps them.
        self.lr_scale = 1.0
        self.rollbacks_used = 0
        self.widest_spread = 0.0  # of the fixed-noise samples, for collapse
        # Real images shown to D (its main phase's batches), for images/s: G's
        # phases and D's regularization batches are not new images D judges.
        self.images_seen = 0
        self.init_report: InitReport | None = None
        if getattr(config, "mirror", False) and not self.images:
            raise DataError("mirror flips images; it cannot apply to 2D points")
        self._build()

    # -- setup ---------------------------------------------------------------

    def _build(self) -> None:
        c = self.config
        map_large_allocations()  # freed activations go back to the system
        torch.manual_seed(c.seed)
        random.seed(c.seed)
        self.recipe: Recipe = self.family.build(c, self.info, self.device)
        nets = self.recipe.nets
        for name, net in nets.items():
            nets[name] = distributed.sync_batch_norm(net, self.device)
        self.channels_last = c.channels_last and self.images
        if self.channels_last:
            for net in self.recipe.nets.values():
                net.to(memory_format=torch.channels_last)
        if self.recipe.fit is not None:
            self.recipe.fit(self.data)
        distributed.same_start(self.recipe.nets.values())
        gen = self.recipe.nets[self.recipe.generator]
        self.ema = make_ema(gen) if c.ema > 0 or c.ema_kimg > 0 else None
        if self.ema is not None and self.recipe.on_ema is not None:
            self.recipe.on_ema(self.ema)
        if c.compile:
            for net in self.recipe.compiled or self.recipe.nets.values():
                net.compile()
        for opt in self.recipe.optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
        # One loss scale per optimizer: G's and D's gradients overflow at
        # different scales, and a skipped D step must not shrink G's scale.
        fp16 = c.precision == "fp16" and self.device.type == "cuda"
        self.scalers = {
            name: torch.amp.GradScaler("cuda", enabled=fp16)
            for name in self.recipe.optimizers
        }
        self.feed = DataFeed(
            self.data,
            c.batch_size,
            c.seed,
            self.device,
            self.channels_last,
            mirror=getattr(c, "mirror", False),
        )
        self.frozen = self._frozen_params()
        self._fixed_inputs()

    def _frozen_params(self) -> list[nn.Parameter]:
        """FreezeD (Mo et al. 2020): the parameters of D's first freeze_d blocks.
        They never get gradients, so neither optimizer step nor Adam's moments
        move them (BatchNorm still normalizes with batch statistics)."""
        n = getattr(self.config, "freeze_d", 0)
        blocks = self.recipe.d_blocks
        if n and len(blocks) < n:
            raise ValueError(
                f"freeze_d {n}: this discriminator has {len(blocks)} blocks"
            )
        return [p for block in blocks[:n] for p in block.parameters()]

    def init_from(self, path: Path) -> InitReport:
        """Start from the weights of checkpoint ``path`` (EMA included); the
        optimizers, step and family state stay fresh. Raises CheckpointError."""
        r = self.recipe
        self.init_report = init_from_checkpoint(
            path,
            family=self.family.name,
            info=self.info,
            nets=r.nets,
            ema=self.ema,
            generator=r.generator,
            device=self.device,
        )
        return self.init_report

    def _fixed_inputs(self) -> None:
        """Noise (and labels) for sample grids, from their own seeded generator so
        that drawing them never moves the training RNG."""
        gen = torch.Generator().manual_seed(self.config.seed + 7919)
        labels = None
        if not self.images:
            n = SAMPLE_POINTS
        elif self.recipe.conditional:
            k = self.info.num_classes
            labels = torch.arange(k).repeat_interleave(8).to(self.device)
            n = 8 * k
        else:
            n = SAMPLE_IMAGES
        self.fixed_z = torch.randn(n, self.recipe.z_dim, generator=gen).to(self.device)
        self.fixed_labels = labels
        if not self.images:
            pts = self.data.points
            pick = torch.randperm(pts.shape[0], generator=gen)[:SAMPLE_POINTS]
            self.real_points = pts[pick].cpu()

    # -- events, files --------------------------------------------------------

    def emit(self, event: Event, log: bool = True) -> None:
        if not self.world.main:  # one run, one event stream: rank 0's
            return
        if log:
            with open(self.out_dir / "metrics.jsonl", "a") as fh:
                fh.write(json.dumps(event.to_dict()) + "\n")
        if self.on_event is not None:
            self.on_event(event)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.out_dir).as_posix()

    def payload(self) -> dict:
        rng = {
            "torch": torch.get_rng_state(),
            "python": random.getstate(),
            "feed": self.feed.state_dict(),
        }
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        r = self.recipe
        return {
            "family": self.family.name,
            "config": self.config.to_dict(),
            "step": self.step,
            "world_size": self.world.size,
            "nets": {k: net.state_dict() for k, net in r.nets.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizers": {k: opt.state_dict() for k, opt in r.optimizers.items()},
            "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
            "state": {k: obj.state_dict() for k, obj in r.state.items()},
            "rng": rng,
            "data": self.info.to_dict(),
            "watchdog": {
                "lr_scale": self.lr_scale,
                "rollbacks": self.rollbacks_used,
                "widest_spread": self.widest_spread,
            },
        }

    def save(self) -> Path:
        """Checkpoint the current step: step_XXXXXXX.pt, then latest.pt -> it.

        Raises Diverging instead of writing weights that are not finite: a
        rollback must always find a healthy checkpoint. Rank 0 writes (every
        rank holds the same weights and RNG state); the others wait for it."""
        path = self.ckpt_dir / f"step_{self.step:07d}.pt"
        bad = None
        if self.world.main:
            for name, net in self.recipe.nets.items():
                state = net.state_dict().values()
                if not all(torch.isfinite(t).all() for t in state):
                    bad = f"{name} has non-finite weights"
                    break
            if bad is None:
                _save_checkpoint(path, self.payload())
                link_atomic(path, self.ckpt_dir / "latest.pt")
        bad = distributed.from_main(bad)  # also: the file exists for every rank
        if bad is not None:
            raise Diverging(bad)
        self.emit(CheckpointEvent(step=self.step, path=self.rel(path)))
        return path

    def restore(self) -> None:
        """Continue exactly from checkpoints/latest.pt."""
        path = self.ckpt_dir / "latest.pt"
        if not path.exists():
            raise CheckpointError(f"nothing to resume: {path} does not exist")
        p = load_checkpoint(path, map_location=self.device)
        if p.get("family") != self.family.name:
            raise CheckpointError(
                f"{path} is a {p.get('family')} checkpoint, not {self.family.name}"
            )
        if p["data"].get("fingerprint") != self.info.fingerprint:
            raise CheckpointError(f"{path} was trained on different data")
        r = self.recipe
        try:
            for k, net in r.nets.items():
                net.load_state_dict(p["nets"][k])
            if self.ema is not None and p.get("ema") is not None:
                self.ema.load_state_dict(p["ema"])
            for k, opt in r.optimizers.items():
                opt.load_state_dict(p["optimizers"][k])
            for k, obj in r.state.items():
                obj.load_state_dict(p["state"][k])
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"{path} does not fit this model: {exc}") from exc
        # Checkpoints before per-optimizer scalers hold one shared "scaler".
        scalers = p.get("scalers") or {k: p["scaler"] for k in self.scalers}
        for k, scaler in self.scalers.items():
            scaler.load_state_dict(scalers[k])
        torch.set_rng_state(p["rng"]["torch"].cpu())
        random.setstate(_as_tuple(p["rng"]["python"]))
        if "cuda" in p["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(p["rng"]["cuda"].cpu(), self.device)
        self.feed.load_state_dict(p["rng"]["feed"])
        self.step = int(p["step"])
        self.resumed_world = int(p.get("world_size", 1))
        watchdog = p.get("watchdog") or {}
        self.lr_scale = float(watchdog.get("lr_scale", 1.0))
        self.rollbacks_used = int(watchdog.get("rollbacks", 0))
        self.widest_spread = float(watchdog.get("widest_spread", 0.0))

    def recover(self, why: str) -> None:
        """Roll back to the last checkpoint with half the learning rate, or
        raise TrainingDiverged when no rollback is left (or nothing to go to)."""
        latest = self.ckpt_dir / "latest.pt"
        if self.rollbacks_used >= self.config.rollbacks or not latest.exists():
            raise self._diverged(why)
        from_step, used, scale = self.step, self.rollbacks_used + 1, self.lr_scale
        self.restore()
        self.rollbacks_used, self.lr_scale = used, scale / 2
        self.emit(
            RollbackEvent(
                step=self.step,
                from_step=from_step,
                reason=why,
                lr_scale=self.lr_scale,
                rollbacks_left=self.config.rollbacks - used,
            )
        )

    # -- samples ----------------------------------------------------------------

    def sample_on_main(self) -> None:
        """Rank 0 draws the sample grid; its collapse verdict holds everywhere."""
        why = None
        if self.world.main:
            try:
                self.sample()
            except Diverging as exc:
                why = str(exc)
        why = distributed.from_main(why)
        if why is not None:
            raise Diverging(why)

    @torch.no_grad()
    def sample(self) -> None:
        r = self.recipe
        net = self.ema if self.ema is not None else r.nets[r.generator]
        was_training = net.training
        net.eval()
        with autocast(self.device, self.config.precision):
            out = generate_in_chunks(
                r.generate, net, self.fixed_z, self.fixed_labels, SAMPLE_CHUNK
            ).float()
        net.train(was_training)
        path = self.sample_dir / f"step_{self.step:07d}.png"
        if self.images:
            save_grid(out, path, nrow=8)
            self.emit(SampleEvent(step=self.step, path=self.rel(path)))
            self.check_collapse(out)
            return
        surface = self.surface()
        save_points_plot(out.cpu(), self.real_points, path, surface)
        self.emit(
            SampleEvent(
                step=self.step,
                path=self.rel(path),
                points=[[round(x, 4), round(y, 4)] for x, y in out.cpu().tolist()],
                real_points=self.real_points.tolist(),
                surface=surface,
            )
        )
        self.check_collapse(out)

    def check_collapse(self, samples: torch.Tensor) -> None:
        """Raise Diverging when the fixed-noise samples' spread (their mean
        pairwise distance) fell below ``collapse_ratio`` of the widest yet."""
        ratio = self.config.collapse_ratio
        if ratio <= 0 or len(samples) < 2:
            return
        spread = float(torch.pdist(samples.flatten(1).float()).mean())
        if spread < ratio * self.widest_spread:
            share = spread / self.widest_spread
            raise Diverging(
                f"mode collapse: the fixed-noise samples spread {share:.0%} as "
                "wide as before"
            )
        self.widest_spread = max(self.widest_spread, spread)

    @torch.no_grad()
    def surface(self) -> dict | None:
        """D on an n x n grid covering the real points (rows from ymin up)."""
        if self.recipe.discriminate is None:
            return None
        pts = self.real_points
        lo, hi = pts.min(0).values, pts.max(0).values
        half = 0.6 * float((hi - lo).max()) + 1e-3
        cx, cy = ((lo + hi) / 2).tolist()
        xs = torch.linspace(cx - half, cx + half, SURFACE_SIZE)
        ys = torch.linspace(cy - half, cy + half, SURFACE_SIZE)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        grid = torch.stack([gx.flatten(), gy.flatten()], 1).to(self.device)
        values = self.recipe.discriminate(grid).float().cpu()
        return {
            "extent": [cx - half, cx + half, cy - half, cy + half],
            "size": SURFACE_SIZE,
            "values": [round(v, 4) for v in values.tolist()],
        }

    # -- the loop ---------------------------------------------------------------

    def _set_trainable(self, optimizer: str) -> None:
        trained = set(self.recipe.nets_of(optimizer))
        for name, net in self.recipe.nets.items():
            net.requires_grad_(name in trained)
        for param in self.frozen:
            param.requires_grad_(False)

    def _params(self, optimizer: str):
        for name in self.recipe.nets_of(optimizer):
            yield from self.recipe.nets[name].parameters()

    def _diverged(self, why: str) -> TrainingDiverged:
        reason = (
            f"training diverged at step {self.step}: {why}; try a lower learning "
            "rate, grad_clip, or precision fp32"
        )
        self.emit(FailedEvent(step=self.step, reason=reason))
        return TrainingDiverged(reason)

    def run_phase(self, phase: Phase, stats: dict) -> None:
        opt = self.recipe.optimizers[phase.optimizer]
        scaler = self.scalers[phase.optimizer]
        self._set_trainable(phase.optimizer)
        opt.zero_grad(set_to_none=True)
        if phase.name == "D_main":
            self.images_seen += self.config.batch_size
        with autocast(self.device, self.config.precision):
            loss, figures = phase.run(self.feed.next(), self.step)
        scaler.scale(loss).backward()
        # Gradients averaged over ranks here, per phase, not by DDP: see
        # gan_core.distributed for why. The loss rides in the same all-reduce,
        # so every rank takes the same divergence decision.
        value = distributed.average_gradients(
            self._params(phase.optimizer), loss.detach()
        )
        if not math.isfinite(value):
            raise Diverging(f"{phase.name} loss is {value}")
        limit = self.config.loss_limit
        if limit > 0 and abs(value) > limit:
            raise Diverging(f"{phase.name} loss exploded to {value:.3g}")
        if self.config.grad_clip > 0:
            scaler.unscale_(opt)
            norm = torch.nn.utils.clip_grad_norm_(
                list(self._params(phase.optimizer)), self.config.grad_clip
            )
            if not torch.isfinite(norm).item() and not scaler.is_enabled():
                raise Diverging(f"{phase.name} gradient norm is {norm.item()}")
            figures[f"grad_norm_{phase.optimizer}"] = norm.item()
        scaler.step(opt)
        scaler.update()
        # Nothing reads these gradients again (the next phase of this optimizer
        # starts from None): freed now, they are not alive through the other
        # network's phases.
        opt.zero_grad(set_to_none=True)
        if phase.after is not None:
            phase.after()
        stats.update(figures)

    def train_step(self) -> tuple[dict, dict]:
        """One generator step (all due phases); returns (stats, extras)."""
        c, r = self.config, self.recipe
        extras = dict(r.on_step(self.step)) if r.on_step is not None else {}
        factor = lr_factor(c.lr_schedule, self.step, c.steps)
        for opt in r.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] * factor * self.lr_scale
        if c.lr_schedule != "constant":
            extras["lr_factor"] = factor
        stats: dict[str, float] = {}
        for phase in r.phases:
            if phase.due(self.step):
                for _ in range(phase.repeats):
                    self.run_phase(phase, stats)
        if self.ema is not None:
            update_ema(self.ema, r.nets[r.generator], self._ema_beta())
        self.step += 1
        return stats, extras

    def _ema_beta(self) -> float:
        """This step's EMA decay: by half-life in images when ema_kimg > 0
        (stylegan2-ada-pytorch), else the fixed per-step decay ``ema``."""
        c = self.config
        if c.ema_kimg > 0:
            seen = self.step * c.batch_size  # images before this step's update
            return ema_beta_for_images(c.ema_kimg, c.ema_rampup, seen, c.batch_size)
        return ema_beta(c.ema, self.step)

    def step_event(self, stats: dict, extras: dict, rate: float, eta) -> StepEvent:
        losses = {k[5:]: v for k, v in stats.items() if k.startswith("loss_")}
        other = {
            k: v
            for k, v in stats.items()
            if not k.startswith("loss_") and k not in ("d_real", "d_fake")
        }
        return StepEvent(
            step=self.step,
            total_steps=self.config.steps,
            losses=losses,
            d_real=stats.get("d_real"),
            d_fake=stats.get("d_fake"),
            images_per_sec=rate,
            eta_seconds=eta,
            extras={**other, **extras},
        )

    def loop(self) -> TrainResult:
        c = self.config
        t0 = time.perf_counter()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.emit(
            StartedEvent(
                family=self.family.name,
                total_steps=c.steps,
                start_step=self.step,
                device=str(self.device),
                config=c.to_dict(),
                init=self.init_report.to_dict() if self.init_report else {},
                world_size=self.world.size,
                note=self._resume_note(),
            )
        )
        for net in self.recipe.nets.values():
            net.train()
        window: deque[tuple[float, int]] = deque(maxlen=50)
        window.append((time.perf_counter(), self.images_seen))
        log_every = max(1, c.steps // METRIC_LINES)
        stats: dict = {}
        while True:
            asked = self.world.main and self.should_stop is not None
            stopping = distributed.decide(asked and bool(self.should_stop()))
            if stopping or self.step >= c.steps:
                try:
                    path = self.save()
                except Diverging as exc:  # back to healthy weights, then save
                    self.recover(str(exc))
                    continue
                if stopping:
                    reason = _stop_reason(self.should_stop)
                    self.emit(
                        StoppedEvent(
                            step=self.step, checkpoint=self.rel(path), reason=reason
                        )
                    )
                    return self._result("stopped", path, t0, stats)
                seconds = time.perf_counter() - t0
                self.emit(
                    FinishedEvent(
                        step=self.step, checkpoint=self.rel(path), seconds=seconds
                    )
                )
                return self._result("finished", path, t0, stats)
            try:
                stats, extras = self.train_step()
            except Diverging as exc:
                self.recover(str(exc))
                continue
            now = time.perf_counter()
            window.append((now, self.images_seen))
            (t_a, n_a), (t_b, n_b) = window[0], window[-1]
            rate = (n_b - n_a) / max(t_b - t_a, 1e-9)
            per_step = (t_b - t_a) / max(len(window) - 1, 1)
            eta = per_step * (c.steps - self.step)
            log = self.step % log_every == 0 or self.step == c.steps
            self.emit(self.step_event(stats, extras, rate, eta), log=log)
            # Every checkpoint has its grid too: the timeline shows them together.
            if (
                self.step % c.sample_every == 0
                or self.step % c.checkpoint_every == 0
                or self.step == c.steps
            ):
                try:
                    self.sample_on_main()
                except Diverging as exc:
                    self.recover(str(exc))
                    continue
            if self.step % c.checkpoint_every == 0 and self.step < c.steps:
                try:
                    self.save()
                except Diverging as exc:
                    self.recover(str(exc))

    def _resume_note(self) -> str | None:
        """What a resume at another world size means for reproducibility."""
        was, now = self.resumed_world, self.world.size
        if was is None or was == now:
            return None
        return (
            f"resumed on {now} process(es) from a checkpoint of {was}: the same "
            "steps, batch and schedule continue, but the run is not bit-exact "
            "(sums over the batch split differently)"
        )

    def _result(self, status: str, path: Path, t0: float, stats: dict) -> TrainResult:
        losses = {k: v for k, v in stats.items() if k.startswith("loss_")}
        return TrainResult(
            status, self.step, path, self.out_dir, time.perf_counter() - t0, losses
        )


def _as_tuple(value):
    """random.setstate needs tuples where a checkpoint may hold lists."""
    if isinstance(value, list | tuple):
        return tuple(_as_tuple(v) for v in value)
    return value


def _stop_reason(should_stop) -> str:
    reason = getattr(should_stop, "reason", "")
    return reason if isinstance(reason, str) and reason else "requested"


def train(
    config: TrainConfig,
    *,
    data: str | Path | Data,
    out_dir: Path,
    device: str = "auto",
    on_event: Callable[[Event], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = False,
    init_from: str | Path | None = None,
) -> TrainResult:
    """Train the family of ``config`` on ``data``, writing to ``out_dir``.

    data: an image folder (flat, class subfolders, or A/ and B/), a CSV of 2D
    points, "builtin:<name>", or a loaded ImageData/DomainData/PointData.
    on_event receives every gan_core.events event; should_stop is polled every
    step (true: checkpoint, emit ``stopped``, return status "stopped").
    resume continues exactly from out_dir/checkpoints/latest.pt (from a
    checkpoint of another world size: same schedule, not bit-exact).
    Under torchrun (WORLD_SIZE > 1) this joins the process group: each rank
    calls train() alike; rank 0 alone calls on_event and should_stop.
    init_from: a checkpoint of the same family and image shape to start from
    (weights and EMA; fresh optimizers, step 0; gan_core.transfer). A resume
    wins over it: a run that has its own checkpoint continues from that.
    Raises DataError, CheckpointError, DeviceError, or TrainingDiverged (after
    emitting ``failed``; no NaN checkpoint is written).
    """
    with distributed.session(device) as (_, torch_device):
        with distributed.main_first():  # rank 0 builds a folder's cache
            loaded = load_data(data, image_size=config.image_size, channels=None)
        trainer = Trainer(
            config, loaded, Path(out_dir), torch_device, on_event, should_stop
        )
        try:
            if resume:
                trainer.restore()
            elif init_from is not None:
                trainer.init_from(Path(init_from))
            return trainer.loop()
        finally:
            trainer.feed.close()  # stops a streamed feed's reader thread


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
