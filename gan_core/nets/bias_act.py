"""Bias, scaled leaky ReLU and clamp in one autograd step that saves only its
output.

Written as ``hardtanh(leaky_relu(x + b, 0.2) * sqrt(2), -c, c)``, autograd
keeps two float tensors per activation for the backward pass: leaky_relu's
input and hardtanh's input. Both gradients only need where each input was, and
the output tells: the output is > 0 exactly where leaky_relu's input was (the
gain and the clamp keep signs), and strictly inside (-c, c) exactly where
hardtanh's input was. So this step saves its output and nothing else, and the
output is the tensor the next convolution saves anyway (its input): the
activation's own saved memory is gone. The forward is the same native ops, and
the backward aten's own backward kernels in autograd's order (hardtanh's, the
gain, leaky_relu's, the bias's sum), so values and gradients are bitwise those
of the composite, at the composite's speed; the backward is made of
differentiable operations, so R1 and path length (double backward) run through
it. stylegan2-ada-pytorch fuses the same chain in its ``bias_act`` CUDA kernel
and also saves its output (``y``) for the backward; its CPU path is the
composite.

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
    def forward(ctx, x, bias, activation: bool, limit: float | None, gain: float):
        y = x if bias is None else x + bias.view(1, -1, 1, 1)
        if activation:
            y = F.leaky_relu(y, SLOPE)
            if gain != 1.0:
                y = y * gain
        if limit is not None:
            y = F.hardtanh(y, -limit, limit, inplace=y is not x)
        ctx.activation, ctx.limit, ctx.gain = activation, limit, gain
        ctx.has_bias, ctx.x_dtype = bias is not None, x.dtype
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # aten's own backward kernels, given the output: hardtanh's mask is
        # strict, so the clamped output tells it; leaky_relu's accepts its
        # result (self_is_result). Both have derivatives, for double backward.
        (y,) = ctx.saved_tensors
        if ctx.limit is not None:
            grad = torch.ops.aten.hardtanh_backward(grad, y, -ctx.limit, ctx.limit)
        if ctx.activation:
            if ctx.gain != 1.0:
                grad = grad * ctx.gain
            grad = torch.ops.aten.leaky_relu_backward(grad, y, SLOPE, True)
        grad_bias = None
        if ctx.has_bias and ctx.needs_input_grad[1]:
            grad_bias = grad.sum_to_size(1, grad.shape[1], 1, 1).reshape(-1)
        grad_x = grad.to(ctx.x_dtype) if ctx.needs_input_grad[0] else None
        return grad_x, grad_bias, None, None, None


def bias_lrelu_clamp(
    x: torch.Tensor,  # [N, C, H, W]
    bias: torch.Tensor | None = None,  # [C], added first
    activation: bool = True,  # leaky ReLU (slope 0.2) times ``gain``?
    limit: float | None = None,  # clamp to [-limit, limit] last (None: no clamp)
    gain: float = GAIN,  # 1.0 where the gain is folded into the weights before
) -> torch.Tensor:
    """hardtanh(lrelu(x + bias)) as the composite computes it, saving its
    output only."""
    if not activation and limit is None:
        return x if bias is None else x + bias.view(1, -1, 1, 1)
    return _BiasLreluClamp.apply(x, bias, activation, limit, gain)
