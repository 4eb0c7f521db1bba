"""The ``stylegan2`` family: Karras et al. 2020 on GAN Studio's one trainer.

Networks from gan_core.nets.stylegan2, the phased loss from
gan_core.losses.stylegan2 (non-saturating logistic loss, lazy R1 every 16 steps,
lazy path length every 4, style mixing 0.9), the trainer's generator EMA with
a half-life in images (ema_kimg 10, ramp-up 0.05, as stylegan2-ada-pytorch's
training loop), and the classic families' DiffAugment when ``augment`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_core.config import (
    ConfigError,
    TrainConfig,
    ada_kimg_setting,
    ada_setting,
    ada_target_setting,
    check_ada,
    check_freeze_d,
    freeze_d_setting,
    setting,
)
from gan_core.registry import Family, deferred_build


@dataclass(frozen=True)
class StyleGAN2Config(TrainConfig):
    """Karras et al. 2020, config F; Adam(0.002, 0, 0.99), batch 32, gamma 10."""

    image_size: int = setting(256, "Side of the square training images, in pixels "
                              "(a power of two).", min=16, max=1024)  # fmt: skip
    batch_size: int = setting(32, "Real images per discriminator step.", min=1,
                              max=4096)  # fmt: skip
    z_dim: int = setting(512, "Size of the latent z.", min=1, max=2048)
    w_dim: int = setting(512, "Size of the intermediate latent w (the style).",
                         min=1, max=2048)  # fmt: skip
    mapping_layers: int = setting(8, "Fully connected layers in the mapping "
                                  "network.", min=1, max=16)  # fmt: skip
    mapping_lr_mul: float = setting(0.01, "Learning-rate multiplier of the mapping "
                                    "network.", min=1e-5, max=1.0)  # fmt: skip
    channel_base: int = setting(32768, "Feature maps at resolution r are "
                                "channel_base / r ...", min=16,
                                max=1 << 20)  # fmt: skip
    channel_max: int = setting(512, "... capped at channel_max.", min=1,
                               max=1024)  # fmt: skip
    lr_g: float = setting(0.002, "Generator learning rate.", min=0.0, max=1.0)
    lr_d: float = setting(0.002, "Discriminator learning rate.", min=0.0, max=1.0)
    beta1: float = setting(0.0, "Adam beta1.", min=0.0, max=0.9999)
    beta2: float = setting(0.99, "Adam beta2.", min=0.0, max=0.99999)
    r1_gamma: float = setting(10.0, "R1 penalty weight gamma (0 = off).", min=0.0,
                              max=1e4)  # fmt: skip
    r1_interval: int = setting(16, "Lazy R1: apply every N steps.", min=1,
                               max=1000)  # fmt: skip
    pl_weight: float = setting(2.0, "Path-length regularization weight (0 = off).",
                               min=0.0, max=1e3)  # fmt: skip
    pl_interval: int = setting(4, "Lazy path length: apply every N steps.", min=1,
                               max=1000)  # fmt: skip
    style_mixing_prob: float = setting(0.9, "Probability of mixing two latents' "
                                       "styles in a training batch.", min=0.0,
                                       max=1.0)  # fmt: skip
    mbstd_group: int = setting(4, "Minibatch standard deviation group size.",
                               min=1, max=64)  # fmt: skip
    conditional: bool = setting(
        False, "Condition on class labels (class subfolders); projection D."
    )
    ema: float = setting(0.0, "Fixed per-step decay of the generator's moving "
                         "average, used only when ema_kimg is 0 (both 0: no "
                         "average).", min=0.0, max=0.99999)  # fmt: skip
    # stylegan2-ada-pytorch training_loop defaults: ema_kimg 10, ema_rampup 0.05.
    ema_kimg: float = setting(10.0, "Half-life of the generator's moving average "
                              "in thousands of images (0 = use ema).", min=0.0,
                              max=1e5)  # fmt: skip
    ema_rampup: float = setting(0.05, "The half-life is at most this share of the "
                                "images seen so far (0 = no ramp-up).", min=0.0,
                                max=1.0)  # fmt: skip
    conv_clamp: float = setting(256.0, "Clamp convolution activations to +-this "
                                "(stylegan2-ada's conv_clamp; keeps fp16 finite; "
                                "0 = off).", min=0.0, max=1e6)  # fmt: skip

    ada: str = ada_setting("auto")
    ada_target: float = ada_target_setting()
    ada_kimg: float = ada_kimg_setting()
    freeze_d: int = freeze_d_setting()

    def validate(self) -> None:
        super().validate()
        check_ada(self)
        size = self.image_size
        if size & (size - 1):
            raise ConfigError(
                f"image_size must be a power of two from 16 to 1024 (got {size})",
                field="image_size",
            )
        # StyleDiscriminator: one residual block per halving down to 4 px.
        check_freeze_d(self, size.bit_length() - 3)


FAMILIES = [
    Family(
        name="stylegan2",
        title="StyleGAN2",
        description="Style-based generator with weight demodulation, noise inputs "
        "and a skip output; residual discriminator, lazy R1 and path-length "
        "regularization, style mixing. Truncation and style mixing in the "
        "playground. 16 to 1024 px.",
        config_cls=StyleGAN2Config,
        data_kinds=("images", "classes"),
        build=deferred_build("stylegan2", "build_stylegan2"),
        presets={
            # Small widths so a 32 px model trains on a CPU in minutes, with
            # stylegan2-ada's 32 px ("cifar") choices: no path length, no style
            # mixing, 2 mapping layers, one minibatch-std group per batch; R1
            # gamma 1. With config F's regularizers (gamma 0.01 or 1) every
            # bench run on MNIST had collapsed to one digit by 800-1,500 steps;
            # with these, 3,000 steps draw every digit (bench/RESULTS.md,
            # bench_stylegan2_quality).
            "quick": {
                "image_size": 32,
                "batch_size": 16,
                "steps": 3000,
                "z_dim": 128,
                "w_dim": 128,
                "channel_base": 1024,
                "channel_max": 64,
                "mapping_layers": 2,
                "pl_weight": 0.0,
                "style_mixing_prob": 0.0,
                "mbstd_group": 16,
                "r1_gamma": 1.0,
                "sample_every": 250,
                "checkpoint_every": 1000,
            },
            # stylegan2-ada's "paper256" configuration (train.py cfg_specs:
            # kimg 25000, mb 64, mbstd 8, fmaps 0.5, lrate 0.0025, gamma 1,
            # ema 20 kimg without ramp-up, map 8).
            "quality": {
                "image_size": 256,
                "batch_size": 64,
                "steps": 25_000_000 // 64,
                "channel_base": 16384,
                "lr_g": 0.0025,
                "lr_d": 0.0025,
                "mbstd_group": 8,
                "r1_gamma": 1.0,
                "ema_kimg": 20.0,
                "ema_rampup": 0.0,
                "sample_every": 1000,
                "checkpoint_every": 5000,
            },
        },
        paper="Karras et al. 2020, Analyzing and Improving the Image Quality of "
        "StyleGAN",
        order=20,
    )
]
