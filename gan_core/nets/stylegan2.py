"""StyleGAN2 networks (Karras et al. 2020, "Analyzing and Improving the Image
Quality of StyleGAN"), written for GAN Studio in plain PyTorch.

Generator: a mapping network z -> w (8 fully connected layers, lr multiplier
0.01), a learned 4x4 constant, modulated 3x3 convolutions with weight
demodulation (section 2.2, eq. 1-3), per-layer noise with a learned strength, and
the "skip" output architecture (figure 7b: each resolution adds its toRGB output
to the upsampled image so far). Discriminator: the "residual" architecture
(figure 7c) with minibatch standard deviation before the 4x4 epilogue.

Simplifications against the official code, chosen for clarity and CPU speed:
bilinear resampling stands in for the [1, 3, 3, 1] FIR filter (2x bilinear
upsampling is that filter with edge padding), the discriminator downsamples by
average pooling before its stride-free convolution, and there is no activation
clamping (it only matters for fp16).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from gan_core.nets.equalized import EqualConv2d, EqualLinear, lrelu, minibatch_stddev

NOISE_MODES = ("random", "const", "none")


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
        update_w_avg: bool = False,  # Fold this batch into the tracked mean w?
    ) -> torch.Tensor:  # [N, num_ws, w_dim]
        x = normalize_2nd_moment(z)
        if self.embed is not None:
            if c is None:
                raise ValueError("this generator is class-conditional: pass labels")
            onehot = F.one_hot(c.long(), self.num_classes).to(z.dtype)
            x = torch.cat([x, normalize_2nd_moment(self.embed(onehot))], dim=1)
        for layer in self.layers:
            x = layer(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(
                    x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta)
                )
        if truncation_psi != 1.0:
            # Truncation in W (StyleGAN section 3.3): w' = w_avg + psi (w - w_avg).
            x = self.w_avg.lerp(x, truncation_psi)
        return x.unsqueeze(1).repeat(1, self.num_ws, 1)


class ModulatedConv2d(nn.Module):
    """Convolution whose weights are scaled per sample by a style (eq. 1-3).

    Modulation w'_ijk = s_i w_ijk; demodulation divides each output channel by
    sqrt(sum_ik w'_ijk^2 + eps), so unit-variance inputs give unit-variance
    outputs. Computed "non-fused" (scale the input, share one conv, scale the
    output), which is the same maths as per-sample weights and faster in batch.
    """

    def __init__(
        self,
        in_channels: int,  # Input channels.
        out_channels: int,  # Output channels.
        kernel_size: int,  # Square kernel size.
        w_dim: int,  # Style size.
        demodulate: bool = True,  # Normalize output variance (eq. 3)?
        up: bool = False,  # Upsample 2x before the conv?
    ):
        super().__init__()
        # Styles start at one (bias_init=1) so modulation starts as the identity.
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(
            torch.randn(out_channels, in_channels, kernel_size, kernel_size)
        )
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.demodulate, self.up, self.padding = demodulate, up, kernel_size // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # [N, in]
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        weight = self.weight * self.weight_gain
        x = x * styles[:, :, None, None]
        x = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            # sigma_j = sqrt(sum_{i,k} (s_i w_ijk)^2): eq. 3 for every sample.
            w2 = weight.square().sum(dim=(2, 3))  # [out, in]
            dcoefs = (styles.square() @ w2.t() + 1e-8).rsqrt()  # [N, out]
            x = x * dcoefs[:, :, None, None]
        return x


class SynthesisLayer(nn.Module):
    """Modulated conv + per-pixel noise with learned strength + bias + lrelu."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, resolution: int, up: bool):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, w_dim, demodulate=True, up=up)
        self.resolution = resolution
        # Learned noise strength starts at zero (official initialization).
        self.noise_strength = nn.Parameter(torch.zeros([]))
        # Fixed noise image for reproducible sampling (noise_mode="const").
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, noise_mode: str
    ) -> torch.Tensor:
        x = self.conv(x, w)
        if noise_mode == "random":
            n = x.shape[0]
            noise = torch.randn(n, 1, self.resolution, self.resolution, device=x.device)
            x = x + noise.to(x.dtype) * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const.to(x.dtype) * self.noise_strength
        return lrelu(x + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    """Modulated 1x1 conv without demodulation, linear output (figure 7b)."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


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
    ):
        super().__init__()
        self.image_size, self.channels = image_size, channels
        self.num_ws = num_ws_for(image_size)
        resolutions = [2**i for i in range(2, log2_size(image_size) + 1)]
        ch = {r: sg2_channels(r, channel_base, channel_max) for r in resolutions}
        self.const = nn.Parameter(torch.randn(ch[4], 4, 4))
        self.layers = nn.ModuleList([SynthesisLayer(ch[4], ch[4], w_dim, 4, up=False)])
        self.to_rgb = nn.ModuleList([ToRGB(ch[4], channels, w_dim)])
        for r in resolutions[1:]:
            self.layers.append(SynthesisLayer(ch[r // 2], ch[r], w_dim, r, up=True))
            self.layers.append(SynthesisLayer(ch[r], ch[r], w_dim, r, up=False))
            self.to_rgb.append(ToRGB(ch[r], channels, w_dim))

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
            img = F.interpolate(
                img, scale_factor=2.0, mode="bilinear", align_corners=False
            )
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
    ):
        super().__init__()
        self.z_dim, self.w_dim, self.image_size = z_dim, w_dim, image_size
        self.channels, self.num_classes = channels, num_classes
        self.synthesis = SynthesisNetwork(
            w_dim, image_size, channels, channel_base, channel_max
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

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: torch.Tensor | None = None,  # [N] class labels when conditional.
        truncation_psi: float = 1.0,  # Truncation towards the tracked mean w.
        noise_mode: str = "random",  # "const" for reproducible sampling.
    ) -> torch.Tensor:  # [N, C, H, W]
        ws = self.mapping(z, c, truncation_psi=truncation_psi)
        return self.synthesis(ws, noise_mode=noise_mode)


class DiscriminatorBlock(nn.Module):
    """Residual block (figure 7c): two 3x3 convs and a 1x1 skip, halving the size."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_ch, in_ch, 3, activation=True)
        self.conv1 = EqualConv2d(in_ch, out_ch, 3, activation=True)
        self.skip = EqualConv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.skip(F.avg_pool2d(x, 2))
        x = self.conv1(F.avg_pool2d(self.conv0(x), 2))
        # Sum scaled by 1/sqrt(2) so the residual sum keeps unit variance.
        return (x + y) * math.sqrt(0.5)


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
    ):
        super().__init__()
        self.image_size, self.num_classes, self.mbstd_group = (
            image_size,
            num_classes,
            mbstd_group,
        )
        resolutions = [2**i for i in range(log2_size(image_size), 2, -1)]  # R .. 8
        ch = {r: sg2_channels(r, channel_base, channel_max) for r in resolutions + [4]}
        self.from_rgb = EqualConv2d(channels, ch[image_size], 1, activation=True)
        self.blocks = nn.ModuleList(
            DiscriminatorBlock(ch[r], ch[r // 2]) for r in resolutions
        )
        c4 = ch[4]
        self.conv = EqualConv2d(c4 + 1, c4, 3, activation=True)
        self.fc = EqualLinear(c4 * 16, c4, activation=True)
        cmap_dim = c4 if num_classes > 0 else 1
        self.out = EqualLinear(c4, cmap_dim)
        # Projection discriminator (Miyato & Koyama 2018): score = <phi(x), e(c)>.
        self.embed = EqualLinear(num_classes, cmap_dim) if num_classes > 0 else None

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
