"""Losses of the classic families and the loss object that runs them in phases.

Non-saturating (Goodfellow 2014, section 3: G maximizes log D(G(z))), hinge
(Lim and Ye 2017; Miyato 2018 eq. 16-17), Wasserstein (Arjovsky 2017 eq. 3),
the gradient penalty (Gulrajani 2017 eq. 3) and weight clipping (Arjovsky 2017,
Algorithm 1 line 7). All take raw discriminator outputs (logits / scores).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from gan_core import distributed
from gan_core.losses.eager import twice_differentiable
from gan_core.recipe import Batch, Phase

LOSSES = ("ns", "hinge", "wasserstein")


def ns_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """-E[log sigmoid(D(x))] - E[log(1 - sigmoid(D(G(z))))], written with softplus."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def ns_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """-E[log sigmoid(D(G(z)))]: the non-saturating generator loss."""
    return F.softplus(-fake).mean()


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def hinge_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]."""
    return -fake.mean()


def wasserstein_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[D(G(z))] - E[D(x)]: the critic maximizes the gap."""
    return fake.mean() - real.mean()


def wasserstein_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]."""
    return -fake.mean()


D_LOSSES = {"ns": ns_d_loss, "hinge": hinge_d_loss, "wasserstein": wasserstein_d_loss}
G_LOSSES = {"ns": ns_g_loss, "hinge": hinge_g_loss, "wasserstein": wasserstein_g_loss}


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],  # x -> [N] scores.
    real: torch.Tensor,  # [N, ...] any shape (images or points).
    fake: torch.Tensor,  # Same shape as real.
    eps: torch.Tensor | None = None,  # [N] mixing weights; uniform when None.
) -> torch.Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = eps x + (1 - eps) G(z)."""
    if eps is None:
        eps = distributed.rand(real.shape[0], device=real.device)
    eps = eps.to(real.dtype).view(-1, *([1] * (real.dim() - 1)))
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    with twice_differentiable():  # a compiled critic's backward is first-order
        scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """Clamp every trained parameter of ``module`` to [-c, c] (WGAN's Lipschitz
    bound); FreezeD's frozen ones (requires_grad off) keep their weights."""
    for p in module.parameters():
        if p.requires_grad:
            p.clamp_(-c, c)


class ClassicLoss:
    """The D and G phases shared by gan, dcgan, wgan, wgan-gp, sngan and cgan.

    One D phase (``n_critic`` repeats, optional gradient penalty, optional
    clipping after each update) then one G phase, every step.
    """

    def __init__(
        self,
        G: nn.Module,  # (z, labels) -> fake samples.
        D: nn.Module,  # (x, labels) -> [N] raw scores.
        z_dim: int,  # Latent size.
        loss: str = "ns",  # One of LOSSES.
        n_critic: int = 1,  # D updates per G update.
        gp_lambda: float = 0.0,  # > 0: WGAN-GP penalty weight.
        clip_value: float = 0.0,  # > 0: WGAN weight clipping.
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,  # DiffAugment.
        conditional: bool = False,  # Feed the batch's labels to G and D.
        # Labels for a real batch when the data has none (self-conditioning:
        # each real sample's cluster); G and D get them as a cGAN gets classes.
        labeler: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        self.G, self.D, self.z_dim, self.loss = G, D, z_dim, loss
        self.n_critic, self.gp_lambda, self.clip_value = n_critic, gp_lambda, clip_value
        self.augment, self.conditional = augment, conditional
        self.labeler = labeler

    def _labels(self, batch: Batch) -> torch.Tensor | None:
        if self.conditional:
            return batch.labels
        return self.labeler(batch.real) if self.labeler is not None else None

    def _d(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if self.augment is not None:
            x = self.augment(x)
        return self.D(x, labels).float()

    def _fake(self, n: int, labels, like: torch.Tensor) -> torch.Tensor:
        z = distributed.randn(n, self.z_dim, device=like.device)
        return self.G(z, labels)

    def _report(self, scores: torch.Tensor) -> float:
        """Mean D output as people read it: a probability for the logistic loss."""
        if self.loss == "ns":
            scores = torch.sigmoid(scores)
        return scores.mean().item()

    def d_main(self, batch: Batch, step: int):
        real, labels = batch.real, self._labels(batch)
        with torch.no_grad():
            fake = self._fake(real.shape[0], labels, real)
        real_scores, fake_scores = self._d(real, labels), self._d(fake, labels)
        loss = D_LOSSES[self.loss](real_scores, fake_scores)
        stats = {
            "loss_d": loss.item(),
            "d_real": self._report(real_scores),
            "d_fake": self._report(fake_scores),
        }
        if hasattr(self.augment, "observe"):  # ADA: p follows D's overfitting
            self.augment.observe(real_scores)
            stats["ada_p"] = self.augment.p
        if self.gp_lambda > 0:
            gp = gradient_penalty(lambda x: self._d(x, labels), real, fake)
            loss = loss + self.gp_lambda * gp
            stats["gp"] = gp.item()
        return loss, stats

    def g_main(self, batch: Batch, step: int):
        real, labels = batch.real, self._labels(batch)
        fake_scores = self._d(self._fake(real.shape[0], labels, real), labels)
        loss = G_LOSSES[self.loss](fake_scores)
        return loss, {"loss_g": loss.item()}

    def phases(self) -> list[Phase]:
        clip = None
        if self.clip_value > 0:

            def clip():
                clip_weights(self.D, self.clip_value)

        return [
            Phase("D_main", "D", self.d_main, repeats=self.n_critic, after=clip),
            Phase("G_main", "G", self.g_main),
        ]
