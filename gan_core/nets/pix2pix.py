"""pix2pix networks (Isola et al. 2017, "Image-to-Image Translation with
Conditional Adversarial Networks"), section 3.2 and appendix 6.1.2.

Generator: the U-Net encoder C64-C128-C256-C512-C512-C512-C512-C512 and decoder
CD512-CD512-CD512-C512-C256-C128-C64, each decoder layer taking the mirrored
encoder layer's output as a skip connection (concatenated channels); 4x4
convolutions of stride 2, leaky ReLU (0.2) down and ReLU up, batch norm except
on the first encoder layer and the innermost one, dropout 0.5 in the first
three decoder layers ("CD": the paper's only noise, section 3.2), Tanh out.

Where we simplify: the depth follows the image (one stride-2 layer per halving,
at most 8, so 256 px goes down to 1x1 as in the paper and 16 px stops at 1x1
after 4); batch norm always uses the batch's own statistics (the paper's test
protocol, "instance normalization" at batch 1, section 3.3), and in eval mode
the translator runs each image alone with dropout off, so a translation does
not depend on the other images (or tiles) it is batched with and is repeatable
(the paper keeps dropout on at test time). The discriminator is CycleGAN's
70x70 PatchGAN (gan_core.nets.cyclegan) on the channel-concatenated (input,
output) pair: the same networks module serves both families.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_core.nets.cyclegan import init_normal

MAX_DOWN = 8  # The paper's U-Net: 256 px -> 1x1 in 8 halvings.
DROPOUT_LAYERS = 3  # CD512 x 3: dropout in the first three decoder layers.


def unet_depth(image_size: int, max_down: int = MAX_DOWN) -> int:
    """Stride-2 layers of the U-Net for ``image_size``: log2(size), at most 8.

    The size must be divisible by 2^depth (a power of two up to 256, or a
    multiple of 256 above, keeps every skip the same size as its decoder input).
    """
    depth = min(max_down, int(math.log2(image_size)))
    while depth > 1 and image_size % 2**depth:
        depth -= 1
    return depth


def _bn(ch: int) -> nn.Module:
    # Batch statistics always (no running averages): see the module docstring.
    return nn.BatchNorm2d(ch, track_running_stats=False)


class UnetGenerator(nn.Module):
    """Image -> image of the same size through a U-Net; Tanh output in [-1, 1]."""

    def __init__(
        self,
        in_channels: int = 3,  # Channels of the input image (A).
        out_channels: int = 3,  # Channels of the output image (B).
        ngf: int = 64,  # Width of the first layer (doubled up to 8 * ngf).
        depth: int = 8,  # Stride-2 layers; 8 takes 256 px to 1x1.
        dropout: float = 0.5,  # In the first DROPOUT_LAYERS decoder layers.
    ):
        super().__init__()
        widths = [ngf * min(2**i, 8) for i in range(depth)]  # encoder outputs
        self.down = nn.ModuleList()
        ch = in_channels
        for i, out in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2, True)]
            layers.append(nn.Conv2d(ch, out, 4, 2, 1, bias=i == 0 or i == depth - 1))
            if 0 < i < depth - 1:  # no norm on C64 (appendix) nor the innermost
                layers.append(_bn(out))
            self.down.append(nn.Sequential(*layers))
            ch = out
        self.up = nn.ModuleList()
        for j in range(depth):  # j = 0 is the innermost decoder layer
            i = depth - 1 - j  # the encoder layer it mirrors
            cin = widths[i] if j == 0 else 2 * widths[i]  # with the skip after j=0
            last = i == 0
            cout = out_channels if last else widths[i - 1]
            layers = [nn.ReLU(True), nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=last)]
            if last:
                layers.append(nn.Tanh())
            else:
                layers.append(_bn(cout))
                if j < DROPOUT_LAYERS and dropout > 0:
                    layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        self.depth = depth
        init_normal(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, C_in, H, W]
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = self.up[0](skips.pop())
        for layer in self.up[1:]:
            x = layer(torch.cat([x, skips.pop()], dim=1))
        return x  # [N, C_out, H, W]


class PairedTranslator(nn.Module):
    """The pix2pix generator as a translator of one direction, A -> B.

    ``forward(x, "AtoB")`` in training mode runs the batch through the U-Net; in
    eval mode each image runs alone (batch statistics of that image only), so
    translations are independent of batching. "BtoA" is refused: a paired model
    learns one direction.
    """

    directions = ("AtoB",)

    def __init__(self, unet: UnetGenerator):
        super().__init__()
        self.unet = unet

    def forward(self, x: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        if direction != "AtoB":
            raise ValueError(f"pix2pix translates AtoB only, got {direction!r}")
        if self.training or x.shape[0] == 1:
            return self.unet(x)
        return torch.cat([self.unet(row[None]) for row in x])
