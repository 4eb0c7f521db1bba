"""The 'bgc' pipeline of Karras et al. 2020: each operation does what it says,
fires with its configured probability, is differentiable, and is non-leaking
only while p < 1."""

import math

import pytest
import torch
from torch.nn import functional as F

from gan_core.augment_pipe import COLOUR, GEOMETRIC, AugmentPipe

# The sym6 filter is not exactly symmetric, so mirrored blits are exact only up
# to its asymmetry on a smooth image (the reference behaves the same).
MIRROR_TOL = 0.03


def smooth_images(n: int = 1, size: int = 32) -> torch.Tensor:
    """RGB images of smooth, asymmetric blobs in [-0.8, 0.8]."""
    ys, xs = torch.meshgrid(
        torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij"
    )
    r = torch.exp(-((xs - 0.3) ** 2 + (ys + 0.2) ** 2) / 0.2)
    g = torch.exp(-((xs + 0.4) ** 2 + (ys - 0.1) ** 2) / 0.3)
    b = 0.5 * xs * ys + 0.5
    return (torch.stack([r, g, b]) * 1.6 - 0.8).expand(n, 3, size, size).clone()


def only(pipe: AugmentPipe, n: int, **values) -> dict:
    """Identity parameters for n images with ``values`` set."""
    d = pipe.draw(n, 0.0, "cpu")
    for name, value in values.items():
        d[name] = torch.full((n,), float(value))
    return d


def orientation(y: torch.Tensor, x: torch.Tensor) -> int:
    """k of the quarter turn rot90(x, k) that y is closest to."""
    errors = [(y - torch.rot90(x, k, (1, 2))).abs().max() for k in range(4)]
    return int(torch.stack(errors).argmin())


def test_xflip_at_p1_mirrors_about_half_the_images():
    torch.manual_seed(0)
    x = smooth_images(64)
    out = AugmentPipe({"xflip": 1})(x, 1.0)
    same = (out - x).flatten(1).abs().amax(1) < 1e-5
    mirrored = (out - x.flip(-1)).flatten(1).abs().amax(1) < MIRROR_TOL
    assert (same ^ mirrored).all()  # each image is one or the other
    assert 20 < int(mirrored.sum()) < 44  # x-flip picks flipped with 1/2


def test_rotate90_at_p1_turns_by_every_quarter_turn():
    torch.manual_seed(1)
    x = smooth_images(64)
    out = AugmentPipe({"rotate90": 1})(x, 1.0)
    turns = []
    for y, original in zip(out, x, strict=True):
        k = orientation(y, original)
        assert (y - torch.rot90(original, k, (1, 2))).abs().max() < MIRROR_TOL
        turns.append(k)
    assert sorted(set(turns)) == [0, 1, 2, 3]


def test_integer_translation_shifts_with_reflection_exactly():
    torch.manual_seed(2)
    x = torch.rand(2, 3, 32, 32) * 2 - 1  # noise: the worst case for resampling
    pipe = AugmentPipe({"xint": 1})
    out = pipe.apply(x, only(pipe, 2, xint_x=3 / 32, xint_y=-2 / 32))
    # Content moves 3 px right and 2 px up; the border is the mirror image.
    expected = F.pad(x, [3, 0, 0, 2], mode="reflect")[:, :, 2:, :32]
    assert (out - expected).abs().max() < 1e-5


def test_fractional_geometry_keeps_a_constant_image_constant():
    """Reflection padding: zooming out, rotating and shifting a flat image
    leaves no dark border (zero padding would)."""
    x = torch.full((1, 3, 16, 16), 0.5)
    pipe = AugmentPipe()
    d = only(pipe, 1, scale=0.8, rotate=0.6, aniso=1.2, rotate2=-0.3)
    d["xfrac_x"], d["xfrac_y"] = torch.tensor([0.1]), torch.tensor([-0.07])
    assert (pipe.apply(x, d) - 0.5).abs().max() < 1e-4


def luma(x: torch.Tensor) -> torch.Tensor:
    return x.mean(dim=1, keepdim=True)


@pytest.mark.parametrize(
    "op, value",
    [
        ("hue", 1.3),
        ("saturation", 2.0),
        ("brightness", 0.3),
        ("contrast", 1.7),
        ("lumaflip", 1.0),
    ],
)
def test_colour_operations_keep_luma_and_chroma_as_they_should(op, value):
    x = smooth_images(1)
    pipe = AugmentPipe({op: 1})
    out = pipe.apply(x, only(pipe, 1, **{op: value}))
    chroma_in, chroma_out = x - luma(x), out - luma(out)
    assert (out - x).abs().max() > 0.05  # it did something
    if op == "hue":  # a rotation about the grey axis: luma and chroma size kept
        assert torch.allclose(luma(out), luma(x), atol=1e-5)
        assert torch.allclose(chroma_out.norm(dim=1), chroma_in.norm(dim=1), atol=1e-5)
    elif op == "saturation":  # chroma scaled, luma kept
        assert torch.allclose(luma(out), luma(x), atol=1e-5)
        assert torch.allclose(chroma_out, chroma_in * value, atol=1e-5)
    elif op == "brightness":  # the same offset everywhere
        assert torch.allclose(out, x + value, atol=1e-5)
    elif op == "contrast":  # scaled about 0, the middle of [-1, 1]
        assert torch.allclose(out, x * value, atol=1e-5)
    else:  # luma flip: luma negated, chroma kept
        assert torch.allclose(luma(out), -luma(x), atol=1e-5)
        assert torch.allclose(chroma_out, chroma_in, atol=1e-5)


