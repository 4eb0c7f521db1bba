"""CycleGAN's losses (Zhu et al. 2017, section 3 and 4).

Least-squares adversarial loss (Mao et al. 2017), used in place of the negative
log likelihood "for more stable training" (section 4); cycle consistency (eq. 2)
with lambda = 10; identity mapping loss (section 5.2) at 0.5 lambda.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def lsgan_d_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """Discriminator: 0.5 (E[(D(y) - 1)^2] + E[D(G(x))^2]).

    The 0.5 is the authors' "divide the objective by 2 while optimizing D, which
    slows down the rate at which D learns relative to G".
    """
    return 0.5 * ((real_out - 1).square().mean() + fake_out.square().mean())


def lsgan_g_loss(fake_out: torch.Tensor) -> torch.Tensor:
    """Generator: E[(D(G(x)) - 1)^2]."""
    return (fake_out - 1).square().mean()


def cycle_loss(
    real: torch.Tensor, reconstructed: torch.Tensor, weight: float = 10.0
) -> torch.Tensor:
    """lambda E[||F(G(x)) - x||_1] for one direction (eq. 2, one of its two terms)."""
    return weight * F.l1_loss(reconstructed, real)


def identity_loss(
    real: torch.Tensor, mapped: torch.Tensor, weight: float = 5.0
) -> torch.Tensor:
    """weight E[||G(y) - y||_1]: a target-domain image should pass through unchanged."""
    return weight * F.l1_loss(mapped, real)


class CycleGANLoss:
    """CycleGAN's objective (eq. 3 plus identity) in phases ``G_main``, ``D_main``.

    ``real`` is a pair (a, b) of unpaired batches. The G phase keeps its
    translations so the D phase that follows judges the same images, fed through
    one history pool per domain. The first ``PREVIEW`` images of each domain it
    sees are kept (and checkpointed) as the fixed inputs of sample grids.
    """

    PREVIEW = 8

    def __init__(
        self,
        G,  # CycleGenerators (g_ab, g_ba).
        D,  # CycleDiscriminators (d_a, d_b).
        cycle_weight: float = 10.0,  # lambda (section 4).
        identity_weight: float = 0.5,  # Identity loss as a fraction of lambda.
        pool_size: int = 50,  # History pool per domain (section 4).
    ):
        from gan_core.history_pool import HistoryPool

        self.G, self.D = G, D
        self.cycle_weight, self.identity_weight = cycle_weight, identity_weight
        self.pool_a, self.pool_b = HistoryPool(pool_size), HistoryPool(pool_size)
        self._fakes: tuple[torch.Tensor, torch.Tensor] | None = None
        self.preview_a = self.preview_b = torch.empty(0)

    def _remember(self, a: torch.Tensor, b: torch.Tensor) -> None:
        k = self.PREVIEW
        if self.preview_a.shape[0] < k:
            self.preview_a = torch.cat([self.preview_a.to(a), a.detach()])[:k]
        if self.preview_b.shape[0] < k:
            self.preview_b = torch.cat([self.preview_b.to(b), b.detach()])[:k]

    @torch.no_grad()
    def preview(self, G) -> torch.Tensor:
        """Rows of a sample grid: A, G(A), B, F(B) for the kept inputs.

        Each row holds ``PREVIEW`` images (repeating when fewer were kept).
        Raises ValueError before any batch was seen.
        """
        if self.preview_a.numel() == 0:
            raise ValueError("cyclegan translates images: use translate()")
        k = self.PREVIEW
        a = self.preview_a[torch.arange(k) % self.preview_a.shape[0]]
        b = self.preview_b[torch.arange(k) % self.preview_b.shape[0]]
        return torch.cat([a, G.g_ab(a), b, G.g_ba(b)])

    def state_dict(self) -> dict:
        """Pools and preview inputs, for exact resume."""
        return {
            "pool_a": self.pool_a.state_dict(),
            "pool_b": self.pool_b.state_dict(),
            "preview_a": self.preview_a,
            "preview_b": self.preview_b,
        }

    def load_state_dict(self, state: dict) -> None:
        self.pool_a.load_state_dict(state["pool_a"])
        self.pool_b.load_state_dict(state["pool_b"])
        self.preview_a, self.preview_b = state["preview_a"], state["preview_b"]

    def phase_intervals(self) -> dict[str, int]:
        """Phase name -> run every k steps, in order (G first, as the authors do)."""
        return {"G_main": 1, "D_main": 1}

    def run_phase(self, phase, real, labels=None, step: int = 0):
        """The scalar to minimize in ``phase`` and numbers worth reporting."""
        a, b = real
        self._remember(a, b)
        g_ab, g_ba, d_a, d_b = self.G.g_ab, self.G.g_ba, self.D.d_a, self.D.d_b
        if phase == "G_main":
            fake_b, fake_a = g_ab(a), g_ba(b)
            adv = lsgan_g_loss(d_b(fake_b)) + lsgan_g_loss(d_a(fake_a))
            cyc = cycle_loss(a, g_ba(fake_b), self.cycle_weight) + cycle_loss(
                b, g_ab(fake_a), self.cycle_weight
            )
            loss = adv + cyc
            stats = {"loss_g": adv.item(), "loss_cycle": cyc.item()}
            if self.identity_weight > 0:
                w = self.identity_weight * self.cycle_weight
                idt = identity_loss(b, g_ab(b), w) + identity_loss(a, g_ba(a), w)
                loss = loss + idt
                stats["loss_identity"] = idt.item()
            self._fakes = (fake_a.detach(), fake_b.detach())
            return loss, stats
        if phase == "D_main":
            if self._fakes is None:
                with torch.no_grad():
                    self._fakes = (g_ba(b), g_ab(a))
            fake_a, fake_b = self._fakes
            self._fakes = None
            out_real_a, out_real_b = d_a(a), d_b(b)
            out_fake_a = d_a(self.pool_a.query(fake_a))
            out_fake_b = d_b(self.pool_b.query(fake_b))
            loss_a = lsgan_d_loss(out_real_a, out_fake_a)
            loss_b = lsgan_d_loss(out_real_b, out_fake_b)
            return loss_a + loss_b, {
                "loss_d": (loss_a + loss_b).item(),
                "d_real": 0.5 * (out_real_a.mean() + out_real_b.mean()).item(),
                "d_fake": 0.5 * (out_fake_a.mean() + out_fake_b.mean()).item(),
            }
        raise ValueError(f"unknown phase {phase!r}")
