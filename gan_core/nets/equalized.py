"""Equalized-learning-rate layers shared by ProGAN and StyleGAN2.

Karras et al. 2018 (ProGAN), section 4.1: weights are stored as N(0, 1) and scaled
at run time by the He constant c = 1 / sqrt(fan_in), so that Adam's per-parameter
step size acts on every layer at the same relative speed. ``lr_mul`` (StyleGAN,
Karras 2019, appendix C) additionally slows a layer down: the stored weight is
N(0, 1 / lr_mul^2) and both weight and bias are multiplied by ``lr_mul``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

# Gain that keeps the activation variance of a leaky ReLU with slope 0.2 at one
# (StyleGAN2's ``bias_act`` convention: lrelu(x) * sqrt(2)).
LRELU_GAIN = math.sqrt(2.0)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU (slope 0.2) scaled by sqrt(2) to keep unit variance."""
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


def act_gain(activation: bool) -> float:
    """The factor a layer folds into its weight and bias instead of calling
    ``lrelu``: lrelu(y) * g = leaky_relu(g y) for g > 0, so scaling the small
    weight and bias saves a full-size multiply forward and backward."""
    return LRELU_GAIN if activation else 1.0


class EqualLinear(nn.Module):
    """Fully connected layer with run-time He scaling (equalized learning rate)."""

    def __init__(
        self,
        in_features: int,  # Input width.
        out_features: int,  # Output width.
        bias: bool = True,  # Add a learned bias?
        bias_init: float = 0.0,  # Initial bias value (1 for StyleGAN2 affines).
        lr_mul: float = 1.0,  # Learning-rate multiplier (0.01 for the mapping net).
        activation: bool = False,  # Apply the scaled leaky ReLU?
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = (
            nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
            if bias
            else None
        )
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = act_gain(self.activation)  # the activation's gain, folded in
        b = self.bias * (self.lr_mul * g) if self.bias is not None else None
        x = F.linear(x, self.weight * (self.weight_gain * g), b)
        return F.leaky_relu(x, 0.2) if self.activation else x


class EqualConv2d(nn.Module):
    """2D convolution with run-time He scaling (equalized learning rate)."""

    def __init__(
        self,
        in_channels: int,  # Input channels.
        out_channels: int,  # Output channels.
        kernel_size: int,  # Square kernel size.
        padding: int | None = None,  # Default: "same" for odd kernels.
        bias: bool = True,  # Add a learned bias?
        activation: bool = False,  # Apply the scaled leaky ReLU?
    ):
        super().__init__()
        self.weight = nn.Parameter(
            torch.randn(out_channels, in_channels, kernel_size, kernel_size)
        )
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2 if padding is None else padding
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = act_gain(self.activation)  # the activation's gain, folded in
        b = self.bias * g if self.bias is not None and g != 1.0 else self.bias
        x = F.conv2d(x, self.weight * (self.weight_gain * g), b, padding=self.padding)
        return F.leaky_relu(x, 0.2) if self.activation else x


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Append the minibatch standard deviation as one extra feature map.

    ProGAN section 3: the std of each feature over a group of samples, averaged
    over features and pixels, tells the discriminator how varied the batch is.
    x: (N, C, H, W). Returns (N, C + 1, H, W). Groups are strided like StyleGAN2
    (sample i belongs to group i mod N/G), so the batch need only divide by G.
    """
    n, c, h, w = x.shape
    g = min(group_size, n)
    while n % g:  # Fall back to the largest group size that divides the batch.
        g -= 1
    y = x.reshape(g, -1, c, h, w)  # [GMCHW] group-major split.
    y = y - y.mean(dim=0)
    y = (y.square().mean(dim=0) + 1e-8).sqrt()  # [MCHW] std over each group.
    y = y.mean(dim=(1, 2, 3))  # [M] one number per group.
    y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)  # [NCHW] back to every sample.
    return torch.cat([x, y], dim=1)
