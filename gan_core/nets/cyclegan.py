"""CycleGAN networks (Zhu et al. 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks"), appendix 7.2.

Generator (Johnson et al. 2016 style): c7s1-64, d128, d256, R256 x n, u128, u64,
c7s1-3, with instance normalization and reflection padding; 6 residual blocks
for images of 128 px and below, 9 above. Discriminator: the 70x70 PatchGAN
C64-C128-C256-C512 followed by a 1-channel conv, so each output logit judges one
overlapping patch. Widths are configurable (``ngf``, ``ndf``) so tiny test
configurations are cheap; the paper's widths are 64.

Weights start as the authors' implementation starts them (``init_weights``
"normal" in junyanz/pytorch-CycleGAN-and-pix2pix): convolution and linear
weights N(0, 0.02), biases 0, affine normalization weights N(1, 0.02).
"""

from __future__ import annotations

import torch
from torch import nn

from gan_core.families.cyclegan import patch_layers_for  # noqa: F401 (re-export)
from gan_core.nets.blocks import conv_blocks


def default_res_blocks(image_size: int) -> int:
    """The paper's choice: 6 residual blocks at 128 px and below, 9 above."""
    return 6 if image_size <= 128 else 9


def init_normal(net: nn.Module, std: float = 0.02) -> nn.Module:
    """The authors' "normal" initialization of every layer of ``net``; returns it."""
    for m in net.modules():
        if isinstance(m, nn.modules.conv._ConvNd | nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._NormBase) and m.affine:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return net


def _norm(ch: int) -> nn.Module:
    # Instance norm without affine parameters, as in the authors' implementation.
    return nn.InstanceNorm2d(ch, affine=False, track_running_stats=False)


class ResidualBlock(nn.Module):
    """R_k: two reflection-padded 3x3 convs with instance norm, plus identity."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(ch, ch, 3),
            _norm(ch),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(ch, ch, 3),
            _norm(ch),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image -> image of the same size, Tanh output in [-1, 1]."""

    def __init__(
        self,
        in_channels: int = 3,  # Channels of the source domain.
        out_channels: int = 3,  # Channels of the target domain.
        ngf: int = 64,  # Width of the first layer (doubled by each downsampling).
        n_blocks: int = 6,  # Residual blocks at the bottleneck.
        n_down: int = 2,  # Stride-2 downsamplings (and as many upsamplings).
    ):
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, ngf, 7),
            _norm(ngf),
            nn.ReLU(inplace=True),
        ]
        ch = ngf
        for _ in range(n_down):  # d_k: 3x3 stride-2 conv, norm, ReLU.
            layers += [nn.Conv2d(ch, ch * 2, 3, 2, 1), _norm(ch * 2), nn.ReLU(True)]
            ch *= 2
        layers += [ResidualBlock(ch) for _ in range(n_blocks)]
        for _ in range(n_down):  # u_k: 3x3 fractionally strided conv, norm, ReLU.
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 3, 2, padding=1, output_padding=1),
                _norm(ch // 2),
                nn.ReLU(True),
            ]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, out_channels, 7), nn.Tanh()]
        self.model = init_normal(nn.Sequential(*layers))
        self.n_down = n_down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: a map of logits, one per receptive field (70x70 for 3 layers)."""

    def __init__(
        self,
        in_channels: int = 3,  # Image channels.
        ndf: int = 64,  # Width of the first layer.
        n_layers: int = 3,  # Stride-2 layers after the first; 3 gives 70x70.
    ):
        super().__init__()
        # C64 has no normalization (appendix 7.2); leaky ReLU slope 0.2 throughout.
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
        ]
        ch = ndf
        for i in range(1, n_layers + 1):
            out = ndf * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [
                nn.Conv2d(ch, out, 4, stride, 1),
                _norm(out),
                nn.LeakyReLU(0.2, True),
            ]
            ch = out
        layers += [nn.Conv2d(ch, 1, 4, 1, 1)]
        self.model = init_normal(nn.Sequential(*layers))

    def d_blocks(self) -> list[nn.Module]:
        """Conv blocks from the image side, without the output conv."""
        return conv_blocks(self.model)[:-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, 1, h, w] logits.
        return self.model(x)


class CycleGenerators(nn.Module):
    """The two translators, G: A -> B and F: B -> A, as one module (one optimizer)."""

    def __init__(self, g_ab: nn.Module, g_ba: nn.Module):
        super().__init__()
        self.g_ab, self.g_ba = g_ab, g_ba

    def forward(self, x: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        if direction == "AtoB":
            return self.g_ab(x)
        if direction == "BtoA":
            return self.g_ba(x)
        raise ValueError(f"direction must be AtoB or BtoA, got {direction!r}")


class CycleDiscriminators(nn.Module):
    """D_A judges domain A, D_B judges domain B; one module, one optimizer."""

    def __init__(self, d_a: nn.Module, d_b: nn.Module):
        super().__init__()
        self.d_a, self.d_b = d_a, d_b

    def d_blocks(self) -> list[nn.Module]:
        """Block i of D_A with block i of D_B: FreezeD freezes both."""
        pairs = zip(self.d_a.d_blocks(), self.d_b.d_blocks(), strict=True)
        return [nn.ModuleList(pair) for pair in pairs]

    def forward(self, x: torch.Tensor, domain: str) -> torch.Tensor:
        if domain == "A":
            return self.d_a(x)
        if domain == "B":
            return self.d_b(x)
        raise ValueError(f"domain must be A or B, got {domain!r}")
