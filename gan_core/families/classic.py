"""The classic families: gan, dcgan, wgan, wgan-gp, sngan and cgan.

Each is a recipe over two shared network pairs (MLP and DCGAN) and one loss
object; what differs is the loss, the discriminator's normalization, the
penalty, and the paper's default settings in its config (STYLE.md point 2).
"""

from __future__ import annotations

from gan_core.config import (
    CGANConfig,
    DCGANConfig,
    GANConfig,
    SNGANConfig,
    WGANConfig,
    WGANGPConfig,
)
from gan_core.registry import Family, deferred_build

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
        build=deferred_build("classic", "build_gan"),
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
        build=deferred_build("classic", "build_dcgan"),
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
        build=deferred_build("classic", "build_wgan"),
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
        build=deferred_build("classic", "build_wgan_gp"),
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
        build=deferred_build("classic", "build_sngan"),
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
        build=deferred_build("classic", "build_cgan"),
        presets={
            "quick": {**_QUICK_DC, "image_size": 16, "steps": 800},
            "quality": {**_QUALITY_DC, "image_size": 32},
        },
        paper="Mirza and Osindero 2014; Miyato and Koyama 2018 (projection)",
        order=5,
    ),
]
