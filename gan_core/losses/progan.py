"""ProGAN's loss: WGAN-GP (Gulrajani et al. 2017) plus a drift term.

The Wasserstein losses and the gradient penalty are the classic families' own
(gan_core.losses.classic); this module adds the drift and the growing schedule.

Karras et al. 2018, appendix A.1: L_D = D(G(z)) - D(x) + lambda GP +
epsilon_drift D(x)^2 with lambda = 10 and epsilon_drift = 0.001; the drift keeps
the critic's output near zero so that it cannot wander off.
"""

from __future__ import annotations

import torch

from gan_core import distributed
from gan_core.losses.classic import (
    gradient_penalty,
    wasserstein_d_loss,
    wasserstein_g_loss,
)


def wgan_drift_d_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor, drift: float = 0.001
) -> torch.Tensor:
    """Critic loss without the penalty: E[D(G(z))] - E[D(x)] + drift E[D(x)^2]."""
    return (
        wasserstein_d_loss(real_scores, fake_scores)
        + drift * real_scores.square().mean()
    )


def progan_schedule(
    step: int,  # Training step (0-based).
    num_stages: int,  # Stages from 4x4 to the final size.
    phase_steps: int,  # Steps of each fade-in and of each stabilization.
) -> tuple[int, float]:
    """(stage, alpha) at ``step`` (section 3 and appendix A.1).

    4x4 trains for one phase, then every further resolution fades in over one
    phase (alpha 0 -> 1) and stabilizes for one phase at alpha 1; after the last
    stage is stable it stays there.
    """
    if phase_steps <= 0:
        raise ValueError("phase_steps must be positive")
    k = step // phase_steps  # 0 stable 4x4, 1 fade 8x8, 2 stable 8x8, ...
    if k >= 2 * num_stages - 1:
        return num_stages - 1, 1.0
    stage = (k + 1) // 2
    if k % 2 == 1:
        return stage, (step - k * phase_steps) / phase_steps
    return stage, 1.0


def auto_phase_steps(total_steps: int, num_stages: int) -> int:
    """Split a run evenly over its 2 S - 1 phases, so it ends at full size."""
    return max(1, total_steps // (2 * num_stages - 1))


def fade_reals(real: torch.Tensor, res: int, alpha: float) -> torch.Tensor:
    """Real images as the growing networks see them (section 3, "transition").

    At the stage's resolution; during a fade-in, blended with the previous
    resolution upsampled, with weight alpha on the new one, mirroring G's output.
    """
    from gan_core.nets.progan import downsample, fade, upsample

    x = downsample(real, res)
    if alpha < 1.0 and res > 4:
        low = upsample(downsample(real, res // 2), res)
        x = fade(low, x, alpha)
    return x


class ProGANLoss:
    """WGAN-GP with drift on growing networks; phases ``D_main`` and ``G_main``.

    ``set_step`` moves every network it knows (G, D and any extra copies such as
    an EMA generator) to the schedule's stage and alpha.
    """

    def __init__(
        self,
        G,  # ProGenerator.
        D,  # ProDiscriminator.
        phase_steps: int,  # Steps per fade-in and per stabilization phase.
        gp_weight: float = 10.0,  # lambda (Gulrajani 2017; ProGAN appendix A.1).
        drift: float = 0.001,  # epsilon_drift (ProGAN appendix A.1).
        augment=None,  # Optional differentiable augmentation for D's inputs.
    ):
        self.G, self.D = G, D
        self.followers: list = []  # Extra networks that follow the schedule.
        self.phase_steps, self.gp_weight, self.drift = phase_steps, gp_weight, drift
        self.augment = augment
        self.stage, self.alpha = 0, 1.0

    def phase_intervals(self) -> dict[str, int]:
        """Phase name -> run every k steps, in order (one critic step per G step)."""
        return {"D_main": 1, "G_main": 1}

    def set_step(self, step: int) -> dict[str, float]:
        """Apply the schedule at ``step``; returns {"resolution", "alpha"}."""
        self.stage, self.alpha = progan_schedule(
            step, self.G.num_stages, self.phase_steps
        )
        for net in [self.G, self.D, *self.followers]:
            net.set_progress(self.stage, self.alpha)
        return {"resolution": 4 * 2**self.stage, "alpha": self.alpha}

    def _critic(self, img: torch.Tensor) -> torch.Tensor:
        if self.augment is not None:
            img = self.augment(img)
        return self.D(img)

    def run_phase(self, phase, real, labels=None, step: int = 0):
        """The scalar to minimize in ``phase`` and numbers worth reporting."""
        n = real.shape[0]
        z = distributed.randn(n, self.G.z_dim, device=real.device)
        progress = {"resolution": 4 * 2**self.stage, "alpha": self.alpha}
        if phase == "G_main":
            loss = wasserstein_g_loss(self._critic(self.G(z, full_size=False)))
            return loss, {"loss_g": loss.item(), **progress}
        if phase == "D_main":
            reals = fade_reals(real, 4 * 2**self.stage, self.alpha)
            with torch.no_grad():
                fake = self.G(z, full_size=False)
            real_scores, fake_scores = self._critic(reals), self._critic(fake)
            gp = gradient_penalty(self._critic, reals, fake)
            loss = wgan_drift_d_loss(real_scores, fake_scores, self.drift)
            loss = loss + self.gp_weight * gp
            return loss, {
                "loss_d": loss.item(),
                "d_real": real_scores.mean().item(),
                "d_fake": fake_scores.mean().item(),
                "gp": gp.item(),
                **progress,
            }
        raise ValueError(f"unknown phase {phase!r}")
