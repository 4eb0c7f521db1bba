"""Recipes of the families declared (without torch) in gan_core.families.stylegan2."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.ada import ada_state, make_d_augment
from gan_core.data.loading import DataInfo
from gan_core.families.stylegan2 import StyleGAN2Config
from gan_core.losses.stylegan2 import StyleGAN2Loss, lazy_adam
from gan_core.nets.stylegan2 import StyleDiscriminator, StyleGenerator
from gan_core.recipe import Recipe, make_optimizer, phases_from_loss


def build_stylegan2(config: StyleGAN2Config, info: DataInfo, device) -> Recipe:
    """Networks, Adam with lazy-regularization compensation, and the loss phases."""
    conditional = config.conditional and info.num_classes > 1
    if config.conditional and not conditional:
        raise ValueError("conditional stylegan2 needs class subfolders (2 or more)")
    num_classes = info.num_classes if conditional else 0
    G = StyleGenerator(
        z_dim=config.z_dim,
        w_dim=config.w_dim,
        image_size=info.image_size,
        channels=info.channels,
        num_classes=num_classes,
        mapping_layers=config.mapping_layers,
        mapping_lr_mul=config.mapping_lr_mul,
        channel_base=config.channel_base,
        channel_max=config.channel_max,
        conv_clamp=config.conv_clamp or None,
    ).to(device)
    D = StyleDiscriminator(
        image_size=info.image_size,
        channels=info.channels,
        num_classes=num_classes,
        channel_base=config.channel_base,
        channel_max=config.channel_max,
        mbstd_group=config.mbstd_group,
        conv_clamp=config.conv_clamp or None,
    ).to(device)
    loss = StyleGAN2Loss(
        G,
        D,
        r1_gamma=config.r1_gamma,
        r1_interval=config.r1_interval,
        pl_weight=config.pl_weight,
        pl_interval=config.pl_interval,
        style_mixing_prob=config.style_mixing_prob,
        augment=make_d_augment(config, info),
        conditional=conditional,
    ).to(device)
    intervals = loss.phase_intervals()
    betas = (config.beta1, config.beta2)
    lr_g, betas_g = lazy_adam(config.lr_g, betas, intervals["G_reg"])
    lr_d, betas_d = lazy_adam(config.lr_d, betas, intervals["D_reg"])

    def generate(net: nn.Module, z: torch.Tensor, labels: torch.Tensor | None):
        # Constant noise: sample grids and seeded samples are reproducible.
        return net(z, labels if conditional else None, noise_mode="const")

    return Recipe(
        nets={"G": G, "D": D},
        optimizers={
            "G": make_optimizer(config.optimizer, G.parameters(), lr_g, betas_g),
            "D": make_optimizer(config.optimizer, D.parameters(), lr_d, betas_d),
        },
        phases=phases_from_loss(loss),
        z_dim=config.z_dim,
        d_blocks=D.d_blocks(),
        compiled=[G.mapping, G.synthesis, D],
        generate=generate,
        conditional=conditional,
        state={"loss": loss, **ada_state(loss.augment)},
    )
