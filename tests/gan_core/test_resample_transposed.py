"""upsample2d's transposed-convolution form against the zero-insertion path."""

import torch

from gan_core.nets.resample import make_filter, upfirdn2d, upsample2d


def zero_insertion(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    k = f.numel()
    p0, p1 = (k + 1) // 2, (k - 2) // 2
    return upfirdn2d(x, f, up=2, padding=(p0, p1, p0, p1), gain=4.0)


def test_transposed_upsampling_equals_zero_insertion_for_even_filters():
    gen = torch.Generator().manual_seed(0)
    for taps in [(1.0, 3.0, 3.0, 1.0), (1.0, 2.0, 5.0, 1.0), (2.0, 1.0)]:
        f = make_filter(taps).double()
        for channels, h, w in [(3, 5, 7), (16, 4, 4)]:
            x = torch.randn(2, channels, h, w, generator=gen, dtype=torch.float64)
            ours, ref = upsample2d(x, f), zero_insertion(x, f)
            assert ours.shape == ref.shape == (2, channels, 2 * h, 2 * w)
            assert torch.allclose(ours, ref, atol=1e-12), taps


def test_transposed_upsampling_gradients_match_to_second_order():
    gen = torch.Generator().manual_seed(1)
    f = make_filter().double()
    x = torch.randn(2, 3, 4, 5, generator=gen, dtype=torch.float64)
    y = torch.randn(2, 3, 8, 10, generator=gen, dtype=torch.float64)
    grads = []
    for up in (upsample2d, zero_insertion):
        xx = x.clone().requires_grad_(True)
        # A gradient penalty, as R1 and path length take (double backward).
        (g,) = torch.autograd.grad((up(xx, f).tanh() * y).sum(), xx, create_graph=True)
        (gg,) = torch.autograd.grad(g.square().sum(), xx)
        grads.append((g.detach(), gg))
    assert torch.allclose(grads[0][0], grads[1][0], atol=1e-12)
    assert torch.allclose(grads[0][1], grads[1][1], atol=1e-12)
