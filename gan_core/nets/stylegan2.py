"""StyleGAN2 networks (Karras et al. 2020, "Analyzing and Improving the Image
Quality of StyleGAN"), written for GAN Studio in plain PyTorch.

Generator: a mapping network z -> w (8 fully connected layers, lr multiplier
0.01), a learned 4x4 constant, modulated 3x3 convolutions with weight
demodulation (section 2.2, eq. 1-3), per-layer noise with a learned strength, and
the "skip" output architecture (figure 7b: each resolution adds its toRGB output
to the upsampled image so far). Discriminator: the "residual" architecture
(figure 7c) with minibatch standard deviation before the 4x4 epilogue.

Resampling is the paper's (appendix B) and the reference's
(NVlabs/stylegan2-ada-pytorch, ``conv2d_resample``): the generator's upsampling
convolutions are transposed (stride 2) convolutions followed by the [1, 3, 3, 1]
FIR filter, the skip image is upsampled with that filter, and the discriminator
blurs with it before each stride-2 convolution, on the main path and the skip.
Activations are clamped to +-256 (``conv_clamp``, scaled by the layer's gain),
as the reference's train.py does for every configuration so fp16 cannot
overflow. Simplification: the reference's fused per-sample-weight path is not
used; modulation scales the input instead (the same function).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from gan_core import distributed
from gan_core.checkpoint import CheckpointError
from gan_core.nets.bias_act import bias_lrelu_clamp
from gan_core.nets.equalized import (
    LRELU_GAIN,
    EqualConv2d,
    EqualLinear,
    act_gain,
    minibatch_stddev,
)
from gan_core.nets.resample import make_filter, upfirdn2d, upsample2d

NOISE_MODES = ("random", "const", "none")
CONV_CLAMP = 256.0  # stylegan2-ada-pytorch train.py: conv_clamp = 256.
# A state-dict key only FIR-resampling networks have: checkpoints without it
# come from the bilinear networks, whose weights draw other images here.
RESAMPLING_KEY = "fir_resampling"


class OldResamplingError(CheckpointError):
    """Weights saved by the bilinear networks, before FIR resampling."""


def clamp(x: torch.Tensor, limit: float | None) -> torch.Tensor:
    """Clamp to [-limit, limit] (the reference's bias_act clamp); None: no-op.
    The clamp saves a bool mask for its backward, not its float input
    (gan_core.nets.bias_act)."""
    return bias_lrelu_clamp(x, None, False, limit)


def lrelu_clamp(x: torch.Tensor, limit: float | None) -> torch.Tensor:
    """leaky_relu(x, 0.2), then the clamp, for an x whose sqrt(2) gain was
    already folded into the weights and bias that made it (lrelu is positively
    homogeneous); two bool masks saved for the backward instead of two floats."""
    return bias_lrelu_clamp(x, None, True, limit, gain=1.0)


def _require_fir_marker(state_dict, prefix, *args) -> None:
    if prefix + RESAMPLING_KEY not in state_dict:
        raise OldResamplingError(
            "this StyleGAN2 checkpoint predates FIR resampling (its networks "
            "upsampled bilinearly); its weights would draw different images "
            "now, so retrain it"
        )


def mark_fir_resampling(net: nn.Module) -> None:
    """Give ``net`` the resampling marker and refuse state dicts without it."""
    net.register_buffer(RESAMPLING_KEY, torch.ones([]))
    net._register_load_state_dict_pre_hook(_require_fir_marker)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each row to unit root-mean-square (StyleGAN's input normalization)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def log2_size(image_size: int) -> int:
    """log2 of a power-of-two ``image_size`` >= 4, else ValueError."""
    log2 = int(math.log2(image_size))
    if image_size < 4 or 2**log2 != image_size:
        raise ValueError(f"image_size must be a power of two >= 4, got {image_size}")
    return log2


def num_ws_for(image_size: int) -> int:
    """Number of w vectors the synthesis network consumes: 2 log2(size) - 2."""
    return 2 * log2_size(image_size) - 2


def ws_resolution(index: int, image_size: int) -> int:
    """Resolution of the layer that reads w number ``index``.

    w 0 drives the 4x4 conv; ws 2k-1 and 2k drive the two convs at 4 * 2^k; the
    last w only feeds the final toRGB, which sits at the output resolution.
    """
    return min(4 * 2 ** ((index + 1) // 2), image_size)


def style_layer_ranges(image_size: int) -> dict[str, list[int]]:
    """The w indices of the "coarse", "middle" and "fine" styles.

    StyleGAN (Karras 2019, section 3.1) calls 4-8 px coarse, 16-32 px middle and
    64 px and up fine. A model smaller than 64 px has no fine layers by that
    definition, so there the ws are split into three near-equal contiguous thirds.
    """
    n = num_ws_for(image_size)
    if image_size >= 64:
        res = [ws_resolution(i, image_size) for i in range(n)]
        return {
            "coarse": [i for i in range(n) if res[i] <= 8],
            "middle": [i for i in range(n) if 16 <= res[i] <= 32],
            "fine": [i for i in range(n) if res[i] >= 64],
        }
    a, b = round(n / 3), round(2 * n / 3)
    return {
        "coarse": list(range(a)),
        "middle": list(range(a, b)),
        "fine": list(range(b, n)),
    }


def mix_styles(
    ws_row: torch.Tensor,  # [N, num_ws, w_dim] styles of the row images.
    ws_col: torch.Tensor,  # [N, num_ws, w_dim] styles of the column images.
    layers: list[int],  # w indices taken from the column.
) -> torch.Tensor:
    """Styles of the row with the listed layers replaced by the column's."""
    mixed = ws_row.clone()
    if layers:
        idx = torch.as_tensor(list(layers), dtype=torch.long, device=ws_row.device)
        mixed[:, idx] = ws_col[:, idx]
    return mixed


class MappingNetwork(nn.Module):
    """z (and optional class) -> w, broadcast to num_ws; tracks the mean w."""

    def __init__(
        self,
        z_dim: int,  # Latent size.
        w_dim: int,  # Intermediate latent (style) size.
        num_ws: int,  # How many copies of w the synthesis network reads.
        num_classes: int = 0,  # Class-conditional when > 0.
        num_layers: int = 8,  # Fully connected layers (the paper's 8).
        lr_mul: float = 0.01,  # Learning-rate multiplier (StyleGAN, appendix C).
        w_avg_beta: float = 0.995,  # Decay of the tracked mean w.
    ):
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws = z_dim, w_dim, num_ws
        self.num_classes, self.w_avg_beta = num_classes, w_avg_beta
        self.embed = EqualLinear(num_classes, z_dim) if num_classes > 0 else None
        in_dim = z_dim * (2 if num_classes > 0 else 1)
        dims = [in_dim] + [w_dim] * num_layers
        self.layers = nn.ModuleList(
            EqualLinear(dims[i], dims[i + 1], lr_mul=lr_mul, activation=True)
            for i in range(num_layers)
        )
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim] latents.
        c: torch.Tensor | None = None,  # [N] int64 class labels, when conditional.
        truncation_psi: float = 1.0,  # 1 = no truncation, 0 = the mean w.
        update_w_avg: bool | None = None,  # Track the mean w? None: if training.
    ) -> torch.Tensor:  # [N, num_ws, w_dim]
        x = normalize_2nd_moment(z)
        if self.embed is not None:
            if c is None:
                raise ValueError("this generator is class-conditional: pass labels")
            onehot = F.one_hot(c.long(), self.num_classes).to(z.dtype)
            x = torch.cat([x, normalize_2nd_moment(self.embed(onehot))], dim=1)
        for layer in self.layers:
            x = layer(x)
        # The reference tracks w_avg at every training-mode call (G main, path
        # length and D's fakes), in fp32 whatever autocast makes of x.
        if self.training if update_w_avg is None else update_w_avg:
            with torch.no_grad():
                batch_mean = distributed.mean(x.detach().float().mean(dim=0))
                self.w_avg.copy_(batch_mean.lerp(self.w_avg, self.w_avg_beta))
        if truncation_psi != 1.0:
            # Truncation in W (StyleGAN section 3.3): w' = w_avg + psi (w - w_avg).
            x = self.w_avg.to(x.dtype).lerp(x, truncation_psi)
        return x.unsqueeze(1).repeat(1, self.num_ws, 1)


