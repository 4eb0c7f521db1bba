"""pix2pix's objective (Isola et al. 2017, section 3.1, eq. 4).

G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G), lambda = 100 (section 4.2):
the conditional GAN loss with the discriminator seeing the input beside the real
or generated output, as a sum of sigmoid cross-entropies per patch logit, plus
the L1 distance of the output to its paired target. As in the paper (section
3.3) the generator maximizes log D(x, G(x)) instead of minimizing
log(1 - D(x, G(x))), and D's objective is halved "to slow down the rate at
which D learns relative to G".
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def cgan_d_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """0.5 (BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)), each the mean over patches."""
    real = F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
    fake = F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out))
    return 0.5 * (real + fake)


def cgan_g_loss(fake_out: torch.Tensor) -> torch.Tensor:
    """BCE(D(x, G(x)), 1) = -E[log sigmoid(D(x, G(x)))] (non-saturating)."""
    return F.binary_cross_entropy_with_logits(fake_out, torch.ones_like(fake_out))


def l1_loss(target: torch.Tensor, output: torch.Tensor, weight: float = 100.0):
    """lambda E[||y - G(x)||_1] (eq. 3), the mean over pixels and channels."""
    return weight * F.l1_loss(output, target)


class Pix2PixLoss:
    """pix2pix in phases ``G_main`` then ``D_main`` (the authors' order).

    ``real`` is a pair (a, b) of paired batches: b[i] is the target of a[i]. The
    G phase keeps its outputs so the D phase judges the same images; the first
    ``PREVIEW`` pairs seen are kept (and checkpointed) for sample grids.
    """

    PREVIEW = 8

    def __init__(
        self,
        G,  # PairedTranslator (A -> B).
        D,  # PatchDiscriminator on C_a + C_b channels.
        l1_weight: float = 100.0,  # lambda (section 4.2).
    ):
        self.G, self.D, self.l1_weight = G, D, l1_weight
        self._fake: torch.Tensor | None = None
        self.preview_a = self.preview_b = torch.empty(0)

    def _remember(self, a: torch.Tensor, b: torch.Tensor) -> None:
        k = self.PREVIEW
        if self.preview_a.shape[0] < k:
            self.preview_a = torch.cat([self.preview_a.to(a), a.detach()])[:k]
            self.preview_b = torch.cat([self.preview_b.to(b), b.detach()])[:k]

    @torch.no_grad()
    def preview(self, G) -> torch.Tensor:
        """Rows of a sample grid: A, G(A), B for the kept pairs (``PREVIEW``
        each, repeating when fewer were kept). ValueError before any batch."""
        if self.preview_a.numel() == 0:
            raise ValueError("pix2pix translates images: use translate()")
        idx = torch.arange(self.PREVIEW) % self.preview_a.shape[0]
        a, b = self.preview_a[idx], self.preview_b[idx]
        return torch.cat([a, G(a), b])

    def state_dict(self) -> dict:
        return {"preview_a": self.preview_a, "preview_b": self.preview_b}

    def load_state_dict(self, state: dict) -> None:
        self.preview_a, self.preview_b = state["preview_a"], state["preview_b"]

    def phase_intervals(self) -> dict[str, int]:
        return {"G_main": 1, "D_main": 1}

    def run_phase(self, phase, real, labels=None, step: int = 0):
        """The scalar to minimize in ``phase`` and numbers worth reporting."""
        a, b = real
        self._remember(a, b)
        if phase == "G_main":
            fake = self.G(a)
            adv = cgan_g_loss(self.D(torch.cat([a, fake], 1)))
            l1 = l1_loss(b, fake, self.l1_weight)
            self._fake = fake.detach()
            return adv + l1, {"loss_g": adv.item(), "loss_l1": l1.item()}
        if phase == "D_main":
            fake = self._fake
            if fake is None:
                with torch.no_grad():
                    fake = self.G(a)
            self._fake = None
            out_real = self.D(torch.cat([a, b], 1))
            out_fake = self.D(torch.cat([a, fake], 1))
            loss = cgan_d_loss(out_real, out_fake)
            return loss, {
                "loss_d": loss.item(),
                "d_real": out_real.mean().item(),
                "d_fake": out_fake.mean().item(),
            }
        raise ValueError(f"unknown phase {phase!r}")
