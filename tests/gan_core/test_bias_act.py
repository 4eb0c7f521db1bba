"""bias_lrelu_clamp is the composite hardtanh(lrelu(x + b)) bitwise, through
the first and the second derivative, while autograd keeps only its output."""

import pytest
import torch
from torch.nn import functional as F

from gan_core.nets.bias_act import GAIN, bias_lrelu_clamp


def composite(x, bias, activation, limit):
    y = x if bias is None else x + bias[None, :, None, None]
    y = F.leaky_relu(y, 0.2) * GAIN if activation else y
    return y if limit is None else F.hardtanh(y, -limit, limit)


def _grads(fn, activation, limit, with_bias):
    """Values, first-order grads, and an R1-like double backward's grads."""
    gen = torch.Generator().manual_seed(0)
    inp = (torch.randn(3, 4, 5, 5, generator=gen) * 3).requires_grad_(True)
    w = torch.randn(4, 4, 1, 1, generator=gen).requires_grad_(True)
    b = torch.randn(4, generator=gen).requires_grad_(True) if with_bias else None
    y = fn(F.conv2d(inp, w), b, activation, limit)
    params = [w] + ([b] if with_bias else [])
    first = torch.autograd.grad(
        (y * y.detach()).sum(), [inp, *params], retain_graph=True
    )
    (g_inp,) = torch.autograd.grad(y.sum(), inp, create_graph=True)
    second = torch.autograd.grad(g_inp.square().sum(), params, allow_unused=True)
    return y, first, second


@pytest.mark.parametrize(
    "activation,limit,with_bias",
    [(True, 1.5, True), (True, None, False), (False, 1.5, True), (True, 1.5, False)],
)
def test_values_and_gradients_are_the_composites_bitwise(activation, limit, with_bias):
    ours = _grads(bias_lrelu_clamp, activation, limit, with_bias)
    theirs = _grads(composite, activation, limit, with_bias)
    assert torch.equal(ours[0], theirs[0])
    if limit is not None:  # some values clamped, some not: both paths used
        assert (ours[0].abs() == limit).any() and (ours[0].abs() < limit).any()
    for a, b in zip(ours[1] + ours[2], theirs[1] + theirs[2], strict=True):
        # The bias's second derivative is zero: the composite says so with a
        # tensor of zeros, a mask (a constant) with no gradient at all.
        a = torch.zeros_like(b) if a is None and b is not None else a
        assert (a is None and b is None) or torch.equal(a, b)
    assert ours[2][0] is not None and ours[2][0].abs().sum() > 0


def test_only_the_output_is_saved_for_backward():
    x = torch.randn(2, 8, 16, 16, requires_grad=True)
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = bias_lrelu_clamp(x, torch.zeros(8, requires_grad=True), True, 256.0)
    # The output is what the next layer saves as its input: nothing extra.
    assert len(saved) == 1 and saved[0] is out


@pytest.mark.parametrize("gain", [1.0, 2.0**0.5])
def test_a_gain_folded_into_the_weights_before_gives_the_same_step(gain):
    """lrelu(g y) = g lrelu(y): gain 1 on g-scaled input equals gain g."""
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    folded = bias_lrelu_clamp(x * gain, None, True, 3.0, gain=1.0)
    plain = bias_lrelu_clamp(x, None, True, 3.0 * gain / gain, gain=gain)
    assert torch.allclose(folded, plain, atol=1e-6)
