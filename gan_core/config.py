"""Family settings: frozen dataclasses validated once where input enters.

Every field carries its help text and bounds in ``metadata`` so that one
definition serves the CLI flags, ``python -m gan_core models``, the web form
(``config_schema``) and validation (``config_from_dict``). A config is stored as
JSON on the job and in every checkpoint (``to_dict``).

Training settings shared by every family live in ``TrainConfig``; a family's
config subclasses it and may override defaults to follow its paper.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

PRECISIONS = ("fp32", "bf16", "fp16")
LR_SCHEDULES = ("constant", "linear", "cosine")
OPTIMIZERS = ("adam", "rmsprop")
AUGMENT_OPS = ("color", "translation", "cutout")


class ConfigError(ValueError):
    """A setting is unknown, of the wrong type or out of range; ``field`` names it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def setting(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: tuple | None = None,
):
    """A config field with its help text and bounds (inclusive) in metadata."""
    meta = {"help": help, "min": min, "max": max, "choices": choices}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class TrainConfig:
    """Settings every family shares: data size, schedule, precision, logging."""

    image_size: int = setting(
        64, "Side of the square training images, in pixels.", min=4, max=1024
    )
    batch_size: int = setting(
        64, "Real images per discriminator step.", min=1, max=4096
    )
    steps: int = setting(10000, "Generator steps to train for.", min=1, max=10_000_000)
    seed: int = setting(
        0, "Seed for weights, noise and data order.", min=0, max=2**31 - 1
    )
    z_dim: int = setting(100, "Size of the generator's input noise.", min=1, max=2048)
    optimizer: str = setting("adam", "Optimizer for both networks.", choices=OPTIMIZERS)
    lr_g: float = setting(2e-4, "Generator learning rate.", min=0.0, max=1.0)
    lr_d: float = setting(2e-4, "Discriminator learning rate.", min=0.0, max=1.0)
    beta1: float = setting(0.5, "Adam beta1.", min=0.0, max=0.9999)
    beta2: float = setting(0.999, "Adam beta2.", min=0.0, max=0.99999)
    lr_schedule: str = setting(
        "constant",
        "Learning-rate schedule: constant, linear (constant for the first half, "
        "then linear to zero) or cosine.",
        choices=LR_SCHEDULES,
    )
    n_critic: int = setting(
        1, "Discriminator steps per generator step.", min=1, max=100
    )
    ema: float = setting(
        0.999,
        "Decay of the generator's exponential moving average used for samples "
        "(0 turns it off).",
        min=0.0,
        max=0.99999,
    )
    ema_kimg: float = setting(
        0.0,
        "Half-life of the generator's moving average in thousands of images "
        "(stylegan2-ada's ema_kimg): the decay then follows the batch size; "
        "0 = use the fixed per-step decay ema.",
        min=0.0,
        max=1e5,
    )
    ema_rampup: float = setting(
        0.0,
        "With ema_kimg: the half-life is at most this share of the images seen "
        "so far (stylegan2-ada's ema_rampup; 0 = no ramp-up).",
        min=0.0,
        max=1.0,
    )
    grad_clip: float = setting(
        0.0, "Clip each network's gradient norm to this (0 = off).", min=0.0, max=1e6
    )
    loss_limit: float = setting(
        1e6,
        "A loss larger than this (in absolute value) counts as exploding and "
        "is rolled back like a NaN (0 = only NaN and infinity).",
        min=0.0,
        max=1e30,
    )
    collapse_ratio: float = setting(
        0.0,
        "Mode-collapse watchdog: when the spread of the fixed-noise samples falls "
        "below this share of the widest seen so far, roll back as for a "
        "divergence (0 = off; 0.1 catches a generator that draws nearly one "
        "image for every noise).",
        min=0.0,
        max=0.99,
    )
    rollbacks: int = setting(
        3,
        "When a loss or gradient turns NaN or infinite, go back to the last "
        "checkpoint with half the learning rate, at most this many times "
        "(0 = stop at once).",
        min=0,
        max=20,
    )
    precision: str = setting(
        "fp32",
        "Arithmetic: fp32, bf16 (autocast on CPU and GPU) or fp16 (CUDA only, "
        "with a gradient scaler).",
        choices=PRECISIONS,
    )
    augment: str = setting(
        "",
        "DiffAugment policy for small datasets: comma-separated color, "
        "translation, cutout (empty = off); when set, ada auto stays off.",
    )
    mirror: bool = setting(
        False,
        "Flip each real image left-right with probability 1/2 as it is drawn "
        "(stylegan2-ada's --mirror): twice the views of a small set for free. "
        "Labels never change; two-domain data flips each domain on its own. "
        "Image data only.",
    )
    channels_last: bool = setting(True, "Use channels_last memory format for convs.")
    compile: bool = setting(False, "Compile the networks with torch.compile.")
    sample_every: int = setting(
        500, "Write a sample grid every N steps.", min=1, max=10_000_000
    )
    checkpoint_every: int = setting(
        2000, "Write a checkpoint every N steps.", min=1, max=10_000_000
    )

    def validate(self) -> None:
        """Checks across fields; raises ConfigError. Subclasses extend it."""
        ops = [op.strip() for op in self.augment.split(",") if op.strip()]
        unknown = [op for op in ops if op not in AUGMENT_OPS]
        if unknown:
            raise ConfigError(
                f"augment: unknown operation '{unknown[0]}' "
                f"(use a comma-separated list of {', '.join(AUGMENT_OPS)})",
                field="augment",
            )

    def to_dict(self) -> dict:
        """The settings as JSON-safe data; ``config_from_dict`` round-trips it."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainConfig:
        """A validated copy with ``changes`` applied."""
        return config_from_values(type(self), {**self.to_dict(), **changes})


ADA_MODES = ("auto", "on", "off")


def ada_setting(default: str):
    """The ``ada`` setting with its per-family default.

    ADA was defined and tuned on StyleGAN2 (Karras et al. 2020: every
    experiment, the 0.6 target and the 500k-image speed; stylegan2-ada-pytorch
    trains nothing else), so only StyleGAN2 defaults to ``auto``; the classic
    families default to ``off`` and take ``auto`` or ``on`` when asked.
    """
    return setting(
        default,
        "Adaptive discriminator augmentation (Karras 2020): the paper's 12 "
        "geometric and colour operations with a probability p that follows D's "
        "overfitting. auto = on for datasets of at most 50,000 images unless "
        "augment is set (the default for stylegan2, on which ADA was defined; "
        "the classic families default to off); on; off.",
        choices=ADA_MODES,
    )


def ada_target_setting():
    return setting(
        0.6,
        "ADA target: the wanted E[sign(D(real))], 0.6 in the paper (0 = ADA off).",
        min=0.0,
        max=0.99,
    )


def check_ada(config: TrainConfig) -> None:
    """ADA on needs a target above 0 and excludes a fixed DiffAugment policy."""
    if config.ada != "on":
        return
    if config.ada_target <= 0:
        raise ConfigError("ada on needs ada_target above 0", field="ada_target")
    if config.augment.strip():
        raise ConfigError(
            "ada on and augment (DiffAugment) do not combine: choose one",
            field="augment",
        )


def ada_kimg_setting():
    return setting(
        500.0,
        "ADA speed: thousands of real images for p to go from 0 to 1 (paper: 500).",
        min=0.001,
        max=100_000.0,
    )


def freeze_d_setting():
    return setting(
        0,
        "FreezeD (Mo et al. 2020): the first N discriminator blocks, from the "
        "image side, keep their weights while the rest trains; for fine-tuning "
        "a model started from a checkpoint (0 = off).",
        min=0,
        max=16,
    )


def check_freeze_d(config: TrainConfig, blocks: int) -> None:
    """freeze_d may freeze every block but the discriminator's output layer."""
    if config.freeze_d > blocks:
        raise ConfigError(
            f"freeze_d must be at most {blocks} at {config.image_size} px (the "
            f"discriminator has {blocks} blocks before its output; got "
            f"{config.freeze_d})",
            field="freeze_d",
        )


