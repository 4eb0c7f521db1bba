"""Depthwise convolution with a constant filter, differentiable to any order
without PyTorch's per-channel double backward.

StyleGAN2's R1 and path-length penalties differentiate the networks twice
(``create_graph=True``), and every FIR resampling is a grouped convolution
(one group per channel). ATen's ``_convolution_double_backward`` handles
groups > 1 by looping over the groups, one tiny convolution and its copies
per channel, and does so for the filter's gradient even when the filter needs
none: for one 64-channel 16 px FIR that loop took ~17 ms of a 42 ms double
backward on the CPU, and bench/bench_depthwise_fir.py times the R1 and
path-length phases with and without it (bench/RESULTS.md).

A constant depthwise filter makes the operation linear in its input alone, so
its backward is its adjoint, the transposed convolution with the same filter
(for stride 1, the convolution with the flipped filter and the complementary
padding), and the adjoint's backward is the operation again. Two autograd
functions that call each other give exactly that, to any order, with one grouped
convolution per pass and no per-channel loop. Values and gradients are those
of ``F.conv2d`` / ``F.conv_transpose2d``; the filter never gets a gradient.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def _transposed_output_padding(
    in_size: tuple[int, int], out_size: tuple[int, int], k: int, stride: int, pad: int
) -> tuple[int, int]:
    """The output_padding that makes conv_transpose2d give back ``in_size``
    from a conv2d output of ``out_size`` (stride > 1 drops trailing rows)."""
    return tuple(
        i - ((o - 1) * stride - 2 * pad + k)
        for i, o in zip(in_size, out_size, strict=True)
    )


class _Conv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, stride: int, pad: int):
        ctx.weight, ctx.stride, ctx.pad = weight, stride, pad
        ctx.in_size = tuple(x.shape[-2:])
        y = F.conv2d(x, weight, stride=stride, padding=pad, groups=x.shape[1])
        ctx.out_size = tuple(y.shape[-2:])
        return y

    @staticmethod
    def backward(ctx, grad):
        k = ctx.weight.shape[-1]
        if ctx.stride == 1 and ctx.pad <= k - 1:
            # The adjoint of a stride-1 convolution is a stride-1 convolution
            # with the flipped filter and the complementary padding: oneDNN's
            # direct depthwise kernel, faster than its transposed one.
            flipped = ctx.weight.flip(-1, -2)
            return _Conv.apply(grad, flipped, 1, k - 1 - ctx.pad), None, None, None
        extra = _transposed_output_padding(
            ctx.in_size, ctx.out_size, k, ctx.stride, ctx.pad
        )
        return (
            _ConvT.apply(grad, ctx.weight, ctx.stride, ctx.pad, extra),
            None,
            None,
            None,
        )


class _ConvT(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, stride: int, pad: int, extra: tuple[int, int]):
        ctx.weight, ctx.stride, ctx.pad = weight, stride, pad
        return F.conv_transpose2d(
            x, weight, stride=stride, padding=pad, output_padding=extra,
            groups=x.shape[1],
        )  # fmt: skip

    @staticmethod
    def backward(ctx, grad):
        adjoint = _Conv.apply(grad, ctx.weight, ctx.stride, ctx.pad)
        return adjoint, None, None, None, None


def _constant(weight: torch.Tensor) -> torch.Tensor:
    if weight.requires_grad:
        raise ValueError("depthwise FIR convolutions are for constant filters only")
    return weight


def depthwise_conv2d(x, weight, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """``F.conv2d(x, weight, stride, padding, groups=C)`` for a constant
    [C, 1, K, K] filter and x: [N, C, H, W]."""
    return _Conv.apply(x, _constant(weight), stride, padding)


def depthwise_conv_transpose2d(
    x, weight, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """``F.conv_transpose2d(x, weight, stride, padding, groups=C)`` for a
    constant [C, 1, K, K] filter and x: [N, C, H, W]."""
    return _ConvT.apply(x, _constant(weight), stride, padding, (0, 0))
