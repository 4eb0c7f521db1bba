"""What a family hands the trainer: networks, optimizers and loss phases.

The loop (gan_core.trainer) is generic; everything a family does differently
lives in its ``Recipe``: which networks exist (G and D, or G_AB, G_BA, D_A and
D_B), which optimizer trains which of them, and the ordered loss phases
(D main, D regularization, G main, G regularization), each run every
``interval`` steps and ``repeats`` times per step (n_critic). This follows the
phased loss of stylegan2-ada-pytorch's training loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

PhaseFn = Callable[["Batch", int], tuple[torch.Tensor, dict[str, float]]]


@dataclass
class Batch:
    """One draw of real data, already on the training device.

    real: images [N, C, H, W] in [-1, 1], points [N, 2], or a pair (a, b) of
    image batches for two-domain data. labels: int64 [N] class indices or None.
    """

    real: torch.Tensor | tuple[torch.Tensor, torch.Tensor]
    labels: torch.Tensor | None = None


@dataclass
class Phase:
    """One optimizer update: minimize ``run(batch, step)``'s loss with ``optimizer``.

    ``run`` returns (scalar loss, figures worth reporting: loss_d, d_real, ...).
    ``after`` runs after the optimizer step (WGAN's weight clipping).
    """

    name: str  # "D_main", "D_reg", "G_main", "G_reg", ...
    optimizer: str  # Key into Recipe.optimizers.
    run: PhaseFn
    interval: int = 1  # Run when step % interval == 0 (lazy regularization); 0 = never.
    repeats: int = 1  # Updates per step, each on a fresh batch (n_critic).
    after: Callable[[], None] | None = None

    def due(self, step: int) -> bool:
        return self.interval > 0 and step % self.interval == 0


@dataclass
class Recipe:
    """Everything the trainer needs from a family for one run."""

    nets: dict[str, nn.Module]  # Name -> network, all on the training device.
    optimizers: dict[str, torch.optim.Optimizer]  # Name -> optimizer.
    phases: list[Phase]  # In the order they run within a step.
    z_dim: int  # Size of the latent the sampler draws.
    # (generator, z [N, z_dim], labels [N] or None) -> images [N, C, H, W] or
    # points [N, 2]. Called with the EMA copy when there is one.
    generate: Callable[[nn.Module, torch.Tensor, torch.Tensor | None], torch.Tensor]
    generator: str = "G"  # The net that gets an EMA copy and makes samples.
    conditional: bool = False  # generate() takes class labels.
    # Optimizer -> the nets it trains; nets of other optimizers do not collect
    # weight gradients during its phases. Default: the net of the same name.
    owners: dict[str, list[str]] = field(default_factory=dict)
    # D's output for inputs x [N, 2] (labels None); point data draws its surface.
    discriminate: Callable[[torch.Tensor], torch.Tensor] | None = None
    # Extra objects with state_dict()/load_state_dict() saved in checkpoints
    # (for example a loss's running path-length mean).
    state: dict[str, Any] = field(default_factory=dict)
    # Called at the start of every step; returns figures for the step event's
    # extras (ProGAN: resolution and alpha) and may change the networks.
    on_step: Callable[[int], dict] | None = None
    # Called once with the EMA generator so schedules can drive it too.
    on_ema: Callable[[nn.Module], None] | None = None
    # Called once with the training data before the first step, before the EMA
    # copy is made (self-conditioning fits its clusters); must not use the
    # global RNG, so a resumed run stays exact.
    fit: Callable[[Any], None] | None = None
    # D's blocks from the image side (FreezeD, Mo et al. 2020): the trainer
    # keeps the weights of the first ``freeze_d`` of them. Empty: no FreezeD.
    d_blocks: list[nn.Module] = field(default_factory=list)
    # What torch.compile wraps when compile is on: the modules the loss calls
    # (StyleGAN2's calls G.mapping and G.synthesis, never G). Empty: every net.
    compiled: list[nn.Module] = field(default_factory=list)

    def nets_of(self, optimizer: str) -> list[str]:
        return self.owners.get(optimizer, [optimizer])


def phases_from_loss(loss: Any, repeats: dict[str, int] | None = None) -> list[Phase]:
    """Phases for a loss object with ``phase_intervals()`` and
    ``run_phase(phase, real, labels, step)`` (gan_core.losses.*): a phase named
    "G_..." uses optimizer "G", "D_..." optimizer "D"."""
    repeats = repeats or {}
    phases = []
    for name, interval in loss.phase_intervals().items():

        def run(batch: Batch, step: int, _name: str = name):
            return loss.run_phase(_name, batch.real, batch.labels, step)

        phases.append(
            Phase(
                name=name,
                optimizer=name.split("_")[0],
                run=run,
                interval=interval,
                repeats=repeats.get(name, 1),
            )
        )
    return phases


def make_optimizer(
    name: str, params, lr: float, betas: tuple[float, float]
) -> torch.optim.Optimizer:
    """Adam(lr, betas) or RMSprop(lr) (WGAN, Arjovsky 2017 section 3)."""
    params = list(params)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    # The same Adam update in one fused kernel per step instead of about ten
    # small ops per parameter tensor; torch has it for CPU and CUDA floats.
    fused = bool(params) and all(
        p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params
    )
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused or None)
