"""Adaptive discriminator augmentation (Karras et al. 2020, "Training Generative
Adversarial Networks with Limited Data").

D sees real and generated images augmented by the paper's 'bgc' pipeline
(gan_core.augment_pipe: x-flip, 90-degree rotations, integer translation,
isotropic and anisotropic scaling, two rotations, fractional translation,
brightness, contrast, luma flip, hue, saturation), each operation applied to
an image with probability ``p``. ``p`` follows how much D overfits: every
``interval`` D steps the heuristic r_t = E[sign(D(real))] (section 3) over
those steps is compared with its target (0.6 in the paper); p moves up when r_t
is above it and down when below, by (images seen) / (``speed_kimg`` * 1000), so
it can go from 0 to 1 in 500k images as in the paper. With p below about 0.8
the augmentations do not leak into the generated images (section 2.2).

When it is on by default: stylegan2-ada-pytorch turns ADA on for every
dataset; the paper shows it is essential below about 30k images and still
helps at 70k-140k. Here ``ada = auto`` turns it on for datasets of at most
``SMALL_DATASET`` (50,000, the size of CIFAR-10, on which the paper uses it)
images, unless a fixed DiffAugment policy (``augment``) was chosen, so large
datasets train as before. ``auto`` is StyleGAN2's default only: the paper
defines and tunes ADA on StyleGAN2 (every experiment, the target and the
speed), so the classic families (dcgan, wgan, wgan-gp, sngan, cgan) default to
``off`` and get ADA only when their config says ``auto`` or ``on``.
"""

from __future__ import annotations

import torch

from gan_core import distributed
from gan_core.augment import make_augment
from gan_core.augment_pipe import BGC, OPERATIONS, AugmentPipe

SMALL_DATASET = 50_000  # ada = auto: on for datasets of at most this many images
PIPELINE = "bgc"  # recorded in the state, so older ADA states are recognized


class AdaptiveAugment:
    """A callable augmentation whose strength ``p`` adapts to D's overfitting.

    Call it on D's inputs (real and fake alike); call ``observe`` with D's raw
    scores on the real batch after each D step. Its ``state_dict`` keeps p and
    the pending statistics, so a resumed run continues with the same p.
    """

    def __init__(
        self,
        policy: str = PIPELINE,  # "bgc", or a comma-separated list of operations.
        target: float = 0.6,  # Wanted E[sign(D(real))] (paper: 0.6).
        speed_kimg: float = 500.0,  # Thousand images for p to go 0 -> 1.
        interval: int = 4,  # D steps between adjustments (paper: 4).
    ):
        self.pipe = AugmentPipe(_multipliers(policy))
        self.target, self.speed_kimg, self.interval = target, speed_kimg, interval
        self.p = 0.0
        self._sign_sum = 0.0
        self._seen = 0
        self._steps = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or self.p <= 0:  # points are left alone; p = 0: identity
            return x
        return self.pipe(x, self.p)

    @torch.no_grad()
    def observe(self, real_scores: torch.Tensor) -> None:
        """Accumulate sign(D(real)); every ``interval`` calls, adjust p."""
        # Summed over ranks: every rank's p follows the global batch.
        signs, seen = distributed.total(
            [float(torch.sign(real_scores.float()).sum()), real_scores.numel()]
        )
        self._sign_sum += signs
        self._seen += int(seen)
        self._steps += 1
        if self._steps % self.interval:
            return
        r_t = self._sign_sum / max(self._seen, 1)
        step = self._seen / (self.speed_kimg * 1000)
        direction = float((r_t > self.target) - (r_t < self.target))  # sign
        self.p = min(1.0, max(0.0, self.p + direction * step))
        self._sign_sum, self._seen = 0.0, 0

    def state_dict(self) -> dict:
        return {
            "pipeline": PIPELINE,
            "p": self.p,
            "sign_sum": self._sign_sum,
            "seen": self._seen,
            "steps": self._steps,
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("pipeline") != PIPELINE:
            # Written before the bgc pipeline (DiffAugment colour, translation
            # and cutout): its p measured other augmentations.
            raise ValueError(
                "its ADA state comes from the older DiffAugment-based ADA; this "
                "version augments with the paper's bgc pipeline, so the run cannot "
                "be resumed (its samples still load): start a new run"
            )
        self.p = float(state["p"])
        self._sign_sum = float(state["sign_sum"])
        self._seen = int(state["seen"])
        self._steps = int(state["steps"])


def _multipliers(policy: str) -> dict[str, float]:
    names = [p.strip() for p in policy.split(",") if p.strip()]
    if names == [PIPELINE]:
        return dict(BGC)
    unknown = [name for name in names if name not in OPERATIONS]
    if unknown or not names:
        raise ValueError(
            f"unknown augmentation '{unknown[0] if unknown else policy}' "
            f"(use bgc or some of {', '.join(OPERATIONS)})"
        )
    return dict.fromkeys(names, 1.0)


def ada_wanted(config, dataset_size: int) -> bool:
    """Whether ``config`` trains with ADA on a dataset of ``dataset_size``
    images (0 = unknown, counts as large): ``ada`` on, or auto on a small
    dataset without a fixed ``augment`` policy; never with ``ada_target`` 0."""
    mode = getattr(config, "ada", "off")
    if getattr(config, "ada_target", 0.0) <= 0 or mode == "off":
        return False
    if mode == "on":
        return True
    small = 0 < dataset_size <= SMALL_DATASET
    return small and not config.augment.strip()


def make_d_augment(config, info):
    """D's input augmentation for ``config`` on data ``info``: adaptive (bgc)
    when ``ada_wanted``, else the fixed DiffAugment of ``augment``, else None."""
    if ada_wanted(config, getattr(info, "size", 0)):
        return AdaptiveAugment(PIPELINE, config.ada_target, config.ada_kimg)
    return make_augment(config.augment)


def ada_state(augment) -> dict:
    """The recipe state entry that keeps ADA's p in checkpoints (empty if off)."""
    return {"ada": augment} if isinstance(augment, AdaptiveAugment) else {}
