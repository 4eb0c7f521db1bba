"""Discriminator blocks for FreezeD (Mo et al. 2020): a plain stack of layers
cut at each convolution, so block i is conv i with its norm and activation."""

from __future__ import annotations

from torch import nn


def conv_blocks(layers: nn.Sequential) -> list[nn.Module]:
    """``layers`` cut before every Conv2d, from the image side."""
    items = list(layers)
    starts = [i for i, m in enumerate(items) if isinstance(m, nn.Conv2d)]
    ends = starts[1:] + [len(items)]
    return [nn.Sequential(*items[a:b]) for a, b in zip(starts, ends, strict=True)]
