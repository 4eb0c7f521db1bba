"""Shared by the StyleGAN2, ProGAN and CycleGAN family tests: tiny data, runs and
a distribution distance that needs no trained classifier."""

from __future__ import annotations

from pathlib import Path

import torch

from gan_core.config import config_from_dict
from gan_core.data.types import ImageData
from gan_core.trainer import Trainer


def shapes_data(n: int = 128, size: int = 16, seed: int = 0) -> ImageData:
    """Built-in shapes when that loader exists, else flat squares on a dark ground."""
    try:
        from gan_core.data.builtin import load_builtin
    except ImportError:
        gen = torch.Generator().manual_seed(seed)
        images = torch.full((n, 3, size, size), -0.8)
        for k in range(n):
            colour = torch.rand(3, generator=gen) * 2 - 1
            x0, y0 = torch.randint(0, size // 2, (2,), generator=gen).tolist()
            images[k, :, y0 : y0 + size // 2, x0 : x0 + size // 2] = colour.view(
                3, 1, 1
            )
        return ImageData(images, fingerprint=f"squares-{n}-{size}-{seed}")
    data = load_builtin("shapes", image_size=size)
    return ImageData(data.images[:n], fingerprint=data.fingerprint + f"-{n}")


def pixel_distance(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Mean over channels of the 1-D Wasserstein distance between pixel values.

    fake, real: [N, C, H, W] with the same N. Zero when the two sets of images
    have the same per-channel value distribution.
    """
    f = fake.detach().float().transpose(0, 1).reshape(fake.shape[1], -1)
    r = real.detach().float().transpose(0, 1).reshape(real.shape[1], -1)
    return (f.sort(dim=1).values - r.sort(dim=1).values).abs().mean().item()


def make_trainer(family: str, data, out_dir: Path, events=None, **settings) -> Trainer:
    """A CPU Trainer for ``family`` with ``settings`` over its defaults."""
    config = config_from_dict(family, settings)
    on_event = events.append if events is not None else None
    return Trainer(config, data, out_dir, torch.device("cpu"), on_event, None)


@torch.no_grad()
def generated(trainer: Trainer, n: int, seed: int = 0) -> torch.Tensor:
    """n samples from the trainer's generator (its EMA when it keeps one)."""
    r = trainer.recipe
    net = trainer.ema if trainer.ema is not None else r.nets[r.generator]
    z = torch.randn(n, r.z_dim, generator=torch.Generator().manual_seed(seed))
    return r.generate(net, z, None).float()
