"""Progressive growing of GANs (Karras et al. 2018, "Progressive Growing of GANs").

Both networks are built for the final resolution up front; which stages take part
is chosen at run time by ``stage`` (0 is 4x4, s is 4 * 2^s) and ``alpha`` (the
fade-in weight of the newest stage, section 2 and figure 2 of the paper). Both are
persistent buffers so that an EMA copy, a checkpoint and the sampling API all see
the resolution the model was trained to.

The generator always returns images at the final resolution (the current stage's
image nearest-upsampled), so sample grids keep one size while the model grows; the
discriminator average-pools whatever it is given down to the current stage.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from gan_core.nets.equalized import EqualConv2d, EqualLinear, minibatch_stddev


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalize each pixel's feature vector to unit length (section 4.2, eq. 1)."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def fade(old: torch.Tensor, new: torch.Tensor, alpha: float) -> torch.Tensor:
    """old + alpha (new - old), in the wider dtype of the two: under CUDA
    autocast one can be fp32 and the other bf16, and lerp takes one dtype."""
    dtype = torch.promote_types(old.dtype, new.dtype)
    return torch.lerp(old.to(dtype), new.to(dtype), alpha)


def num_stages(image_size: int) -> int:
    """Number of stages from 4x4 to ``image_size`` inclusive (8 px -> 2)."""
    log2 = int(math.log2(image_size))
    if image_size < 4 or 2**log2 != image_size:
        raise ValueError(f"image_size must be a power of two >= 4, got {image_size}")
    return log2 - 1


def stage_channels(res: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at resolution ``res``: the paper's 16384 / res capped at 512."""
    return max(1, min(channel_base // res, channel_max))


def upsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Nearest-neighbour upsampling to ``size`` (the paper's upsampling)."""
    if x.shape[-1] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="nearest")


def downsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Average-pool to ``size`` (the paper's downsampling)."""
    if x.shape[-1] == size:
        return x
    return F.adaptive_avg_pool2d(x, size)


class _ProgressMixin(nn.Module):
    """Stage and fade-in weight, stored as buffers so they travel with the state."""

    def _init_progress(self, stages: int) -> None:
        self.num_stages = stages
        self.register_buffer("stage", torch.tensor(stages - 1, dtype=torch.long))
        self.register_buffer("alpha", torch.tensor(1.0))

    def set_progress(self, stage: int, alpha: float) -> None:
        """Select the active stage (0 = 4x4) and its fade-in weight in [0, 1]."""
        if not 0 <= stage < self.num_stages:
            raise ValueError(f"stage {stage} outside 0..{self.num_stages - 1}")
        self.stage.fill_(int(stage))
        self.alpha.fill_(float(min(max(alpha, 0.0), 1.0)))

    def _progress(self, stage: int | None, alpha: float | None) -> tuple[int, float]:
        s = int(self.stage) if stage is None else int(stage)
        a = float(self.alpha) if alpha is None else float(alpha)
        return s, a


class ProGenerator(_ProgressMixin):
    """Growing generator: z -> 4x4 -> ... -> image_size, pixel norm after each conv."""

    def __init__(
        self,
        z_dim: int = 512,  # Latent size.
        image_size: int = 64,  # Final resolution (power of two).
        channels: int = 3,  # Image channels.
        channel_base: int = 16384,  # Feature maps are channel_base / res ...
        channel_max: int = 512,  # ... capped at channel_max.
    ):
        super().__init__()
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        stages = num_stages(image_size)
        ch = [
            stage_channels(4 * 2**s, channel_base, channel_max) for s in range(stages)
        ]
        # Stage 0: a dense layer acts as the 4x4 "deconvolution" from z (table 2).
        self.dense = EqualLinear(z_dim, ch[0] * 16, activation=True)
        self.conv0 = EqualConv2d(ch[0], ch[0], 3, activation=True)
        self.blocks = nn.ModuleList([nn.Identity()])
        for s in range(1, stages):
            self.blocks.append(
                nn.ModuleList(
                    [
                        EqualConv2d(ch[s - 1], ch[s], 3, activation=True),
                        EqualConv2d(ch[s], ch[s], 3, activation=True),
                    ]
                )
            )
        # toRGB layers are linear 1x1 convs (section 4.1).
        self.to_rgb = nn.ModuleList([EqualConv2d(c, channels, 1) for c in ch])
        self._init_progress(stages)

    def _block(self, s: int, h: torch.Tensor) -> torch.Tensor:
        if s == 0:
            return h
        conv_a, conv_b = self.blocks[s]
        h = upsample(h, h.shape[-1] * 2)
        return pixel_norm(conv_b(pixel_norm(conv_a(h))))

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim] latents.
        stage: int | None = None,  # Defaults to the stored stage ...
        alpha: float | None = None,  # ... and fade-in weight.
        full_size: bool = True,  # Upsample the result to image_size?
    ) -> torch.Tensor:
        s, a = self._progress(stage, alpha)
        h = self.dense(pixel_norm(z)).reshape(z.shape[0], -1, 4, 4)
        h = pixel_norm(self.conv0(pixel_norm(h)))
        prev = h
        for i in range(1, s + 1):
            prev = h
            h = self._block(i, h)
        img = self.to_rgb[s](h)
        if s > 0 and a < 1.0:
            # Fade-in (figure 2b): the new stage's image blended with the upsampled
            # image of the previous stage, with weight alpha on the new one.
            old = upsample(self.to_rgb[s - 1](prev), img.shape[-1])
            img = fade(old, img, a)
        return upsample(img, self.image_size) if full_size else img


class ProDiscriminator(_ProgressMixin):
    """Growing critic: image_size -> ... -> 4x4, minibatch std before the last block."""

    def __init__(
        self,
        image_size: int = 64,  # Final resolution (power of two).
        channels: int = 3,  # Image channels.
        channel_base: int = 16384,  # Feature maps are channel_base / res ...
        channel_max: int = 512,  # ... capped at channel_max.
        mbstd_group: int = 4,  # Minibatch std group size (section 3).
    ):
        super().__init__()
        self.image_size, self.channels, self.mbstd_group = (
            image_size,
            channels,
            mbstd_group,
        )
        stages = num_stages(image_size)
        ch = [
            stage_channels(4 * 2**s, channel_base, channel_max) for s in range(stages)
        ]
        self.from_rgb = nn.ModuleList(
            [EqualConv2d(channels, c, 1, activation=True) for c in ch]
        )
        self.blocks = nn.ModuleList([nn.Identity()])
        for s in range(1, stages):
            self.blocks.append(
                nn.ModuleList(
                    [
                        EqualConv2d(ch[s], ch[s], 3, activation=True),
                        EqualConv2d(ch[s], ch[s - 1], 3, activation=True),
                    ]
                )
            )
        self.final_conv = EqualConv2d(ch[0] + 1, ch[0], 3, activation=True)
        # A 4x4 "valid" conv is a dense layer over the flattened 4x4 map (table 2).
        self.final_dense = EqualLinear(ch[0] * 16, ch[0], activation=True)
        self.out = EqualLinear(ch[0], 1)
        self._init_progress(stages)

    def _block(self, s: int, h: torch.Tensor) -> torch.Tensor:
        conv_a, conv_b = self.blocks[s]
        return downsample(conv_b(conv_a(h)), h.shape[-1] // 2)

    def forward(
        self,
        x: torch.Tensor,  # [N, C, H, W] images at any resolution >= the stage's.
        stage: int | None = None,
        alpha: float | None = None,
    ) -> torch.Tensor:  # [N, 1] scores.
        s, a = self._progress(stage, alpha)
        res = 4 * 2**s
        x = downsample(x, res)
        h = self.from_rgb[s](x)
        if s > 0:
            h = self._block(s, h)
            if a < 1.0:
                old = self.from_rgb[s - 1](downsample(x, res // 2))
                h = fade(old, h, a)
        for i in range(s - 1, 0, -1):
            h = self._block(i, h)
        h = self.final_conv(minibatch_stddev(h, self.mbstd_group))
        return self.out(self.final_dense(h.flatten(1)))


__all__ = [
    "ProDiscriminator",
    "ProGenerator",
    "downsample",
    "fade",
    "num_stages",
    "pixel_norm",
    "stage_channels",
    "upsample",
]
