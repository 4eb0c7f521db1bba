"""Recipes of the families declared (without torch) in gan_core.families.classic."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.ada import ada_state, make_d_augment
from gan_core.config import (
    CGANConfig,
    DCGANConfig,
    GANConfig,
    SNGANConfig,
    TrainConfig,
    WGANConfig,
    WGANGPConfig,
)
from gan_core.data.loading import DataInfo
from gan_core.data.types import Data, PointData
from gan_core.losses.classic import ClassicLoss
from gan_core.nets.classic import (
    DCDiscriminator,
    DCGenerator,
    MLPDiscriminator,
    MLPGenerator,
)
from gan_core.nets.self_conditioned import (
    ClusterDiscriminator,
    ClusterGenerator,
    fit_clusters,
)
from gan_core.recipe import Recipe, make_optimizer


def assemble(
    config: TrainConfig,
    G: nn.Module,
    D: nn.Module,
    info: DataInfo,
    device: torch.device,
    *,
    loss: str,
    gp_lambda: float = 0.0,
    clip_value: float = 0.0,
    conditional: bool = False,
    labeler=None,
) -> Recipe:
    """The Recipe for a G/D pair trained with ClassicLoss."""
    G, D = G.to(device), D.to(device)
    objective = ClassicLoss(
        G,
        D,
        config.z_dim,
        loss=loss,
        n_critic=config.n_critic,
        gp_lambda=gp_lambda,
        clip_value=clip_value,
        augment=make_d_augment(config, info),
        conditional=conditional,
        labeler=labeler,
    )
    betas = (config.beta1, config.beta2)
    optimizers = {
        "G": make_optimizer(config.optimizer, G.parameters(), config.lr_g, betas),
        "D": make_optimizer(config.optimizer, D.parameters(), config.lr_d, betas),
    }

    def generate(net: nn.Module, z: torch.Tensor, labels: torch.Tensor | None):
        return net(z, labels if conditional else None)

    def discriminate(x: torch.Tensor) -> torch.Tensor:
        # A packing D judges groups: each point is judged as a group of itself.
        return D(x.repeat_interleave(getattr(D, "pack", 1), dim=0))

    return Recipe(
        nets={"G": G, "D": D},
        optimizers=optimizers,
        phases=objective.phases(),
        z_dim=config.z_dim,
        generate=generate,
        conditional=conditional,
        discriminate=discriminate if info.kind == "points" else None,
        state=ada_state(objective.augment),
        d_blocks=D.d_blocks() if isinstance(D, DCDiscriminator) else [],
    )


def build_gan(config: GANConfig, info: DataInfo, device: torch.device) -> Recipe:
    points = info.kind == "points"
    shape = (2,) if points else (info.channels, info.image_size, info.image_size)
    if config.clusters:
        return _self_conditioned_gan(config, info, shape, device)
    G = MLPGenerator(config.z_dim, shape, config.hidden, config.depth, tanh=not points)
    D = MLPDiscriminator(shape, config.hidden, config.depth, pack=config.pack)
    return assemble(config, G, D, info, device, loss=config.loss)


def _self_conditioned_gan(config: GANConfig, info: DataInfo, shape, device):
    """The gan family with clusters > 0 (gan_core.nets.self_conditioned)."""
    k, points = config.clusters, info.kind == "points"
    G = ClusterGenerator(
        config.z_dim, shape, k, config.hidden, config.depth, tanh=not points
    )
    D = ClusterDiscriminator(shape, k, config.hidden, config.depth)
    recipe = assemble(config, G, D, info, device, loss=config.loss, labeler=D.assign)

    def fit(data: Data) -> None:
        rows = data.points if isinstance(data, PointData) else data.float_images()
        fit_clusters(G, D, rows.flatten(1), config.seed)

    recipe.fit = fit
    return recipe


def _dc_pair(config: DCGANConfig, info: DataInfo, norm: str, **cond):
    G = DCGenerator(
        config.z_dim,
        info.image_size,
        info.channels,
        config.g_channels,
        num_classes=cond.get("num_classes", 0),
        embed_dim=cond.get("embed_dim", 32),
    )
    D = DCDiscriminator(
        info.image_size,
        info.channels,
        config.d_channels,
        norm=norm,
        num_classes=cond.get("num_classes", 0),
        conditioning=cond.get("conditioning", "concat"),
    )
    return G, D


def build_dcgan(config: DCGANConfig, info: DataInfo, device) -> Recipe:
    G, D = _dc_pair(config, info, "batch")
    return assemble(config, G, D, info, device, loss=config.loss)


def build_wgan(config: WGANConfig, info: DataInfo, device) -> Recipe:
    G, D = _dc_pair(config, info, "batch")
    return assemble(
        config, G, D, info, device, loss="wasserstein", clip_value=config.clip_value
    )


def build_wgan_gp(config: WGANGPConfig, info: DataInfo, device) -> Recipe:
    G, D = _dc_pair(config, info, config.d_norm)
    return assemble(
        config, G, D, info, device, loss="wasserstein", gp_lambda=config.gp_lambda
    )


def build_sngan(config: SNGANConfig, info: DataInfo, device) -> Recipe:
    G, D = _dc_pair(config, info, "spectral")
    return assemble(config, G, D, info, device, loss=config.loss)


def build_cgan(config: CGANConfig, info: DataInfo, device) -> Recipe:
    if info.num_classes < 2:
        raise ValueError("cgan needs labelled data: a folder of class subfolders")
    norm = "spectral" if config.conditioning == "projection" else "batch"
    G, D = _dc_pair(
        config,
        info,
        norm,
        num_classes=info.num_classes,
        embed_dim=config.embed_dim,
        conditioning=config.conditioning,
    )
    return assemble(config, G, D, info, device, loss=config.loss, conditional=True)
