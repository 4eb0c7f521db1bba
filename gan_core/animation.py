"""Latent-space paths and animated image files for the sampling API.

Spherical interpolation (Shoemake 1985; White 2016, "Sampling Generative
Networks") suits Gaussian z, whose mass lies near a sphere: a straight line
between two samples passes through the low-norm interior, which the generator
rarely saw. W is not Gaussian, so StyleGAN interpolates it linearly (StyleGAN
section 4.2 measures perceptual path length that way).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

ANIMATION_SUFFIXES = (".gif", ".webp")


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Spherical interpolation between rows of ``a`` and ``b`` [N, D] at ``t``.

    Follows the great circle between the directions while interpolating the norms
    linearly; falls back to linear interpolation for (anti)parallel vectors.
    """
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device).reshape(-1, 1)
    a_norm, b_norm = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    a_unit, b_unit = a / a_norm.clamp_min(1e-12), b / b_norm.clamp_min(1e-12)
    cos = (a_unit * b_unit).sum(dim=-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    safe = sin.abs() > 1e-6
    sin_safe = torch.where(safe, sin, torch.ones_like(sin))
    wa = torch.where(safe, torch.sin((1 - t) * omega) / sin_safe, 1 - t)
    wb = torch.where(safe, torch.sin(t * omega) / sin_safe, t)
    direction = wa * a_unit + wb * b_unit
    direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return direction * torch.lerp(a_norm, b_norm, t)


def lerp_path(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` points from ``a`` to ``b`` inclusive on a line: [steps, ...]."""
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype, device=a.device)
    return torch.stack([torch.lerp(a, b, float(ti)) for ti in t])


def slerp_path(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` points from ``a`` [D] to ``b`` [D] on the great circle: [steps, D]."""
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype, device=a.device)
    return slerp(a.expand(steps, -1), b.expand(steps, -1), t)


def save_animation(
    frames: Sequence[Image.Image],
    path: str | Path,
    fps: float = 12.0,
    loop: bool = True,
) -> Path:
    """Write ``frames`` as an animated GIF or WebP, chosen by the file suffix.

    Writes to a temporary name first and renames, so a reader never sees half a
    file. Returns the path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ANIMATION_SUFFIXES:
        raise ValueError(f"animation must end in .gif or .webp, got {path.name!r}")
    if not frames:
        raise ValueError("an animation needs at least one frame")
    duration = max(1, round(1000 / fps))
    tmp = path.with_name(f".{path.name}.tmp{suffix}")
    first, rest = frames[0], list(frames[1:])
    options = {"save_all": True, "append_images": rest, "duration": duration}
    if loop:
        options["loop"] = 0
    if suffix == ".webp":
        options["lossless"] = True
    first.save(tmp, format="GIF" if suffix == ".gif" else "WEBP", **options)
    tmp.replace(path)
    return path
