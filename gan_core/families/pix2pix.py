"""The ``pix2pix`` family: paired image-to-image translation (Isola et al. 2017).

A U-Net generator with skip connections (dropout as its only noise) and a 70x70
PatchGAN discriminator that sees the input beside the real or generated output;
the conditional GAN loss plus lambda = 100 times L1 to the paired target; Adam
(lr 2e-4, beta1 0.5, beta2 0.999) and batch 1 (section 4, appendix 6.2). It
trains on "pairs" data: folders A/ and B/ whose files pair by name
(``pairs:<folder>``), or single images holding A (left) and B (right) side by
side (``pairs-sbs:<folder>``), or ``builtin:shapes-paired``.

Where we simplify (gan_core.nets.pix2pix): the U-Net is shallower for small
images (log2(size) halvings, at most the paper's 8), translations in eval mode
run without dropout, and the PatchGAN is CycleGAN's (instance norm, which is
what the paper's batch norm is at batch 1). The learning rate follows the
authors' code: constant for the first half of the steps, then linear to zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_core.config import (
    ConfigError,
    TrainConfig,
    check_freeze_d,
    freeze_d_setting,
    setting,
)
from gan_core.families.cyclegan import patch_layers_for
from gan_core.registry import Family, deferred_build


@dataclass(frozen=True)
class Pix2PixConfig(TrainConfig):
    """Isola et al. 2017, section 4 and appendix 6: Adam(2e-4, 0.5, 0.999),
    batch 1, lambda_L1 100, dropout 0.5 in the first three decoder layers."""

    image_size: int = setting(256, "Side of the square training images, in pixels "
                              "(a multiple of 8).", min=8, max=1024)  # fmt: skip
    batch_size: int = setting(1, "Pairs per step (the paper: 1).", min=1,
                              max=4096)  # fmt: skip
    lr_schedule: str = setting("linear", "Learning-rate schedule: constant, linear "
                               "(constant for the first half, then linear to zero) "
                               "or cosine.",
                               choices=("constant", "linear", "cosine"))  # fmt: skip
    ngf: int = setting(64, "Generator width (first layer's channels).", min=1,
                       max=512)  # fmt: skip
    ndf: int = setting(64, "Discriminator width (first layer's channels).", min=1,
                       max=512)  # fmt: skip
    unet_depth: int = setting(0, "U-Net stride-2 layers; 0 = log2(image_size), at "
                              "most 8 (the paper's 256 px U-Net).", min=0,
                              max=10)  # fmt: skip
    dropout: float = setting(0.5, "Dropout in the first three decoder layers "
                             "(the generator's noise).", min=0.0,
                             max=0.9)  # fmt: skip
    d_layers: int = setting(3, "PatchGAN depth (3 = 70x70 patches); reduced "
                            "automatically for small images.", min=1,
                            max=6)  # fmt: skip
    l1_weight: float = setting(100.0, "Weight lambda of the L1 loss to the "
                               "target.", min=0.0, max=1e4)  # fmt: skip
    ema: float = setting(0.0, "Decay of a moving average of the generator "
                         "(pix2pix uses none).", min=0.0,
                         max=0.99999)  # fmt: skip
    sample_every: int = setting(500, "Write a translation grid every N steps.",
                                min=1, max=10_000_000)  # fmt: skip

    freeze_d: int = freeze_d_setting()

    def validate(self) -> None:
        super().validate()
        if self.image_size % 8:
            raise ConfigError(
                f"image_size must be a multiple of 8 (got {self.image_size})",
                field="image_size",
            )
        if self.unet_depth and self.image_size % 2**self.unet_depth:
            raise ConfigError(
                f"unet_depth {self.unet_depth} needs image_size divisible by "
                f"{2**self.unet_depth} (got {self.image_size})",
                field="unet_depth",
            )
        check_freeze_d(self, 1 + patch_layers_for(self.image_size, self.d_layers))


FAMILIES = [
    Family(
        name="pix2pix",
        title="pix2pix",
        description="Paired translation (A/ and B/ matched by file name, or A|B "
        "side by side): U-Net generator with skips, 70x70 PatchGAN conditioned "
        "on the input, adversarial plus L1 (lambda 100). Translates A to B.",
        config_cls=Pix2PixConfig,
        data_kinds=("pairs",),
        build=deferred_build("pix2pix", "build_pix2pix"),
        presets={
            "quick": {
                "image_size": 32,
                "batch_size": 4,
                "steps": 2000,
                "ngf": 16,
                "ndf": 16,
                "sample_every": 250,
                "checkpoint_every": 1000,
            },
            "quality": {
                "image_size": 256,
                "steps": 200000,
                "sample_every": 2000,
                "checkpoint_every": 10000,
            },
        },
        paper="Isola et al. 2017, Image-to-Image Translation with Conditional "
        "Adversarial Networks",
        order=23,
    )
]
