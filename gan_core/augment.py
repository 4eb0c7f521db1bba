"""Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training", section 3): the same random colour, translation
and cutout transforms are applied to real and fake images before D, in both the
D and G steps, so gradients flow through them to G."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from gan_core import distributed


def rand_brightness(x: torch.Tensor) -> torch.Tensor:
    """Add U(-0.5, 0.5) per sample."""
    shift = distributed.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype)
    return x + (shift - 0.5)


def rand_saturation(x: torch.Tensor) -> torch.Tensor:
    """Scale the distance from the per-pixel channel mean by U(0, 2)."""
    mean = x.mean(dim=1, keepdim=True)
    factor = distributed.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) * 2
    return (x - mean) * factor + mean


def rand_contrast(x: torch.Tensor) -> torch.Tensor:
    """Scale the distance from the image mean by U(0.5, 1.5)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    factor = distributed.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5
    return (x - mean) * factor + mean


def rand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift by up to ``ratio`` of the side, padding with zeros (Zhao 2020: 1/8)."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = distributed.randint(-sh, sh + 1, n, 1, 1, device=x.device)
    dx = distributed.randint(-sw, sw + 1, n, 1, 1, device=x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1) + dy  # rows to read
    xs = torch.arange(w, device=x.device).view(1, 1, w) + dx
    padded = F.pad(x, (1, 1, 1, 1))  # index 0 and w+1 read zeros
    ys = (ys + 1).clamp(0, h + 1).expand(n, h, w)
    xs = (xs + 1).clamp(0, w + 1).expand(n, h, w)
    flat = (ys * (w + 2) + xs).view(n, 1, h * w).expand(-1, x.shape[1], -1)
    out = padded.flatten(2).gather(2, flat)
    return out.view_as(x)


def rand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of ``ratio`` times the side at a random place (Zhao 2020: 1/2).

    The square's centre is uniform over the image, so it may hang over an edge.
    """
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = distributed.randint(0, h, n, 1, 1, device=x.device) - ch // 2
    left = distributed.randint(0, w, n, 1, 1, device=x.device) - cw // 2
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


OPS = {
    "color": (rand_brightness, rand_saturation, rand_contrast),
    "translation": (rand_translation,),
    "cutout": (rand_cutout,),
}


class DiffAugment:
    """Callable applying the policy's operations in order (color, translation,
    cutout), e.g. ``DiffAugment("color,translation")``; an empty policy is the
    identity."""

    def __init__(self, policy: str):
        self.names = [p.strip() for p in policy.split(",") if p.strip()]
        unknown = [p for p in self.names if p not in OPS]
        if unknown:
            raise ValueError(f"unknown DiffAugment operation '{unknown[0]}'")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:  # points and vectors are left alone
            return x
        for name in self.names:
            for op in OPS[name]:
                x = op(x)
        return x


def make_augment(policy: str) -> DiffAugment | None:
    """A DiffAugment for ``policy``, or None when the policy is empty."""
    return DiffAugment(policy) if policy.strip() else None
