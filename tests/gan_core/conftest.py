"""Tiny CPU data for gan_core tests: a few images of a few pixels, or 2D points."""

from __future__ import annotations

import math

import pytest
import torch

from gan_core.data.types import ImageData, PointData


@pytest.fixture(autouse=True)
def _one_thread():
    """Four engineers share two cores: tests stay on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def ring8(n: int = 20000, seed: int = 0) -> PointData:
    """8 Gaussians (std 0.01) on the unit circle, as builtin:ring8 defines them."""
    gen = torch.Generator().manual_seed(seed)
    angles = torch.arange(8) * 2 * math.pi / 8
    modes = torch.stack([angles.cos(), angles.sin()], 1)
    pick = torch.randint(8, (n,), generator=gen)
    points = modes[pick] + 0.01 * torch.randn(n, 2, generator=gen)
    return PointData(points, modes, 0.01)


@pytest.fixture
def tiny_images() -> ImageData:
    """24 labelled RGB images of 8x8 in [-1, 1], three classes."""
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(24, 3, 8, 8, generator=gen) * 2 - 1
    labels = torch.arange(24) % 3
    return ImageData(images, labels, ("red", "green", "blue"))


@pytest.fixture(scope="session")
def ring8_points() -> PointData:
    return ring8()


@pytest.fixture
def tiny_points() -> PointData:
    return ring8(256)


def _tiny_settings(family: str, **changes) -> dict:
    """Settings that make any classic family train in milliseconds."""
    values = {
        "image_size": 8,
        "batch_size": 4,
        "steps": 4,
        "sample_every": 2,
        "checkpoint_every": 3,
        "z_dim": 8,
    }
    if family == "gan":
        values.update(hidden=16, depth=2)
    else:
        values.update(g_channels=4, d_channels=4)
    values.update(changes)
    return values


@pytest.fixture
def tiny_settings():
    """``tiny_settings(family, **changes)`` -> a settings dict."""
    return _tiny_settings
