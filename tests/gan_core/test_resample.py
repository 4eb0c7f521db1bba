"""upfirdn2d: the [1, 3, 3, 1] up/down operators against direct convolution."""

import itertools

import pytest
import torch

from gan_core.nets.resample import (
    downsample2d,
    make_filter,
    upfirdn2d,
    upsample2d,
)

TAPS = torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=torch.float64)
KERNEL = torch.outer(TAPS, TAPS) / TAPS.sum() ** 2  # the 2-D filter, sum 1


def direct_up(x: torch.Tensor) -> torch.Tensor:
    """y[i, j] = 4 sum_ab K[a, b] z[i + a - 2, j + b - 2], z = x on even pixels.

    The reference's upsample2d written out pixel by pixel: zero insertion, zero
    outside the image, the outer-product filter with gain 4."""
    n, c, h, w = x.shape
    y = torch.zeros(n, c, 2 * h, 2 * w, dtype=x.dtype)
    for i, j, a, b in itertools.product(range(2 * h), range(2 * w), range(4), range(4)):
        p, q = i + a - 2, j + b - 2
        if p % 2 == 0 and q % 2 == 0 and 0 <= p < 2 * h and 0 <= q < 2 * w:
            y[:, :, i, j] += 4 * KERNEL[a, b] * x[:, :, p // 2, q // 2]
    return y


def direct_down(x: torch.Tensor) -> torch.Tensor:
    """y[i, j] = sum_ab K[a, b] x[2i + a - 1, 2j + b - 1], zero outside."""
    n, c, h, w = x.shape
    y = torch.zeros(n, c, h // 2, w // 2, dtype=x.dtype)
    for i, j, a, b in itertools.product(
        range(h // 2), range(w // 2), range(4), range(4)
    ):
        p, q = 2 * i + a - 1, 2 * j + b - 1
        if 0 <= p < h and 0 <= q < w:
            y[:, :, i, j] += KERNEL[a, b] * x[:, :, p, q]
    return y


def border_mask(h: int, w: int, width: int) -> torch.Tensor:
    inside = torch.zeros(h, w, dtype=torch.bool)
    inside[width:-width, width:-width] = True
    return ~inside


def test_filter_is_the_binomial_normalized_once():
    f = make_filter()
    assert f.dtype == torch.float32
    assert torch.allclose(f, torch.tensor([1.0, 3.0, 3.0, 1.0]) / 8)
    assert torch.allclose(torch.outer(f, f).sum(), torch.tensor(1.0))
    with pytest.raises(ValueError):
        make_filter([[1.0, 2.0]])


def test_upsampling_equals_direct_convolution_inside_and_on_the_border():
    x = torch.randn(2, 3, 6, 5, generator=torch.Generator().manual_seed(0)).double()
    ours = upsample2d(x, make_filter().double())
    want = direct_up(x)
    assert ours.shape == (2, 3, 12, 10)
    border = border_mask(12, 10, 2)
    assert torch.allclose(ours[..., ~border], want[..., ~border], atol=1e-12)
    assert torch.allclose(ours[..., border], want[..., border], atol=1e-12)


def test_downsampling_equals_direct_convolution_inside_and_on_the_border():
    x = torch.randn(2, 3, 8, 10, generator=torch.Generator().manual_seed(1)).double()
    ours = downsample2d(x, make_filter().double())
    want = direct_down(x)
    assert ours.shape == (2, 3, 4, 5)
    border = border_mask(4, 5, 1)
    assert torch.allclose(ours[..., ~border], want[..., ~border], atol=1e-12)
    assert torch.allclose(ours[..., border], want[..., border], atol=1e-12)


def test_constant_image_keeps_its_value_inside_and_fades_at_zero_padded_edges():
    ones = torch.ones(1, 1, 8, 8)
    down = downsample2d(ones, make_filter())
    assert torch.allclose(down[0, 0, 1:-1, 1:-1], torch.ones(2, 2))
    # One of the four taps falls outside: (3 + 3 + 1) / 8 per axis at the edge.
    assert down[0, 0, 0, 1].item() == pytest.approx(7 / 8)
    assert down[0, 0, 0, 0].item() == pytest.approx((7 / 8) ** 2)
    up = upsample2d(ones, make_filter())
    assert torch.allclose(up[0, 0, 2:-2, 2:-2], torch.ones(12, 12))
    assert up[0, 0, 0, 5].item() == pytest.approx(3 / 4)  # taps 3 and 3 of 1+3


def test_negative_padding_crops_and_output_size_follows_the_formula():
    x = torch.randn(1, 2, 9, 7, generator=torch.Generator().manual_seed(2))
    f = make_filter()
    y = upfirdn2d(x, f, up=2, down=1, padding=(-1, 0, 1, -2))
    # (H * up + y0 + y1 - K) // down + 1, likewise for W.
    assert y.shape[-2:] == (9 * 2 + 1 - 2 - 4 + 1, 7 * 2 - 1 + 0 - 4 + 1)
    full = upfirdn2d(x, f, up=2, padding=(0, 0, 1, 0))
    assert torch.allclose(y, full[:, :, : y.shape[2], 1 : 1 + y.shape[3]], atol=1e-6)
