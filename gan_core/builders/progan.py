"""Recipes of the families declared (without torch) in gan_core.families.progan."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.augment import make_augment
from gan_core.data.loading import DataInfo
from gan_core.families.progan import ProGANConfig
from gan_core.losses.progan import ProGANLoss
from gan_core.nets.progan import ProDiscriminator, ProGenerator
from gan_core.recipe import Recipe, make_optimizer, phases_from_loss


def build_progan(config: ProGANConfig, info: DataInfo, device) -> Recipe:
    """Growing networks, Adam, WGAN-GP + drift phases and the stage schedule."""
    G = ProGenerator(
        z_dim=config.z_dim,
        image_size=info.image_size,
        channels=info.channels,
        channel_base=config.channel_base,
        channel_max=config.channel_max,
    ).to(device)
    D = ProDiscriminator(
        image_size=info.image_size,
        channels=info.channels,
        channel_base=config.channel_base,
        channel_max=config.channel_max,
        mbstd_group=config.mbstd_group,
    ).to(device)
    loss = ProGANLoss(
        G,
        D,
        phase_steps=config.schedule_steps(),
        gp_weight=config.gp_lambda,
        drift=config.drift,
        augment=make_augment(config.augment),
    )
    betas = (config.beta1, config.beta2)

    def generate(net: nn.Module, z: torch.Tensor, labels: torch.Tensor | None):
        return net(z)  # At the net's stored stage, upsampled to full size.

    return Recipe(
        nets={"G": G, "D": D},
        optimizers={
            "G": make_optimizer(config.optimizer, G.parameters(), config.lr_g, betas),
            "D": make_optimizer(config.optimizer, D.parameters(), config.lr_d, betas),
        },
        phases=phases_from_loss(loss, repeats={"D_main": config.n_critic}),
        z_dim=config.z_dim,
        generate=generate,
        on_step=loss.set_step,
        on_ema=loss.followers.append,
    )
