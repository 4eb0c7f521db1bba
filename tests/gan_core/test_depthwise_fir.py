"""depthwise_fir: constant-filter depthwise convolutions against F.conv2d /
F.conv_transpose2d, values and first and second derivatives."""

import pytest
import torch
from torch.nn import functional as F

from gan_core.nets.depthwise_fir import depthwise_conv2d, depthwise_conv_transpose2d


def _filter(c: int, k: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    return torch.randn(c, 1, k, k, generator=gen, dtype=torch.double)


def _reference(x, w, stride, pad, transposed):
    if transposed:
        return F.conv_transpose2d(x, w, stride=stride, padding=pad, groups=x.shape[1])
    return F.conv2d(x, w, stride=stride, padding=pad, groups=x.shape[1])


def _ours(x, w, stride, pad, transposed):
    op = depthwise_conv_transpose2d if transposed else depthwise_conv2d
    return op(x, w, stride=stride, padding=pad)


def _second_order(fn, x: torch.Tensor, probe: torch.Tensor, direction: torch.Tensor):
    """A penalty built from a first gradient, then its gradient: the shape of
    R1 and path length (create_graph=True, then backward)."""
    x = x.clone().requires_grad_(True)
    y = fn(x)
    (g,) = torch.autograd.grad((y * probe).sum(), x, create_graph=True)
    penalty = (g.square() * direction).sum() + (y.square() * direction.mean()).sum()
    (gg,) = torch.autograd.grad(penalty, x)
    return y.detach(), g.detach(), gg


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize(
    "stride,pad,size", [(1, 0, 9), (1, 2, 8), (1, 4, 6), (2, 0, 9), (2, 1, 8)]
)
def test_values_and_two_orders_of_gradient_equal_the_grouped_convolution(
    transposed, stride, pad, size
):
    gen = torch.Generator().manual_seed(0)
    c, k = 5, 4
    w = _filter(c, k)
    x = torch.randn(3, c, size, size, generator=gen, dtype=torch.double)
    # x carries a dependence on a parameter in the real networks; here the
    # second order reaches x itself through the nonlinear penalty.
    x = torch.tanh(x)
    probe_shape = _reference(x, w, stride, pad, transposed).shape
    probe = torch.randn(probe_shape, generator=gen, dtype=torch.double)
    direction = torch.randn(x.shape, generator=gen, dtype=torch.double)
    ref = _second_order(
        lambda t: _reference(t, w, stride, pad, transposed), x, probe, direction
    )
    ours = _second_order(
        lambda t: _ours(t, w, stride, pad, transposed), x, probe, direction
    )
    for a, b in zip(ours, ref, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_gradcheck_to_second_order():
    gen = torch.Generator().manual_seed(2)
    w = _filter(2, 4)
    x = torch.randn(1, 2, 7, 7, generator=gen, dtype=torch.double, requires_grad=True)
    for op in (depthwise_conv2d, depthwise_conv_transpose2d):
        fn = lambda t, op=op: op(t, w, stride=2, padding=1)  # noqa: E731
        assert torch.autograd.gradcheck(fn, (x,))
        assert torch.autograd.gradgradcheck(fn, (x,))


def test_a_filter_that_wants_a_gradient_is_refused():
    w = _filter(2, 4).requires_grad_(True)
    x = torch.zeros(1, 2, 8, 8, dtype=torch.double)
    with pytest.raises(ValueError, match="constant filters only"):
        depthwise_conv2d(x, w)
    with pytest.raises(ValueError, match="constant filters only"):
        depthwise_conv_transpose2d(x, w)


def test_the_double_backward_runs_no_per_channel_convolutions():
    """ATen's grouped double backward loops over the channels (one convolution
    each); the adjoint pair runs a fixed number of grouped ones."""
    from torch.profiler import ProfilerActivity, profile

    c = 16
    w = torch.ones(c, 1, 4, 4) / 16
    x = torch.randn(2, c, 8, 8, requires_grad=True)

    def step(op):
        y = op(x, w)
        (g,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
        g.square().sum().backward()

    def convolutions(op) -> int:
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step(op)
        return sum(e.count for e in prof.key_averages() if e.key == "aten::convolution")

    grouped = lambda t, ww: F.conv2d(t, ww, groups=c)  # noqa: E731
    assert convolutions(grouped) >= c  # the loop this module avoids
    assert convolutions(depthwise_conv2d) <= 4
