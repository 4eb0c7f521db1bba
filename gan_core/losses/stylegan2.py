"""StyleGAN2's loss (Karras et al. 2020) and the phase object that runs it.

The non-saturating logistic loss is the classic families' (ns_d_loss and
ns_g_loss); this module adds the R1 penalty (Mescheder et al. 2018, eq. 9),
path-length regularization (StyleGAN2 section 3.2, eq. 4), style-mixing
regularization and the lazy-regularization bookkeeping (section 3.1).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_core import distributed
from gan_core.losses.classic import ns_d_loss, ns_g_loss
from gan_core.losses.eager import twice_differentiable


def r1_penalty(real_img: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """Squared gradient norm of D at the real images, one value per sample.

    R1 (Mescheder 2018, eq. 9) is gamma / 2 times this. ``real_img`` must have had
    ``requires_grad_()`` before D was applied. Returns [N].
    """
    (grad,) = torch.autograd.grad(
        outputs=real_logits.sum(), inputs=real_img, create_graph=True
    )
    return grad.square().sum(dim=(1, 2, 3))


class PathLengthRegularizer(nn.Module):
    """Path-length penalty E[(||J_w^T y||_2 - a)^2] (StyleGAN2 eq. 4).

    y is a random image with N(0, 1) pixels scaled by 1 / sqrt(H W), so the norm
    does not depend on resolution; a is a running mean of the lengths with decay
    0.01 (a buffer, so it is saved and restored with the loss state).
    """

    def __init__(self, decay: float = 0.01):
        super().__init__()
        self.decay = decay
        self.register_buffer("pl_mean", torch.zeros([]))

    def forward(self, img: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
        """img: [N, C, H, W] made from ws: [N, num_ws, w_dim]. Returns [N] penalties."""
        h, w = img.shape[-2:]
        noise = distributed.randn_like(img) / math.sqrt(h * w)
        (grad,) = torch.autograd.grad(
            outputs=(img * noise).sum(), inputs=ws, create_graph=True
        )
        lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()  # [N]
        with torch.no_grad():
            # fp32 whatever the autocast dtype of the lengths (bf16, fp16).
            batch_mean = distributed.mean(lengths.detach().float().mean())
            self.pl_mean.copy_(self.pl_mean.lerp(batch_mean, self.decay))
        return (lengths.float() - self.pl_mean).square()


def lazy_due(step: int, interval: int) -> bool:
    """Whether a lazy regularizer runs at ``step``: every ``interval`` steps from 0.

    An interval of 0 or less turns the regularizer off.
    """
    return interval > 0 and step % interval == 0


def lazy_adam(lr: float, betas: tuple[float, float], interval: int) -> tuple:
    """Adam settings that compensate for lazy regularization (section 3.1).

    With the penalty every k steps the optimizer takes k + 1 steps per k images'
    worth of main updates, so lr and the betas are scaled by c = k / (k + 1).
    Returns (lr, betas).
    """
    if interval <= 0:
        return lr, betas
    c = interval / (interval + 1)
    return lr * c, (betas[0] ** c, betas[1] ** c)


class StyleGAN2Loss(nn.Module):
    """StyleGAN2's training objective split into the phases the loop runs.

    ``G_main`` and ``D_main`` run every step; ``G_reg`` (path length) every
    ``pl_interval`` steps and ``D_reg`` (R1) every ``r1_interval`` steps, each
    multiplied by its interval so the expected gradient matches an every-step
    penalty (section 3.1). A module, so the path-length mean is checkpointed.
    """

    def __init__(
        self,
        G: nn.Module,  # StyleGenerator (mapping + synthesis).
        D: nn.Module,  # StyleDiscriminator.
        r1_gamma: float = 10.0,  # R1 weight gamma (config F).
        r1_interval: int = 16,  # Lazy R1: every 16 minibatches.
        pl_weight: float = 2.0,  # Path-length weight (section 3.2).
        pl_interval: int = 4,  # Lazy path length: every 4 minibatches.
        pl_batch_shrink: int = 2,  # The penalty uses batch / 2 samples.
        style_mixing_prob: float = 0.9,  # Mixing regularization (StyleGAN 3.1).
        augment=None,  # Optional differentiable augmentation for D's inputs.
        conditional: bool = False,  # Pass class labels to G and D?
    ):
        super().__init__()
        # In lists so they are not submodules: the loss's state is only its own.
        self.G, self.D = [G], [D]
        self.conditional = conditional
        self.r1_gamma, self.r1_interval = r1_gamma, r1_interval
        self.pl_weight, self.pl_interval = pl_weight, pl_interval
        self.pl_batch_shrink = pl_batch_shrink
        self.style_mixing_prob = style_mixing_prob
        self.augment = augment
        self.path_length = PathLengthRegularizer()

    def phase_intervals(self) -> dict[str, int]:
        """Phase name -> run every k steps (0 = never), in the order to run them."""
        return {
            "G_main": 1,
            "G_reg": self.pl_interval if self.pl_weight > 0 else 0,
            "D_main": 1,
            "D_reg": self.r1_interval if self.r1_gamma > 0 else 0,
        }

    def _disc(self, img: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        if self.augment is not None:
            img = self.augment(img)
        return self.D[0](img, c)

    def generate_ws(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Map z to ws with style-mixing regularization: with probability p, the
        layers from a random cutoff on take the styles of a second latent.

        A training-mode G tracks w_avg here, in every phase, as the reference's
        run_G does; the mixing latent does not count (skip_w_avg_update)."""
        G = self.G[0]
        ws = G.mapping(z, c)
        if (
            self.style_mixing_prob > 0
            and torch.rand([]).item() < self.style_mixing_prob
        ):
            cutoff = int(torch.randint(1, ws.shape[1], []).item())
            ws2 = G.mapping(distributed.randn_like(z), c, update_w_avg=False)
            ws = torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], dim=1)
        return ws

    def _latents(self, n: int, like: torch.Tensor) -> torch.Tensor:
        return distributed.randn(n, self.G[0].z_dim, device=like.device)

    def run_phase(
        self,
        phase: str,  # "G_main", "G_reg", "D_main" or "D_reg".
        real: torch.Tensor,  # [N, C, H, W] real images in [-1, 1].
        labels: torch.Tensor | None,  # [N] class labels or None.
        step: int = 0,  # Unused; phases are scheduled by the caller.
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The scalar to minimize in ``phase`` and numbers worth reporting."""
        G, n = self.G[0], real.shape[0]
        labels = labels if self.conditional else None
        if phase == "G_main":
            ws = self.generate_ws(self._latents(n, real), labels)
            fake_logits = self._disc(G.synthesis(ws), labels)
            loss = ns_g_loss(fake_logits)
            return loss, {"loss_g": loss.item()}
        if phase == "G_reg":
            m = max(1, n // self.pl_batch_shrink)
            c = labels[:m] if labels is not None else None
            with twice_differentiable():
                ws = self.generate_ws(self._latents(m, real), c)
                penalty = self.path_length(G.synthesis(ws), ws).mean()
            loss = penalty * self.pl_weight * self.pl_interval
            return loss, {
                "pl_penalty": penalty.item(),
                "pl_mean": self.path_length.pl_mean.item(),
            }
        if phase == "D_main":
            with torch.no_grad():
                fake = G.synthesis(self.generate_ws(self._latents(n, real), labels))
            fake_logits = self._disc(fake, labels)
            real_logits = self._disc(real, labels)
            loss = ns_d_loss(real_logits, fake_logits)
            stats = {
                "loss_d": loss.item(),
                "d_real": torch.sigmoid(real_logits).mean().item(),
                "d_fake": torch.sigmoid(fake_logits).mean().item(),
            }
            if hasattr(self.augment, "observe"):  # ADA: p follows D's overfitting
                self.augment.observe(real_logits)
                stats["ada_p"] = self.augment.p
            return loss, stats
        if phase == "D_reg":
            real = real.detach().requires_grad_(True)
            with twice_differentiable():
                real_logits = self._disc(real, labels)
            penalty = r1_penalty(real, real_logits).mean()
            loss = penalty * (self.r1_gamma / 2) * self.r1_interval
            return loss, {"r1_penalty": penalty.item()}
        raise ValueError(f"unknown phase {phase!r}")