class ModulatedConv2d(nn.Module):
    """Convolution whose weights are scaled per sample by a style (eq. 1-3).

    Modulation w'_ijk = s_i w_ijk; demodulation divides each output channel by
    sqrt(sum_ik w'_ijk^2 + eps), so unit-variance inputs give unit-variance
    outputs. Computed "non-fused" (scale the input, share one conv, scale the
    output), which is the same maths as per-sample weights and faster in batch.
    ``up``: a stride-2 transposed convolution, then the FIR filter (gain 4),
    as the reference's conv2d_resample with up=2.
    """

    def __init__(
        self,
        in_channels: int,  # Input channels.
        out_channels: int,  # Output channels.
        kernel_size: int,  # Square kernel size.
        w_dim: int,  # Style size.
        demodulate: bool = True,  # Normalize output variance (eq. 3)?
        up: bool = False,  # Upsample 2x (transposed conv + FIR filter)?
    ):
        super().__init__()
        # Styles start at one (bias_init=1) so modulation starts as the identity.
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(
            torch.randn(out_channels, in_channels, kernel_size, kernel_size)
        )
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.demodulate, self.up, self.padding = demodulate, up, kernel_size // 2
        self.register_buffer("resample_filter", make_filter(), persistent=False)

    def forward(
        self,
        x: torch.Tensor,  # [N, in, H, W]
        w: torch.Tensor,  # [N, w_dim] styles.
        bias: torch.Tensor | None = None,  # [out] added after demodulation.
        noise: torch.Tensor | None = None,  # Broadcasts to the output; added too.
        gain: float = 1.0,  # Scales the whole result, bias and noise included.
    ) -> torch.Tensor:  # gain * (demodulated conv(x * styles) + noise + bias)
        styles = self.affine(w)  # [N, in]
        weight = self.weight * self.weight_gain
        x = x * styles[:, :, None, None]
        if not self.demodulate and not self.up and noise is None:
            # toRGB: bias and gain go into the convolution (no extra passes).
            b = None if bias is None else (bias * gain).to(x.dtype)
            return F.conv2d(x, (weight * gain).to(x.dtype), b, padding=self.padding)
        if self.up:
            x = self._conv_up(x, weight.to(x.dtype))
        else:
            x = F.conv2d(x, weight.to(x.dtype), padding=self.padding)
        scale = torch.full_like(styles[:, :1], gain)  # [N, 1] when not demodulating
        if self.demodulate:
            # sigma_j = sqrt(sum_{i,k} (s_i w_ijk)^2): eq. 3 for every sample.
            w2 = weight.square().sum(dim=(2, 3))  # [out, in]
            scale = (styles.square() @ w2.t() + 1e-8).rsqrt() * gain  # [N, out]
        # One fused multiply-add for demodulation, gain and noise (the
        # reference's fma), then the bias: two full-size passes instead of four.
        scale = scale.to(x.dtype)[:, :, None, None]
        if noise is None:
            x = x * scale
        else:
            x = torch.addcmul((noise * gain).to(x.dtype), x, scale)
        if bias is not None:
            x = x + (bias * gain).to(x.dtype)[None, :, None, None]
        return x

    def _conv_up(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        # [N, in, H, W] -> [N, out, 2H + k - 2, ...] -> FIR -> [N, out, 2H, 2W];
        # the paddings are conv2d_resample's for up=2 with this kernel size.
        k, f = weight.shape[-1], self.resample_filter
        x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
        p0 = self.padding + (f.numel() + 1) // 2 - (k - 1)
        p1 = self.padding + (f.numel() - 2) // 2 - (k - 2)
        return upfirdn2d(x, f, padding=(p0, p1, p0, p1), gain=4.0)


class SynthesisLayer(nn.Module):
    """Modulated conv + per-pixel noise with learned strength + bias + lrelu."""

    def __init__(
        self,
        in_ch: int,  # Input channels.
        out_ch: int,  # Output channels.
        w_dim: int,  # Style size.
        resolution: int,  # Output side.
        up: bool,  # First layer of a block: upsample 2x.
        conv_clamp: float | None = CONV_CLAMP,  # Activation clamp (None: off).
    ):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, w_dim, demodulate=True, up=up)
        self.resolution, self.conv_clamp = resolution, conv_clamp
        # Learned noise strength starts at zero (official initialization).
        self.noise_strength = nn.Parameter(torch.zeros([]))
        # Fixed noise image for reproducible sampling (noise_mode="const").
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, noise_mode: str
    ) -> torch.Tensor:
        noise = None
        if noise_mode == "random":
            n = x.shape[0]
            # This rank's rows of noise drawn for the global batch.
            noise = distributed.randn(
                n, 1, self.resolution, self.resolution, device=x.device
            )
            noise = noise * self.noise_strength
        elif noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        # lrelu(y) * sqrt(2) = leaky_relu(sqrt(2) y): the activation's gain is
        # applied in the convolution's tail, with the bias and the noise.
        x = self.conv(x, w, bias=self.bias, noise=noise, gain=LRELU_GAIN)
        return lrelu_clamp(x, self.conv_clamp)


