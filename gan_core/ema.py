"""Exponential moving average of the generator's weights (Karras 2018 appendix
A.1; Yazici et al. 2019): samples come from the average, which is smoother than
the last iterate."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(net: nn.Module) -> nn.Module:
    """A frozen copy of ``net`` in eval mode that ``update_ema`` moves."""
    ema = copy.deepcopy(net).eval()
    ema.requires_grad_(False)
    return ema


def ema_beta(decay: float, step: int) -> float:
    """The decay at ``step`` (0-based), ramped up as min(decay, (1 + t) / (10 + t))
    so early averages are not dominated by the random initial weights."""
    return min(decay, (1 + step) / (10 + step))


def ema_beta_for_images(
    ema_kimg: float, rampup: float, cur_nimg: int, batch_size: int
) -> float:
    """The decay that gives the average a half-life of ``ema_kimg`` thousand
    images whatever the batch (stylegan2-ada-pytorch's training loop): with a
    ramp-up (> 0) the half-life is at most ``rampup`` of the images seen so far,
    so the first step copies the weights. beta = 0.5 ** (batch / half-life)."""
    ema_nimg = ema_kimg * 1000
    if rampup > 0:
        ema_nimg = min(ema_nimg, cur_nimg * rampup)
    return 0.5 ** (batch_size / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(ema: nn.Module, net: nn.Module, beta: float) -> None:
    """ema <- beta * ema + (1 - beta) * net for parameters; buffers (BatchNorm
    statistics) are copied, as stylegan2-ada-pytorch does."""
    for p_ema, p in zip(ema.parameters(), net.parameters(), strict=True):
        p_ema.lerp_(p.detach(), 1 - beta)
    for b_ema, b in zip(ema.buffers(), net.buffers(), strict=True):
        b_ema.copy_(b)