def _power_of_two(config: TrainConfig, name: str = "image_size") -> None:
    size = getattr(config, name)
    if size < 8 or size & (size - 1):
        raise ConfigError(
            f"{name} must be a power of two from 8 up (got {size})", field=name
        )


@dataclass(frozen=True)
class GANConfig(TrainConfig):
    """Goodfellow et al. 2014: MLP generator and discriminator."""

    image_size: int = setting(
        28, "Side of the square training images, in pixels.", min=4, max=256
    )
    batch_size: int = setting(
        128, "Real samples per discriminator step.", min=1, max=4096
    )
    z_dim: int = setting(64, "Size of the generator's input noise.", min=1, max=2048)
    hidden: int = setting(256, "Units in each hidden layer.", min=4, max=8192)
    depth: int = setting(3, "Hidden layers in each network.", min=1, max=12)
    loss: str = setting(
        "ns",
        "Adversarial loss: ns (non-saturating, Goodfellow 2014 section 3) or hinge.",
        choices=("ns", "hinge"),
    )
    pack: int = setting(
        1,
        "Samples the discriminator judges together (PacGAN, Lin et al. 2018); "
        "2-4 fights mode collapse. The batch size must be a multiple of it.",
        min=1,
        max=16,
    )
    clusters: int = setting(
        0,
        "Self-conditioning (Liu et al. 2020): k-means splits the training data "
        "into this many clusters and G and D are conditioned on them, so G must "
        "cover every cluster. More clusters than the data has modes is safe; "
        "0 turns it off.",
        min=0,
        max=256,
    )

    def validate(self) -> None:
        super().validate()
        if self.clusters and self.pack > 1:
            raise ConfigError(
                "clusters and pack do not combine: use one or the other",
                field="clusters",
            )
        if self.clusters and self.z_dim < 2:
            raise ConfigError(
                "clusters needs z_dim >= 2 (the first noise entry picks the cluster)",
                field="z_dim",
            )
        if self.batch_size % self.pack:
            raise ConfigError(
                f"batch_size ({self.batch_size}) must be a multiple of pack "
                f"({self.pack})",
                field="pack",
            )


