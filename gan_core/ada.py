"""Adaptive discriminator augmentation (Karras et al. 2020, "Training Generative
Adversarial Networks with Limited Data").

D sees real and generated images augmented with probability ``p``, and ``p``
follows how much D overfits: every ``interval`` D steps the overfitting
heuristic r_t = E[sign(D(real))] (section 3) is compared with its target (0.6
in the paper); p moves up when r_t is above it and down when below, fast enough
to go from 0 to 1 in ``speed_kimg`` thousand real images (500 in the paper).

The transforms are this project's differentiable ones (gan_core.augment:
colour, translation, cutout), each applied to a sample with probability p: the
paper's full pipeline (blit, geometric, colour, filter, noise) is larger, but
the control loop is the same, and augmenting with p below about 0.8 does not
leak into the generated images (section 2.2).
"""

from __future__ import annotations

import torch

from gan_core.augment import OPS

DEFAULT_POLICY = "color,translation,cutout"


class AdaptiveAugment:
    """A callable augmentation whose strength ``p`` adapts to D's overfitting.

    Call it on D's inputs (real and fake alike); call ``observe`` with D's raw
    scores on the real batch after each D step. Its ``state_dict`` keeps p and
    the pending statistics, so a resumed run continues with the same p.
    """

    def __init__(
        self,
        policy: str = DEFAULT_POLICY,  # gan_core.augment operations to apply.
        target: float = 0.6,  # Wanted E[sign(D(real))] (paper: 0.6).
        speed_kimg: float = 500.0,  # Thousand images for p to go 0 -> 1.
        interval: int = 4,  # D steps between adjustments (paper: 4).
    ):
        self.names = [p.strip() for p in policy.split(",") if p.strip()]
        unknown = [name for name in self.names if name not in OPS]
        if unknown:
            raise ValueError(f"unknown augmentation '{unknown[0]}'")
        self.target, self.speed_kimg, self.interval = target, speed_kimg, interval
        self.p = 0.0
        self._sign_sum = 0.0
        self._seen = 0
        self._steps = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or self.p <= 0:
            return x
        n = x.shape[0]
        for name in self.names:
            for op in OPS[name]:
                chosen = torch.rand(n, 1, 1, 1, device=x.device) < self.p
                x = torch.where(chosen, op(x), x)
        return x

    @torch.no_grad()
    def observe(self, real_scores: torch.Tensor) -> None:
        """Accumulate sign(D(real)); every ``interval`` calls, adjust p."""
        self._sign_sum += float(torch.sign(real_scores.float()).sum())
        self._seen += real_scores.numel()
        self._steps += 1
        if self._steps % self.interval:
            return
        r_t = self._sign_sum / max(self._seen, 1)
        step = self._seen / (self.speed_kimg * 1000)
        direction = 1.0 if r_t > self.target else -1.0
        self.p = min(1.0, max(0.0, self.p + direction * step))
        self._sign_sum, self._seen = 0.0, 0

    def state_dict(self) -> dict:
        return {
            "p": self.p,
            "sign_sum": self._sign_sum,
            "seen": self._seen,
            "steps": self._steps,
        }

    def load_state_dict(self, state: dict) -> None:
        self.p = float(state["p"])
        self._sign_sum = float(state["sign_sum"])
        self._seen = int(state["seen"])
        self._steps = int(state["steps"])


def make_d_augment(policy: str, ada_target: float, ada_kimg: float):
    """D's input augmentation from the settings: adaptive when ``ada_target``
    is above 0 (over ``policy``, or all operations when it is empty), fixed
    DiffAugment when only ``policy`` is set, else None."""
    from gan_core.augment import make_augment

    if ada_target > 0:
        return AdaptiveAugment(policy or DEFAULT_POLICY, ada_target, ada_kimg)
    return make_augment(policy)


def ada_state(augment) -> dict:
    """The recipe state entry that keeps ADA's p in checkpoints (empty if off)."""
    return {"ada": augment} if isinstance(augment, AdaptiveAugment) else {}