def test_grey_images_get_the_colour_map_averaged():
    x = smooth_images(1)[:, :1]
    pipe = AugmentPipe()
    out = pipe.apply(x, only(pipe, 1, brightness=0.2, contrast=2.0, hue=1.0))
    assert torch.allclose(out, x * 2.0 + 0.2 * 2.0, atol=1e-5)


def test_p0_is_exactly_the_identity():
    x = torch.randn(8, 3, 16, 16)
    pipe = AugmentPipe()
    assert pipe(x, 0.0) is x
    # Nothing drawn: both passes are skipped, so the result is exact.
    assert torch.equal(pipe.apply(x, pipe.draw(8, 0.0, "cpu")), x)


def test_the_pipeline_is_differentiable_twice():
    """D sees augmented fakes in G's pass (first order) and augmented reals
    under R1 (second order)."""
    torch.manual_seed(4)
    x = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_(True)
    out = AugmentPipe()(x, 1.0)
    (grad,) = torch.autograd.grad(out.square().sum(), x, create_graph=True)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    grad.square().sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_under_bf16_autocast_it_computes_in_fp32_and_keeps_the_dtype():
    torch.manual_seed(7)
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    pipe = AugmentPipe()
    d = pipe.draw(4, 1.0, "cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = pipe.apply(x.bfloat16(), d)
    assert low.dtype == torch.bfloat16
    exact = pipe.apply(x.bfloat16().float(), d)
    assert (low.float() - exact).abs().max() < 0.05  # bf16 rounding only


def test_each_operation_fires_with_p_times_its_multiplier():
    torch.manual_seed(5)
    n, p = 20_000, 0.3
    multipliers = {op: 1.0 for op in GEOMETRIC + COLOUR}
    multipliers["xflip"] = 0.5
    d = AugmentPipe(multipliers).draw(n, p, "cpu")
    tol = 4 * math.sqrt(p * (1 - p) / n)
    for op in GEOMETRIC + COLOUR:
        if op in ("xint", "xfrac"):
            rate = d[f"{op}_x_on"].float().mean()
        elif op == "rotate":  # pre or post rotation: p in all
            rate = (d["rotate_on"] | d["rotate2_on"]).float().mean()
            single = d["rotate_on"].float().mean()
            assert abs(single - (1 - math.sqrt(1 - p))) < tol, single
        else:
            rate = d[f"{op}_on"].float().mean()
        assert abs(rate - multipliers[op] * p) < tol, (op, rate)


def test_augmentation_leaks_orientation_only_at_p1():
    """Non-leaking (section 2.2): with p < 1 the most frequent orientation of
    the augmented images is the data's own, so D still tells an upright dataset
    from a turned one; at p = 1 both look the same (uniform) to D."""
    torch.manual_seed(6)
    upright = smooth_images(200, 16)
    turned = torch.rot90(upright, 1, (2, 3))
    pipe = AugmentPipe({"rotate90": 1})

    def histogram(data: torch.Tensor, p: float) -> torch.Tensor:
        out = pipe(data, p)
        counts = torch.zeros(4)
        for y in out:
            counts[orientation(y, upright[0])] += 1
        return counts / len(data)

    for data, own in ((upright, 0), (turned, 1)):
        assert int(histogram(data, 0.5).argmax()) == own
    uniform = torch.full((4,), 0.25)
    assert (histogram(upright, 1.0) - uniform).abs().max() < 0.1
    assert (histogram(turned, 1.0) - uniform).abs().max() < 0.1


def wave(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A smooth pattern over centred pixel coordinates."""
    return 0.6 * torch.sin(0.31 * x + 0.17 * y) + 0.3 * torch.cos(0.23 * y - 0.05 * x)


@pytest.mark.parametrize(
    "name, value, source",
    [
        # Output pixel p shows the input at: p / s (zoom by s),
        ("scale", 1.25, lambda x, y: (x / 1.25, y / 1.25)),
        # R(theta) p (a turn by theta),
        ("rotate", 0.5, lambda x, y: (x * math.cos(0.5) - y * math.sin(0.5),
                                      x * math.sin(0.5) + y * math.cos(0.5))),
        # (x / s, y * s) (anisotropic),
        ("aniso", 1.2, lambda x, y: (x / 1.2, y * 1.2)),
        # p - t (content moved by t, a fraction of a pixel here).
        ("xfrac_x", 0.7 / 32, lambda x, y: (x - 0.7, y)),
    ],
)  # fmt: skip
def test_general_geometry_resamples_the_content_it_says(name, value, source):
    size = 32
    ys, xs = torch.meshgrid(
        torch.arange(size) - (size - 1) / 2, torch.arange(size) - (size - 1) / 2,
        indexing="ij",
    )  # fmt: skip
    x = wave(xs, ys).expand(1, 3, size, size).clone()
    pipe = AugmentPipe()
    out = pipe.apply(x, only(pipe, 1, **{name: value}))
    sx, sy = source(xs, ys)
    expected = wave(sx, sy)
    inside = (sx.abs() < size / 2 - 4) & (sy.abs() < size / 2 - 4)
    assert inside.sum() > 200
    assert (out[0, 0] - expected)[inside].abs().max() < 0.02
    assert (out[0, 0] - x[0, 0])[inside].abs().max() > 0.1  # it moved