@dataclass(frozen=True)
class DCGANConfig(TrainConfig):
    """Radford et al. 2016: strided convolutions, BatchNorm, Adam 2e-4, beta1 0.5."""

    batch_size: int = setting(
        128, "Real images per discriminator step.", min=1, max=4096
    )
    g_channels: int = setting(
        64, "Generator width (channels at the last layer).", min=1, max=1024
    )
    d_channels: int = setting(
        64, "Discriminator width (channels at the first layer).", min=1, max=1024
    )
    loss: str = setting(
        "ns",
        "Adversarial loss: ns (non-saturating) or hinge.",
        choices=("ns", "hinge"),
    )
    ada: str = ada_setting("off")  # StyleGAN2-tuned: ask for it
    ada_target: float = ada_target_setting()
    ada_kimg: float = ada_kimg_setting()
    freeze_d: int = freeze_d_setting()

    def validate(self) -> None:
        super().validate()
        check_ada(self)
        _power_of_two(self)
        # DCDiscriminator: one strided block per halving from image_size to 4.
        check_freeze_d(self, int(math.log2(self.image_size)) - 2)


@dataclass(frozen=True)
class WGANConfig(DCGANConfig):
    """Arjovsky et al. 2017, Algorithm 1: clip c = 0.01, RMSprop 5e-5, n_critic 5."""

    batch_size: int = setting(64, "Real images per critic step.", min=1, max=4096)
    optimizer: str = setting(
        "rmsprop", "Optimizer for both networks.", choices=OPTIMIZERS
    )
    lr_g: float = setting(5e-5, "Generator learning rate.", min=0.0, max=1.0)
    lr_d: float = setting(5e-5, "Critic learning rate.", min=0.0, max=1.0)
    n_critic: int = setting(5, "Critic steps per generator step.", min=1, max=100)
    clip_value: float = setting(
        0.01, "Critic weights are clipped to [-c, c].", min=1e-6, max=10.0
    )
    loss: str = setting("wasserstein", "Adversarial loss.", choices=("wasserstein",))


@dataclass(frozen=True)
class WGANGPConfig(DCGANConfig):
    """Gulrajani et al. 2017, Algorithm 1: lambda 10, Adam(1e-4, 0, 0.9), n_critic 5."""

    batch_size: int = setting(64, "Real images per critic step.", min=1, max=4096)
    lr_g: float = setting(1e-4, "Generator learning rate.", min=0.0, max=1.0)
    lr_d: float = setting(1e-4, "Critic learning rate.", min=0.0, max=1.0)
    beta1: float = setting(0.0, "Adam beta1.", min=0.0, max=0.9999)
    beta2: float = setting(0.9, "Adam beta2.", min=0.0, max=0.99999)
    n_critic: int = setting(5, "Critic steps per generator step.", min=1, max=100)
    gp_lambda: float = setting(
        10.0, "Gradient-penalty weight lambda.", min=0.0, max=1e4
    )
    d_norm: str = setting(
        "layer",
        "Critic normalization: layer (the paper's recommendation) or none; never "
        "batch norm, which breaks the per-sample penalty.",
        choices=("layer", "none"),
    )
    loss: str = setting("wasserstein", "Adversarial loss.", choices=("wasserstein",))


