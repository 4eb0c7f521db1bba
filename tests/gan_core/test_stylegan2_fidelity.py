"""StyleGAN2 against the reference's formulation: FIR resampling, multiply-adds,
conv clamping, and checkpoints from the bilinear networks."""

import math

import pytest
import torch
from torch.nn import functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from gan_core.nets.stylegan2 import (
    DiscriminatorBlock,
    StyleDiscriminator,
    StyleGenerator,
    sg2_channels,
)

TAPS = torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=torch.float64)
KERNEL = torch.outer(TAPS, TAPS) / TAPS.sum() ** 2
SIZE, BASE, CMAX, C = 32, 256, 32, 3


def tiny_generator() -> StyleGenerator:
    torch.manual_seed(0)
    g = StyleGenerator(
        z_dim=8,
        w_dim=8,
        image_size=SIZE,
        channels=C,
        mapping_layers=2,
        channel_base=BASE,
        channel_max=CMAX,
    ).double()
    with torch.no_grad():  # biases and noise strengths start at zero: move them
        for name, p in g.named_parameters():
            if name.endswith("bias") or name.endswith("noise_strength"):
                p.add_(0.3 * torch.randn_like(p))
    return g.eval()


def fir(x: torch.Tensor, pad: tuple[int, int], gain: float) -> torch.Tensor:
    """Depthwise 2-D convolution with gain * the [1,3,3,1] outer product."""
    c = x.shape[1]
    k = (KERNEL * gain).to(x.dtype)[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(F.pad(x, [pad[0], pad[1], pad[0], pad[1]]), k, groups=c)


def zero_insert(x: torch.Tensor, trailing: bool) -> torch.Tensor:
    n, c, h, w = x.shape
    side = (2 * h, 2 * w) if trailing else (2 * h - 1, 2 * w - 1)
    z = x.new_zeros(n, c, *side)
    z[:, :, ::2, ::2] = x
    return z


def ref_modconv(x, layer, w, demodulate: bool, up: bool):
    """The reference's fused path: per-sample weights, grouped convolution; up=2
    is a transposed conv (zero insertion + full conv) then FIR with gain 4."""
    n, i, _, _ = x.shape
    weight = layer.weight * layer.weight_gain  # [O, I, k, k]
    o, k = weight.shape[0], weight.shape[-1]
    a = layer.affine
    styles = F.linear(w, a.weight * a.weight_gain, a.bias * a.lr_mul)  # [N, I]
    wn = weight[None] * styles[:, None, :, None, None]
    if demodulate:
        wn = wn * (wn.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()[..., None, None, None]
    wn = wn.reshape(n * o, i, k, k)
    x = x.reshape(1, n * i, *x.shape[2:])
    if up:
        z = F.pad(zero_insert(x, trailing=False), [k - 1] * 4)
        x = fir(F.conv2d(z, wn.flip([2, 3]), groups=n), (1, 1), 4.0)
    else:
        x = F.conv2d(x, wn, padding=k // 2, groups=n)
    return x.reshape(n, o, *x.shape[2:])


def ref_generator(g: StyleGenerator, z: torch.Tensor) -> torch.Tensor:
    """Mapping, then the skip synthesis with FIR resampling and constant noise."""
    x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
    for fc in g.mapping.layers:
        x = F.leaky_relu(
            F.linear(x, fc.weight * fc.weight_gain, fc.bias * fc.lr_mul), 0.2
        ) * math.sqrt(2)
    s = g.synthesis

    def layer(x, idx):
        lay = s.layers[idx]
        x = ref_modconv(x, lay.conv, x_w, True, lay.conv.up)
        x = x + lay.noise_const * lay.noise_strength
        x = F.leaky_relu(x + lay.bias[None, :, None, None], 0.2) * math.sqrt(2)
        return x.clamp(-256, 256)

    def to_rgb(x, k):
        t = s.to_rgb[k]
        return (
            ref_modconv(x, t.conv, x_w, False, False) + t.bias[:, None, None]
        ).clamp(-256, 256)

    x_w = x
    h = s.const[None].repeat(z.shape[0], 1, 1, 1)
    h = layer(h, 0)
    img = to_rgb(h, 0)
    for k in range(1, len(s.to_rgb)):
        h = layer(layer(h, 2 * k - 1), 2 * k)
        img = fir(F.pad(zero_insert(img, trailing=True), [2, 1, 2, 1]), (0, 0), 4.0)
        img = img + to_rgb(h, k)
    return img


def test_generator_matches_the_reference_formulation_with_fir_resampling():
    g = tiny_generator()
    z = torch.randn(3, 8, generator=torch.Generator().manual_seed(1)).double()
    with torch.no_grad():
        ours = g(z, noise_mode="const")
        want = ref_generator(g, z)
    assert ours.shape == (3, C, SIZE, SIZE)
    assert (ours - want).abs().max().item() < 1e-5


def test_discriminator_block_blurs_then_strides_two_on_both_paths():
    torch.manual_seed(2)
    block = DiscriminatorBlock(4, 6, conv_clamp=256.0).double()
    with torch.no_grad():
        block.conv0.bias.normal_()
        block.conv1.bias.normal_()
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)

    def conv(layer, x, stride, pad):
        w = layer.weight * layer.weight_gain
        return F.conv2d(x, w, layer.bias, stride=stride, padding=pad)

    def act(x):
        return (F.leaky_relu(x, 0.2) * math.sqrt(2)).clamp(-256, 256)

    y = conv(block.skip, fir(x, (1, 1), 1.0)[:, :, ::2, ::2], 1, 0)
    h = act(conv(block.conv0, x, 1, 1))
    h = act(conv(block.conv1, fir(h, (2, 2), 1.0), 2, 0))
    want = (h + y.clamp(-256, 256)) * math.sqrt(0.5)
    with torch.no_grad():
        ours = block(x)
    assert ours.shape == (2, 6, 4, 4)
    assert (ours - want).abs().max().item() < 1e-10


class ConvCounter(TorchDispatchMode):
    """Multiply-adds of every convolution, split into weight convolutions
    (groups == 1) and depthwise filtering (the FIR)."""

    def __init__(self):
        super().__init__()
        self.weight_macs = self.filter_macs = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.ops.aten.convolution.default:
            x, w, transposed, groups = args[0], args[1], args[6], args[8]
            # Each weight element meets one input (transposed) or output pixel.
            pixels = math.prod((x if transposed else out).shape[2:])
            macs = w.numel() * pixels * x.shape[0]
            if groups == 1:
                self.weight_macs += macs
            else:
                self.filter_macs += macs
        return out


def reference_weight_macs(size: int, base: int, cmax: int, rgb: int) -> int:
    """Convolution multiply-adds per image of stylegan2-ada-pytorch's skip
    generator: block 4 has conv1 (3x3) and toRGB; every block r >= 8 has conv0
    (3x3 transposed, stride 2, on the r/2 input), conv1 (3x3 at r) and toRGB."""
    ch = {r: sg2_channels(r, base, cmax) for r in (2**i for i in range(2, 11))}
    macs = ch[4] * ch[4] * 9 * 16 + ch[4] * rgb * 16
    r = 8
    while r <= size:
        macs += ch[r // 2] * ch[r] * 9 * (r // 2) ** 2  # conv0, up=2
        macs += ch[r] * ch[r] * 9 * r**2 + ch[r] * rgb * r**2  # conv1, toRGB
        r *= 2
    return macs


@pytest.mark.parametrize("size", [8, 32])
def test_generator_multiply_adds_equal_the_reference_architecture(size):
    g = StyleGenerator(
        z_dim=8, w_dim=8, image_size=size, channels=C, mapping_layers=1,
        channel_base=512, channel_max=32,
    )  # fmt: skip
    ws = torch.randn(2, g.num_ws, 8)
    counter = ConvCounter()
    with torch.no_grad(), counter:
        g.synthesis(ws, noise_mode="none")
    assert counter.weight_macs == 2 * reference_weight_macs(size, 512, 32, C)
    # The FIR filtering is separable (4 + 4 taps): a few per cent on top.
    assert counter.filter_macs < 0.1 * counter.weight_macs


def test_conv_clamp_bounds_activations_and_zero_turns_it_off():
    torch.manual_seed(3)
    d = StyleDiscriminator(image_size=16, channels=3, channel_base=64, channel_max=8)
    loud = torch.full((2, 3, 16, 16), 1e5)
    feats = d.from_rgb(loud)
    assert feats.abs().max().item() == pytest.approx(256.0)
    free = StyleDiscriminator(
        image_size=16, channels=3, channel_base=64, channel_max=8, conv_clamp=None
    )
    free.load_state_dict(d.state_dict())
    assert free.from_rgb(loud).abs().max().item() > 1e3
