"""The ``progan`` family: progressive growing (Karras et al. 2018).

The stage schedule is part of the config (``phase_steps``); the recipe's
``on_step`` hook moves G, D and the EMA generator to the schedule's stage and
fade-in weight at the start of every step and reports both in the step event's
extras (``resolution``, ``alpha``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_core.config import ConfigError, TrainConfig, setting
from gan_core.registry import Family, deferred_build


@dataclass(frozen=True)
class ProGANConfig(TrainConfig):
    """Karras et al. 2018, appendix A.1: Adam(0.001, 0, 0.99), batch 16, WGAN-GP
    with lambda 10 and epsilon_drift 0.001, one critic step per G step, EMA 0.999."""

    batch_size: int = setting(16, "Real images per critic step.", min=1, max=4096)
    z_dim: int = setting(512, "Size of the latent z.", min=1, max=2048)
    channel_base: int = setting(16384, "Feature maps at resolution r are "
                                "channel_base / r ...", min=16,
                                max=1 << 20)  # fmt: skip
    channel_max: int = setting(512, "... capped at channel_max.", min=1,
                               max=1024)  # fmt: skip
    lr_g: float = setting(0.001, "Generator learning rate.", min=0.0, max=1.0)
    lr_d: float = setting(0.001, "Critic learning rate.", min=0.0, max=1.0)
    beta1: float = setting(0.0, "Adam beta1.", min=0.0, max=0.9999)
    beta2: float = setting(0.99, "Adam beta2.", min=0.0, max=0.99999)
    gp_lambda: float = setting(10.0, "Gradient-penalty weight lambda.", min=0.0,
                               max=1e4)  # fmt: skip
    drift: float = setting(0.001, "Drift penalty epsilon on D(x)^2.", min=0.0,
                           max=1.0)  # fmt: skip
    phase_steps: int = setting(
        0,
        "Steps of each fade-in and each stabilization phase (the paper shows "
        "800k images in each); 0 splits the run evenly so it ends at full size.",
        min=0,
        max=10_000_000,
    )
    mbstd_group: int = setting(4, "Minibatch standard deviation group size.",
                               min=1, max=64)  # fmt: skip

    def validate(self) -> None:
        super().validate()
        size = self.image_size
        if size < 8 or size & (size - 1):
            raise ConfigError(
                f"image_size must be a power of two from 8 up (got {size})",
                field="image_size",
            )

    def schedule_steps(self) -> int:
        """Steps per phase, resolving 0 to an even split of ``steps``."""
        from gan_core.losses.progan import auto_phase_steps
        from gan_core.nets.progan import num_stages

        stages = num_stages(self.image_size)
        return self.phase_steps or auto_phase_steps(self.steps, stages)


FAMILIES = [
    Family(
        name="progan",
        title="Progressive GAN",
        description="Progressive growing: training starts at 4x4 and doubles the "
        "resolution in stages with a smooth fade-in; pixel norm, minibatch std, "
        "equalized learning rate, WGAN-GP with drift.",
        config_cls=ProGANConfig,
        data_kinds=("images",),
        build=deferred_build("progan", "build_progan"),
        presets={
            "quick": {
                "image_size": 32,
                "batch_size": 16,
                "steps": 3000,
                "z_dim": 128,
                "channel_base": 1024,
                "channel_max": 64,
                "sample_every": 250,
                "checkpoint_every": 1000,
            },
            "quality": {
                "image_size": 128,
                "steps": 150000,
                "sample_every": 1000,
                "checkpoint_every": 5000,
            },
        },
        paper="Karras et al. 2018, Progressive Growing of GANs for Improved "
        "Quality, Stability, and Variation",
        order=21,
    )
]
