"""The classic families: gan, dcgan, wgan, wgan-gp, sngan and cgan.

Each is a recipe over two shared network pairs (MLP and DCGAN) and one loss
object; what differs is the loss, the discriminator's normalization, the
penalty, and the paper's default settings in its config (STYLE.md point 2).
"""

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
from gan_core.registry import Family


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
        augment=make_d_augment(
            config.augment,
            getattr(config, "ada_target", 0.0),
            getattr(config, "ada_kimg", 500.0),
        ),
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


_QUICK_DC = {
    "image_size": 32,
    "batch_size": 64,
    "steps": 600,
    "g_channels": 32,
    "d_channels": 32,
    "sample_every": 100,
    "checkpoint_every": 300,
}
_QUALITY_DC = {
    "image_size": 64,
    "steps": 50000,
    "sample_every": 1000,
    "checkpoint_every": 5000,
}

FAMILIES = [
    Family(
        name="gan",
        title="GAN (MLP)",
        description="The original GAN: fully connected generator and discriminator "
        "with the non-saturating loss. Trains on small images and on 2D points.",
        config_cls=GANConfig,
        data_kinds=("images", "points"),
        build=build_gan,
        presets={
            "quick": {"steps": 2000, "sample_every": 250, "checkpoint_every": 1000},
            # 2D mixtures (ring8, grid25): large batches, two D steps per G step,
            # a short EMA, and self-conditioning on 50 k-means clusters (more
            # than the data's modes is safe). Without clusters these settings
            # keep 8/8 ring modes but only 8-20 of the 25 grid modes; with them
            # 25/25 at over 99% high quality in every seed tried
            # (bench/bench_quality.py has the figures).
            "points": {
                "clusters": 50,
                "steps": 2000,
                "batch_size": 512,
                "n_critic": 2,
                "hidden": 128,
                "z_dim": 16,
                "lr_g": 1e-3,
                "lr_d": 1e-3,
                "ema": 0.99,
                "lr_schedule": "linear",
                "sample_every": 250,
                "checkpoint_every": 1000,
            },
            "quality": {"steps": 30000, "sample_every": 1000, "checkpoint_every": 5000},
        },
        paper="Goodfellow et al. 2014, Generative Adversarial Nets",
        order=0,
    ),
    Family(
        name="dcgan",
        title="DCGAN",
        description="Deep convolutional GAN: strided convolutions, batch norm, "
        "Adam 2e-4. The standard baseline for 32-128 px images.",
        config_cls=DCGANConfig,
        data_kinds=("images",),
        build=build_dcgan,
        presets={"quick": _QUICK_DC, "quality": _QUALITY_DC},
        paper="Radford et al. 2016, Unsupervised Representation Learning with DCGANs",
        order=1,
    ),
    Family(
        name="wgan",
        title="WGAN",
        description="Wasserstein GAN: a critic kept Lipschitz by weight clipping, "
        "RMSprop, five critic steps per generator step.",
        config_cls=WGANConfig,
        data_kinds=("images",),
        build=build_wgan,
        presets={
            "quick": {**_QUICK_DC, "steps": 300, "batch_size": 32},
            "quality": _QUALITY_DC,
        },
        paper="Arjovsky et al. 2017, Wasserstein GAN",
        order=2,
    ),
    Family(
        name="wgan-gp",
        title="WGAN-GP",
        description="Wasserstein GAN with a gradient penalty instead of clipping; "
        "layer norm in the critic.",
        config_cls=WGANGPConfig,
        data_kinds=("images",),
        build=build_wgan_gp,
        presets={
            "quick": {**_QUICK_DC, "steps": 300, "batch_size": 32},
            "quality": _QUALITY_DC,
        },
        paper="Gulrajani et al. 2017, Improved Training of Wasserstein GANs",
        order=3,
    ),
    Family(
        name="sngan",
        title="SNGAN",
        description="Spectral normalization in the discriminator with the hinge "
        "loss: stable training without a penalty.",
        config_cls=SNGANConfig,
        data_kinds=("images",),
        build=build_sngan,
        presets={"quick": _QUICK_DC, "quality": _QUALITY_DC},
        paper="Miyato et al. 2018, Spectral Normalization for GANs",
        order=4,
    ),
    Family(
        name="cgan",
        title="Conditional GAN",
        description="Class-conditional DCGAN: pick the class to draw. Needs a "
        "folder of class subfolders; optional projection discriminator.",
        config_cls=CGANConfig,
        data_kinds=("classes",),
        build=build_cgan,
        presets={
            "quick": {**_QUICK_DC, "image_size": 16, "steps": 800},
            "quality": {**_QUALITY_DC, "image_size": 32},
        },
        paper="Mirza and Osindero 2014; Miyato and Koyama 2018 (projection)",
        order=5,
    ),
]
