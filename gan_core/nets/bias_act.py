"""Bias, scaled leaky ReLU and clamp in one autograd step that saves two masks.

Written as ``(leaky_relu(x + b, 0.2) * sqrt(2)).clamp(-c, c)``, autograd keeps
two float tensors per activation for the backward pass: leaky_relu's input and
clamp's input, 8 bytes per element. Both gradients only need where each input
was, not what it was: x + b > 0 for the leaky ReLU and -c <= y <= c for the
clamp. This function keeps those as two bool masks (2 bytes per element) and
computes the same gradient with the same operations in autograd's order
(clamp's where, the gain, leaky_relu's where, the bias's sum), so values and
gradients are bitwise those of the composite, and its backward is built from
differentiable operations so R1 and path length (double backward) run through
it. stylegan2-ada-pytorch fuses the same chain in its ``bias_act`` CUDA kernel
for the same reason; its CPU path is the composite.

At 128 px, batch 4, StyleGAN2 config F saves 2.7 GiB for one generator phase;
the activations are most of it (bench/bench_train_memory.py).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

SLOPE = 0.2  # StyleGAN2's leaky ReLU
GAIN = math.sqrt(2.0)  # keeps unit variance (bias_act's def_gain for lrelu)


class _BiasLreluClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bias, activation: bool, limit: float | None):
        y = x if bias is None else x + bias.view(1, -1, 1, 1)
        positive = inside = None
        keep = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        if activation:
            positive = y > 0 if keep else None
            y = F.leaky_relu(y, SLOPE) * GAIN
        if limit is not None:
            inside = (y >= -limit).logical_and_(y <= limit) if keep else None
            y = y.clamp(-limit, limit)
        ctx.activation, ctx.has_bias, ctx.x_dtype = (
            activation,
            bias is not None,
            x.dtype,
        )
        ctx.save_for_backward(positive, inside)
        return y

    @staticmethod
    def backward(ctx, grad):
        positive, inside = ctx.saved_tensors
        if inside is not None:
            grad = torch.where(inside, grad, grad.new_zeros(()))
        if ctx.activation:
            grad = grad * GAIN
            grad = torch.where(positive, grad, grad * SLOPE)
        grad_bias = None
        if ctx.has_bias and ctx.needs_input_grad[1]:
            grad_bias = grad.sum_to_size(1, grad.shape[1], 1, 1).reshape(-1)
        grad_x = grad.to(ctx.x_dtype) if ctx.needs_input_grad[0] else None
        return grad_x, grad_bias, None, None


def bias_lrelu_clamp(
    x: torch.Tensor,  # [N, C, H, W]
    bias: torch.Tensor | None = None,  # [C], added first
    activation: bool = True,  # leaky ReLU (slope 0.2) times sqrt(2)?
    limit: float | None = None,  # clamp to [-limit, limit] last (None: no clamp)
) -> torch.Tensor:
    """clamp(lrelu(x + bias)) as the composite computes it, saving masks only."""
    if not activation and limit is None:
        return x if bias is None else x + bias.view(1, -1, 1, 1)
    return _BiasLreluClamp.apply(x, bias, activation, limit)
