"""The ``cyclegan`` family: unpaired image-to-image translation (Zhu et al. 2017).

Two ResNet generators (A -> B and B -> A) trained by one optimizer and two
70x70 PatchGAN discriminators trained by another, as in the authors' code;
least-squares adversarial loss, cycle loss (lambda 10), identity loss (0.5
lambda), a history pool of 50 per domain, and the trainer's "linear" schedule
(constant for the first half, then linearly to zero: section 4).
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
from gan_core.registry import Family, deferred_build


def patch_layers_for(image_size: int, n_layers: int = 3) -> int:
    """Largest PatchGAN depth <= n_layers whose output is at least 1x1.

    Each of the n stride-2 convs halves the size and the two final 4x4 stride-1
    convs each take one pixel off, so the size must satisfy size / 2^n >= 3.
    """
    n = n_layers
    while n > 1 and image_size // 2**n < 3:
        n -= 1
    return n


@dataclass(frozen=True)
class CycleGANConfig(TrainConfig):
    """Zhu et al. 2017, section 4: Adam(2e-4, 0.5, 0.999), batch 1, lambda 10,
    identity 0.5 lambda, pool 50, constant then linearly decaying learning rate."""

    image_size: int = setting(128, "Side of the square training images, in pixels "
                              "(a multiple of 4).", min=8, max=1024)  # fmt: skip
    batch_size: int = setting(1, "Images of each domain per step.", min=1,
                              max=4096)  # fmt: skip
    lr_schedule: str = setting("linear", "Learning-rate schedule: constant, linear "
                               "(constant for the first half, then linear to zero) "
                               "or cosine.",
                               choices=("constant", "linear", "cosine"))  # fmt: skip
    ngf: int = setting(64, "Generator width (first layer's channels).", min=1,
                       max=512)  # fmt: skip
    ndf: int = setting(64, "Discriminator width (first layer's channels).", min=1,
                       max=512)  # fmt: skip
    n_blocks: int = setting(0, "Residual blocks per generator; 0 = the paper's "
                            "choice (6 up to 128 px, 9 above).", min=0,
                            max=32)  # fmt: skip
    d_layers: int = setting(3, "PatchGAN depth (3 = 70x70 patches); reduced "
                            "automatically for small images.", min=1,
                            max=6)  # fmt: skip
    cycle_weight: float = setting(10.0, "Cycle-consistency weight lambda.", min=0.0,
                                  max=1e3)  # fmt: skip
    identity_weight: float = setting(0.5, "Identity loss weight, as a fraction "
                                     "of lambda (0 = off).", min=0.0,
                                     max=10.0)  # fmt: skip
    pool_size: int = setting(50, "Generated images kept for the discriminators "
                             "(0 = off).", min=0, max=10000)  # fmt: skip
    ema: float = setting(0.0, "Decay of a moving average of the generators "
                         "(CycleGAN uses none).", min=0.0,
                         max=0.99999)  # fmt: skip
    sample_every: int = setting(500, "Write a translation grid every N steps.",
                                min=1, max=10_000_000)  # fmt: skip

    freeze_d: int = freeze_d_setting()

    def validate(self) -> None:
        super().validate()
        if self.image_size % 4:
            raise ConfigError(
                f"image_size must be a multiple of 4 (got {self.image_size})",
                field="image_size",
            )
        # Each PatchGAN: its first conv and one block per layer, then its output.
        check_freeze_d(self, 1 + patch_layers_for(self.image_size, self.d_layers))


FAMILIES = [
    Family(
        name="cyclegan",
        title="CycleGAN",
        description="Unpaired translation between two image domains (folders A/ "
        "and B/): ResNet generators, 70x70 PatchGAN, least-squares, cycle and "
        "identity losses, a history pool. Translate uploads either way.",
        config_cls=CycleGANConfig,
        data_kinds=("domains",),
        build=deferred_build("cyclegan", "build_cyclegan"),
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
        paper="Zhu et al. 2017, Unpaired Image-to-Image Translation using "
        "Cycle-Consistent Adversarial Networks",
        order=22,
    )
]
