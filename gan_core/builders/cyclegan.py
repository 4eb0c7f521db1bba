"""Recipes of the families declared (without torch) in gan_core.families.cyclegan."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.data.loading import DataInfo
from gan_core.families.cyclegan import CycleGANConfig
from gan_core.losses.cyclegan import CycleGANLoss
from gan_core.nets.cyclegan import (
    CycleDiscriminators,
    CycleGenerators,
    PatchDiscriminator,
    ResnetGenerator,
    default_res_blocks,
    patch_layers_for,
)
from gan_core.recipe import Recipe, make_optimizer, phases_from_loss


def build_cyclegan(config: CycleGANConfig, info: DataInfo, device) -> Recipe:
    """Two generators, two PatchGANs, two Adams, and the G then D phases."""
    blocks = config.n_blocks or default_res_blocks(info.image_size)
    c = info.channels
    G = CycleGenerators(
        ResnetGenerator(c, c, config.ngf, blocks),
        ResnetGenerator(c, c, config.ngf, blocks),
    ).to(device)
    layers = patch_layers_for(info.image_size, config.d_layers)
    D = CycleDiscriminators(
        PatchDiscriminator(c, config.ndf, layers),
        PatchDiscriminator(c, config.ndf, layers),
    ).to(device)
    loss = CycleGANLoss(
        G,
        D,
        cycle_weight=config.cycle_weight,
        identity_weight=config.identity_weight,
        pool_size=config.pool_size,
    )
    betas = (config.beta1, config.beta2)

    def generate(net: nn.Module, z: torch.Tensor, labels: torch.Tensor | None):
        # Sample grids show the kept inputs and their translations, not z.
        return loss.preview(net)

    return Recipe(
        nets={"G": G, "D": D},
        optimizers={
            "G": make_optimizer(config.optimizer, G.parameters(), config.lr_g, betas),
            "D": make_optimizer(config.optimizer, D.parameters(), config.lr_d, betas),
        },
        phases=phases_from_loss(loss),
        z_dim=1,  # Unused: a translator has no latent.
        generate=generate,
        state={"loss": loss},
        d_blocks=D.d_blocks(),
    )