class ToRGB(nn.Module):
    """Modulated 1x1 conv without demodulation, linear output (figure 7b)."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, conv_clamp: float | None):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.conv_clamp = conv_clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return clamp(self.conv(x, w, bias=self.bias), self.conv_clamp)


def sg2_channels(res: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at resolution ``res``: channel_base / res, at most channel_max."""
    return max(1, min(channel_base // res, channel_max))


class SynthesisNetwork(nn.Module):
    """ws -> image through a learned constant and one block per resolution."""

    def __init__(
        self,
        w_dim: int,  # Style size.
        image_size: int,  # Output resolution (power of two >= 4).
        channels: int,  # Image channels.
        channel_base: int,  # Feature maps are channel_base / res ...
        channel_max: int,  # ... capped at channel_max.
        conv_clamp: float | None = CONV_CLAMP,  # Activation clamp (None: off).
    ):
        super().__init__()
        self.image_size, self.channels = image_size, channels
        self.num_ws = num_ws_for(image_size)
        resolutions = [2**i for i in range(2, log2_size(image_size) + 1)]
        ch = {r: sg2_channels(r, channel_base, channel_max) for r in resolutions}
        cc = conv_clamp
        self.const = nn.Parameter(torch.randn(ch[4], 4, 4))
        self.layers = nn.ModuleList(
            [SynthesisLayer(ch[4], ch[4], w_dim, 4, up=False, conv_clamp=cc)]
        )
        self.to_rgb = nn.ModuleList([ToRGB(ch[4], channels, w_dim, cc)])
        for r in resolutions[1:]:
            self.layers.append(SynthesisLayer(ch[r // 2], ch[r], w_dim, r, True, cc))
            self.layers.append(SynthesisLayer(ch[r], ch[r], w_dim, r, False, cc))
            self.to_rgb.append(ToRGB(ch[r], channels, w_dim, cc))
        self.register_buffer("resample_filter", make_filter(), persistent=False)

    def forward(
        self,
        ws: torch.Tensor,  # [N, num_ws, w_dim]
        noise_mode: str = "random",  # "random", "const" or "none".
    ) -> torch.Tensor:  # [N, C, image_size, image_size], roughly in [-1, 1].
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}")
        x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
        x = self.layers[0](x, ws[:, 0], noise_mode)
        img = self.to_rgb[0](x, ws[:, 1])
        for k in range(1, len(self.to_rgb)):
            i = 2 * k - 1  # The first of this resolution's two w indices.
            x = self.layers[i](x, ws[:, i], noise_mode)
            x = self.layers[i + 1](x, ws[:, i + 1], noise_mode)
            img = upsample2d(img, self.resample_filter)
            # Skip architecture: every resolution adds its own RGB contribution; the
            # toRGB of a block shares its w with the next block's first conv.
            img = img + self.to_rgb[k](x, ws[:, i + 2])
        return img


class StyleGenerator(nn.Module):
    """The full StyleGAN2 generator: mapping + synthesis."""

    def __init__(
        self,
        z_dim: int = 512,  # Latent size.
        w_dim: int = 512,  # Style size.
        image_size: int = 256,  # Output resolution (16 ... 1024).
        channels: int = 3,  # Image channels.
        num_classes: int = 0,  # Class-conditional when > 0.
        mapping_layers: int = 8,  # Depth of the mapping network.
        mapping_lr_mul: float = 0.01,  # Mapping network's lr multiplier.
        channel_base: int = 32768,  # Config F: 32768 / res feature maps ...
        channel_max: int = 512,  # ... capped at 512.
        w_avg_beta: float = 0.995,  # Decay of the tracked mean w.
        conv_clamp: float | None = CONV_CLAMP,  # Activation clamp (None: off).
    ):
        super().__init__()
        self.z_dim, self.w_dim, self.image_size = z_dim, w_dim, image_size
        self.channels, self.num_classes = channels, num_classes
        self.synthesis = SynthesisNetwork(
            w_dim, image_size, channels, channel_base, channel_max, conv_clamp
        )
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            z_dim,
            w_dim,
            self.num_ws,
            num_classes=num_classes,
            num_layers=mapping_layers,
            lr_mul=mapping_lr_mul,
            w_avg_beta=w_avg_beta,
        )
        mark_fir_resampling(self)

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: torch.Tensor | None = None,  # [N] class labels when conditional.
        truncation_psi: float = 1.0,  # Truncation towards the tracked mean w.
        noise_mode: str = "random",  # "const" for reproducible sampling.
    ) -> torch.Tensor:  # [N, C, H, W]
        ws = self.mapping(z, c, truncation_psi=truncation_psi)
        return self.synthesis(ws, noise_mode=noise_mode)


class Conv2dLayer(EqualConv2d):
    """EqualConv2d with the reference's clamp and output gain and, with
    ``down``, its FIR blur before a stride-2 convolution (conv2d_resample with
    down=2)."""

    def __init__(
        self,
        in_channels: int,  # Input channels.
        out_channels: int,  # Output channels.
        kernel_size: int,  # Square kernel size.
        bias: bool = True,  # Add a learned bias?
        activation: bool = False,  # Apply the scaled leaky ReLU?
        down: bool = False,  # Halve the size (FIR blur, then stride 2)?
        conv_clamp: float | None = CONV_CLAMP,  # Activation clamp (None: off).
        gain: float = 1.0,  # Output scale; the clamp scales with it.
    ):
        super().__init__(
            in_channels, out_channels, kernel_size, bias=bias, activation=activation
        )
        self.down, self.conv_clamp, self.gain = down, conv_clamp, gain
        self.register_buffer("resample_filter", make_filter(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The reference's bias_act(gain=act_gain * gain, clamp=conv_clamp * gain),
        # with both gains folded into the (small) weight and bias: lrelu is
        # positively homogeneous, so no full-size multiply is left.
        g = act_gain(self.activation) * self.gain
        weight = (self.weight * (self.weight_gain * g)).to(x.dtype)
        bias = (self.bias * g).to(x.dtype) if self.bias is not None else None
        if not self.down:
            x = F.conv2d(x, weight, bias, padding=self.padding)
        else:
            f, k = self.resample_filter, weight.shape[-1]
            p0 = self.padding + (f.numel() - 1) // 2
            p1 = self.padding + (f.numel() - 2) // 2
            if k == 1:  # 1x1: decimate while filtering, then the cheap conv.
                x = upfirdn2d(x, f, down=2, padding=(p0, p1, p0, p1))
                x = F.conv2d(x, weight, bias)
            else:
                x = upfirdn2d(x, f, padding=(p0, p1, p0, p1))
                x = F.conv2d(x, weight, bias, stride=2)
        limit = None if self.conv_clamp is None else self.conv_clamp * self.gain
        return bias_lrelu_clamp(x, None, self.activation, limit, gain=1.0)


class DiscriminatorBlock(nn.Module):
    """Residual block (figure 7c): two 3x3 convs and a 1x1 skip, halving the size
    by FIR blur and stride 2 on both paths."""

    def __init__(self, in_ch: int, out_ch: int, conv_clamp: float | None):
        super().__init__()
        cc = conv_clamp
        # Both paths are scaled by 1/sqrt(2) so the residual sum keeps unit
        # variance; inside the layers, as the reference's gain (clamp * gain).
        half = math.sqrt(0.5)
        self.conv0 = Conv2dLayer(in_ch, in_ch, 3, activation=True, conv_clamp=cc)
        self.conv1 = Conv2dLayer(
            in_ch, out_ch, 3, activation=True, down=True, conv_clamp=cc, gain=half
        )
        self.skip = Conv2dLayer(
            in_ch, out_ch, 1, bias=False, down=True, conv_clamp=cc, gain=half
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.skip(x)
        return self.conv1(self.conv0(x)) + y


class StyleDiscriminator(nn.Module):
    """Residual discriminator with minibatch std; projection head if conditional."""

    def __init__(
        self,
        image_size: int = 256,  # Input resolution.
        channels: int = 3,  # Image channels.
        num_classes: int = 0,  # Projection discriminator when > 0.
        channel_base: int = 32768,  # Feature maps are channel_base / res ...
        channel_max: int = 512,  # ... capped at channel_max.
        mbstd_group: int = 4,  # Minibatch std group size.
        conv_clamp: float | None = CONV_CLAMP,  # Activation clamp (None: off).
    ):
        super().__init__()
        self.image_size, self.num_classes, self.mbstd_group = (
            image_size,
            num_classes,
            mbstd_group,
        )
        resolutions = [2**i for i in range(log2_size(image_size), 2, -1)]  # R .. 8
        ch = {r: sg2_channels(r, channel_base, channel_max) for r in resolutions + [4]}
        cc = conv_clamp
        self.from_rgb = Conv2dLayer(
            channels, ch[image_size], 1, activation=True, conv_clamp=cc
        )
        self.blocks = nn.ModuleList(
            DiscriminatorBlock(ch[r], ch[r // 2], cc) for r in resolutions
        )
        c4 = ch[4]
        self.conv = Conv2dLayer(c4 + 1, c4, 3, activation=True, conv_clamp=cc)
        self.fc = EqualLinear(c4 * 16, c4, activation=True)
        cmap_dim = c4 if num_classes > 0 else 1
        self.out = EqualLinear(c4, cmap_dim)
        # Projection discriminator (Miyato & Koyama 2018): score = <phi(x), e(c)>.
        self.embed = EqualLinear(num_classes, cmap_dim) if num_classes > 0 else None
        mark_fir_resampling(self)

    def d_blocks(self) -> list[nn.Module]:
        """The residual blocks from the image side, the first with from_rgb."""
        first = nn.ModuleList([self.from_rgb, self.blocks[0]])
        return [first, *self.blocks[1:]]

    def forward(
        self,
        img: torch.Tensor,  # [N, C, H, W]
        c: torch.Tensor | None = None,  # [N] class labels when conditional.
    ) -> torch.Tensor:  # [N, 1] logits.
        x = self.from_rgb(img)
        for block in self.blocks:
            x = block(x)
        x = self.conv(minibatch_stddev(x, self.mbstd_group))
        x = self.out(self.fc(x.flatten(1)))
        if self.embed is None:
            return x
        if c is None:
            raise ValueError("this discriminator is class-conditional: pass labels")
        cmap = self.embed(F.one_hot(c.long(), self.num_classes).to(x.dtype))
        return (x * cmap).sum(dim=1, keepdim=True) / math.sqrt(cmap.shape[1])