@dataclass(frozen=True)
class SNGANConfig(DCGANConfig):
    """Miyato et al. 2018: spectral norm in D, hinge loss, Table 1 setting C
    (Adam 2e-4, beta1 0.5, beta2 0.999, one D step per G step)."""

    loss: str = setting(
        "hinge", "Adversarial loss: hinge (the paper's) or ns.", choices=("hinge", "ns")
    )


@dataclass(frozen=True)
class CGANConfig(DCGANConfig):
    """Mirza and Osindero 2014 on DCGAN networks; optional projection D (Miyato and
    Koyama 2018)."""

    image_size: int = setting(
        32, "Side of the square training images, in pixels.", min=4, max=1024
    )
    conditioning: str = setting(
        "concat",
        "How D sees the label: concat (label maps beside the image, Mirza 2014) or "
        "projection (inner product of a label embedding with D's features).",
        choices=("concat", "projection"),
    )
    embed_dim: int = setting(
        32, "Size of the generator's label embedding.", min=1, max=1024
    )


def _base_type(tp: Any) -> type:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def _field_types(config_cls: type) -> dict[str, type]:
    hints = typing.get_type_hints(config_cls)
    return {f.name: _base_type(hints[f.name]) for f in dataclasses.fields(config_cls)}


def _coerce(name: str, kind: type, value: Any) -> Any:
    """The value as ``kind``; ints are accepted for floats and integral floats
    (JSON's 64.0) for ints, but never bools for numbers."""
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    type_name = {bool: "a boolean", int: "an integer", float: "a number"}
    expected = type_name.get(kind, "a string")
    raise ConfigError(f"{name} must be {expected} (got {value!r})", field=name)


def _check_bounds(f: dataclasses.Field, value: Any) -> None:
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        options = ", ".join(str(c) for c in meta["choices"])
        raise ConfigError(
            f"{f.name} must be one of {options} (got {value!r})", field=f.name
        )
    if meta.get("min") is not None and value < meta["min"]:
        raise ConfigError(
            f"{f.name} must be at least {meta['min']} (got {value})", field=f.name
        )
    if meta.get("max") is not None and value > meta["max"]:
        raise ConfigError(
            f"{f.name} must be at most {meta['max']} (got {value})", field=f.name
        )


def config_from_values(config_cls: type, values: dict) -> Any:
    """Validate ``values`` against ``config_cls``; missing keys take defaults."""
    if not isinstance(values, dict):
        raise ConfigError("settings must be a mapping of name to value")
    kinds = _field_types(config_cls)
    by_name = {f.name: f for f in dataclasses.fields(config_cls)}
    clean = {}
    for name, value in values.items():
        if name not in by_name:
            raise ConfigError(f"unknown setting '{name}'", field=str(name))
        clean[name] = _coerce(name, kinds[name], value)
        _check_bounds(by_name[name], clean[name])
    config = config_cls(**clean)
    config.validate()
    return config


def config_from_dict(model: str, values: dict) -> TrainConfig:
    """The validated config of family ``model`` from ``values`` (defaults fill
    the rest). Raises ConfigError naming the field for unknown keys, wrong types
    and out-of-range values, and with field "model" for an unknown family."""
    from gan_core.registry import UnknownFamilyError, get_family

    try:
        family = get_family(model)
    except UnknownFamilyError as exc:
        raise ConfigError(str(exc), field="model") from exc
    return config_from_values(family.config_cls, values)


def schema_of(config_cls: type) -> list[dict]:
    """One dict per field: name, type, default, min, max, choices, help."""
    kinds = _field_types(config_cls)
    return [
        {
            "name": f.name,
            "type": kinds[f.name].__name__,
            "default": f.default,
            "min": f.metadata.get("min"),
            "max": f.metadata.get("max"),
            "choices": list(f.metadata["choices"])
            if f.metadata.get("choices")
            else None,
            "help": f.metadata.get("help", ""),
        }
        for f in dataclasses.fields(config_cls)
    ]


def config_schema(model: str) -> list[dict]:
    """The settings of family ``model`` for web forms and ``gan_core models``."""
    from gan_core.registry import get_family

    return schema_of(get_family(model).config_cls)
