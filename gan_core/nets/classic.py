"""Networks of the classic families: an MLP pair (Goodfellow 2014) and the DCGAN
pair (Radford 2016) that WGAN, WGAN-GP, SNGAN and cGAN reuse with another loss,
normalization or conditioning (STYLE.md point 2)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from gan_core.nets.blocks import conv_blocks

D_NORMS = ("batch", "layer", "none", "spectral")


def dcgan_init(module: nn.Module) -> None:
    """Radford 2016, section 4: weights from N(0, 0.02); BatchNorm scale N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            if not hasattr(m, "parametrizations"):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _upsamplings(image_size: int) -> int:
    """Doublings from 4x4 to ``image_size`` (a power of two >= 8)."""
    m = int(math.log2(image_size)) - 2
    if m < 1 or 4 * 2**m != image_size:
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
    return m


class MLPGenerator(nn.Module):
    """z -> ``depth`` ReLU layers -> an image in [-1, 1] (Tanh) or a raw point."""

    def __init__(
        self,
        z_dim: int,  # Input noise size.
        out_shape: tuple[int, ...],  # (C, H, W) for images, (2,) for points.
        hidden: int = 256,  # Units per hidden layer.
        depth: int = 3,  # Hidden layers.
        tanh: bool = True,  # Images live in [-1, 1]; points are unbounded.
    ):
        super().__init__()
        self.out_shape = tuple(out_shape)
        layers: list[nn.Module] = []
        width = z_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """Flattened input -> ``depth`` LeakyReLU(0.2) layers -> one logit per sample,
    or per group of ``pack`` samples (PacGAN, Lin et al. 2018: judging several
    samples together lets D see a lack of variety, which fights mode collapse)."""

    def __init__(
        self,
        in_shape: tuple[int, ...],  # (C, H, W) or (2,).
        hidden: int = 256,  # Units per hidden layer.
        depth: int = 3,  # Hidden layers.
        pack: int = 1,  # Samples judged together.
    ):
        super().__init__()
        self.pack = pack
        layers: list[nn.Module] = []
        width = math.prod(in_shape) * pack
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels=None) -> torch.Tensor:  # [N / pack]
        flat = x.flatten(1)
        if self.pack > 1:
            if flat.shape[0] % self.pack:
                raise ValueError(
                    f"a batch of {flat.shape[0]} does not split into packs of "
                    f"{self.pack}"
                )
            flat = flat.reshape(flat.shape[0] // self.pack, -1)
        return self.net(flat).squeeze(1)


class DCGenerator(nn.Module):
    """DCGAN generator: z (plus a label embedding) -> 4x4 -> ... -> image_size.

    Transposed 4x4 convolutions with stride 2 halve the channels as they double
    the resolution; BatchNorm and ReLU everywhere but the Tanh output.
    """

    def __init__(
        self,
        z_dim: int,  # Input noise size.
        image_size: int,  # Output side, a power of two >= 8.
        channels: int,  # Output channels: 1 or 3.
        width: int = 64,  # Channels of the last hidden layer (ngf).
        num_classes: int = 0,  # > 0: class-conditional (Mirza 2014).
        embed_dim: int = 32,  # Label embedding size, concatenated to z.
    ):
        super().__init__()
        m = _upsamplings(image_size)
        self.z_dim, self.num_classes = z_dim, num_classes
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        ch = width * 2 ** (m - 1)
        in_dim = z_dim + (embed_dim if num_classes else 0)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(in_dim, ch, 4, 1, 0, bias=False),  # 1x1 -> 4x4
            nn.BatchNorm2d(ch),
            nn.ReLU(),
        ]
        for _ in range(m - 1):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ch // 2),
                nn.ReLU(),
            ]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None):
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels).to(z.dtype)], dim=1)
        return self.net(z[:, :, None, None])  # [N, C, H, W]


def _norm(kind: str, ch: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(ch)
    if kind == "layer":
        # LayerNorm over (C, H, W) of each sample, as Gulrajani 2017 section 4
        # recommends for the critic: the penalty is per sample, so no batch norm.
        return nn.GroupNorm(1, ch)
    return nn.Identity()


class DCDiscriminator(nn.Module):
    """DCGAN discriminator: strided 4x4 convolutions with LeakyReLU(0.2) down to
    4x4, then a 4x4 convolution to one score per sample.

    ``norm``: batch (DCGAN), layer (WGAN-GP), none, or spectral (SNGAN: every
    weight divided by its largest singular value, Miyato 2018 eq. 8).
    ``conditioning``: concat (one-hot label maps beside the image) or projection
    (Miyato and Koyama 2018: score + <embed(y), sum-pooled features>).
    """

    def __init__(
        self,
        image_size: int,  # Input side, a power of two >= 8.
        channels: int,  # Input channels: 1 or 3.
        width: int = 64,  # Channels of the first layer (ndf).
        norm: str = "batch",  # One of D_NORMS.
        num_classes: int = 0,  # > 0: class-conditional.
        conditioning: str = "concat",  # concat or projection.
    ):
        super().__init__()
        if norm not in D_NORMS:
            raise ValueError(f"norm must be one of {D_NORMS}, got {norm!r}")
        m = _upsamplings(image_size)
        self.num_classes, self.image_channels = num_classes, channels
        self.concat = bool(num_classes) and conditioning == "concat"
        sn = spectral_norm if norm == "spectral" else (lambda module: module)
        in_ch = channels + (num_classes if self.concat else 0)
        # No normalization on the first layer (Radford 2016, section 3).
        layers: list[nn.Module] = [
            sn(nn.Conv2d(in_ch, width, 4, 2, 1)),
            nn.LeakyReLU(0.2),
        ]
        ch = width
        for _ in range(m - 1):
            bias = norm in ("none", "spectral")
            layers += [
                sn(nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=bias)),
                _norm(norm, ch * 2),
                nn.LeakyReLU(0.2),
            ]
            ch *= 2
        self.features = nn.Sequential(*layers)  # -> [N, ch, 4, 4]
        self.out = sn(nn.Conv2d(ch, 1, 4, 1, 0))
        self.embed = None
        if num_classes and conditioning == "projection":
            self.embed = sn(nn.Embedding(num_classes, ch))
        dcgan_init(self)

    def d_blocks(self) -> list[nn.Module]:
        """The strided blocks from the image side (conv, norm, activation)."""
        return conv_blocks(self.features)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        if self.concat:
            maps = F.one_hot(labels, self.num_classes).to(x.dtype)
            maps = maps[:, :, None, None].expand(-1, -1, *x.shape[-2:])
            x = torch.cat([x, maps], dim=1)
        h = self.features(x)
        score = self.out(h).flatten()  # [N]
        if self.embed is not None:
            score = score + (self.embed(labels).to(h.dtype) * h.sum((2, 3))).sum(1)
        return score
