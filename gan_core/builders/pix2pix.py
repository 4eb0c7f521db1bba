"""Recipe of the family declared (without torch) in gan_core.families.pix2pix."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.data.loading import DataInfo
from gan_core.families.cyclegan import patch_layers_for
from gan_core.families.pix2pix import Pix2PixConfig
from gan_core.losses.pix2pix import Pix2PixLoss
from gan_core.nets.cyclegan import PatchDiscriminator
from gan_core.nets.pix2pix import PairedTranslator, UnetGenerator, unet_depth
from gan_core.recipe import Recipe, make_optimizer, phases_from_loss


def build_pix2pix(config: Pix2PixConfig, info: DataInfo, device) -> Recipe:
    """The U-Net translator, the conditional PatchGAN, two Adams, G then D."""
    c = info.channels  # A and B share the channels (one cache decodes both)
    depth = config.unet_depth or unet_depth(info.image_size)
    G = PairedTranslator(UnetGenerator(c, c, config.ngf, depth, config.dropout))
    G = G.to(device)
    layers = patch_layers_for(info.image_size, config.d_layers)
    D = PatchDiscriminator(2 * c, config.ndf, layers).to(device)  # sees (x, y)
    loss = Pix2PixLoss(G, D, l1_weight=config.l1_weight)
    betas = (config.beta1, config.beta2)

    def generate(net: nn.Module, z: torch.Tensor, labels: torch.Tensor | None):
        # Sample grids show the kept inputs, their translations and targets.
        return loss.preview(net)

    return Recipe(
        nets={"G": G, "D": D},
        optimizers={
            "G": make_optimizer(config.optimizer, G.parameters(), config.lr_g, betas),
            "D": make_optimizer(config.optimizer, D.parameters(), config.lr_d, betas),
        },
        phases=phases_from_loss(loss),
        z_dim=1,  # Unused: the translator's noise is its dropout.
        generate=generate,
        state={"loss": loss},
        d_blocks=D.d_blocks(),
    )
