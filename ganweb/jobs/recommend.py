"""A starting point for the job form from what the data is.

The family follows the data's kind (two domains: CycleGAN, Zhu et al. 2017;
paired images: pix2pix, Isola et al. 2017;
class folders: the conditional GAN, Mirza & Osindero 2014; 2D points: the
original MLP GAN, Goodfellow et al. 2014). Flat photo sets get StyleGAN2
(Karras et al. 2020) when there are enough large images for it to pay off,
else DCGAN (Radford et al. 2016), which was designed at 64 px. The image size
is the largest power of two that most images reach on their shorter side
(smaller ones would be upscaled), within the family's bounds. The steps are a
heuristic, said as one on the form: a fixed number of passes over the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# StyleGAN2 needs both: below these DCGAN trains faster to a similar result.
STYLEGAN2_MIN_SIDE = 128
STYLEGAN2_MIN_IMAGES = 1000
# The share of images that must reach the chosen size without upscaling.
SIZE_COVERAGE = 0.9
PASSES = 20  # passes over the data the proposed step count gives
MIN_STEPS = 300
QUALITY_PRESET_MIN_IMAGES = 10_000

FAMILY_BY_KIND = {
    "points": "gan",
    "domains": "cyclegan",
    "pairs": "pix2pix",
    "classes": "cgan",
}
PRESET_BY_FAMILY = {"gan": "points"}


@dataclass(frozen=True)
class Recommendation:
    family: str
    preset: str
    image_size: int | None  # None for point data
    count: int
    reasons: list[str] = field(default_factory=list)


def largest_power_of_two(side: int) -> int:
    return 1 << (max(1, int(side)).bit_length() - 1)


def supported_side(source) -> int | None:
    """The shorter side that SIZE_COVERAGE of the images reach (pixels)."""
    if source.dataset is None:
        from gan_core.data.builtin_catalog import describe_builtin

        name = source.data_ref.split(":", 1)[1]
        return describe_builtin(name)["default_size"] or None
    stats = source.dataset.stats or {}
    rows = stats.get("size_histogram") or []
    total = sum(row["count"] for row in rows)
    seen = 0
    for row in reversed(rows):  # largest bucket first
        seen += row["count"]
        low = int(row["label"].split("-")[0].rstrip("+ px") or 0)
        if total and seen >= SIZE_COVERAGE * total and low > 0:
            return low
    sides = [stats.get(k, {}).get("min") for k in ("width", "height")]
    return min(s for s in sides if s) if all(sides) else None


def data_count(source) -> int:
    if source.dataset is None:
        from gan_core.data.builtin_catalog import describe_builtin

        return int(describe_builtin(source.data_ref.split(":", 1)[1])["count"])
    return int(source.dataset.image_count)


def recommend(source, families: list[dict]) -> Recommendation:
    """The family, preset and image size to open the form on for ``source``;
    ``families`` is the catalogue of those that suit the data."""
    names = [f["name"] for f in families]
    side, count = supported_side(source), data_count(source)
    reasons = []
    family = FAMILY_BY_KIND.get(source.kind)
    if family is None:  # flat images
        big = (side or 0) >= STYLEGAN2_MIN_SIDE and count >= STYLEGAN2_MIN_IMAGES
        family = "stylegan2" if big else "dcgan"
        reasons.append(
            f"{count} images of at least {side} px: "
            + ("StyleGAN2 has enough to learn from." if big else "DCGAN suits them.")
        )
    else:
        reasons.append(f"{source.kind} data: {family} is made for it.")
    if family not in names:
        family = names[0]
    entry = next(f for f in families if f["name"] == family)
    preset = PRESET_BY_FAMILY.get(family) or (
        "quality" if count >= QUALITY_PRESET_MIN_IMAGES else "quick"
    )
    if preset not in entry["presets"]:
        preset = next(iter(entry["presets"]))
    return Recommendation(
        family=family,
        preset=preset,
        image_size=image_size_for(entry, side) if source.kind != "points" else None,
        count=count,
        reasons=reasons,
    )


def image_size_for(entry: dict, side: int | None) -> int | None:
    """The largest power of two within ``side`` and the family's bounds."""
    spec = next((s for s in entry["settings"] if s["name"] == "image_size"), None)
    if spec is None or not side:
        return None
    size = largest_power_of_two(min(side, spec.get("max") or side))
    low = spec.get("min") or 1
    return max(size, 1 << (int(low) - 1).bit_length())


def proposed_steps(count: int, batch_size: int) -> int:
    """PASSES over ``count`` images at ``batch_size``, in hundreds."""
    steps = math.ceil(PASSES * count / max(1, batch_size))
    return max(MIN_STEPS, math.ceil(steps / 100) * 100)


def form_initial(
    entry: dict, preset: str, source, count: int, *, propose: bool
) -> dict:
    """The job form's starting values: the family's defaults and ``preset``;
    with ``propose``, the image size and steps this data suggests."""
    initial = {spec["name"]: spec.get("default") for spec in entry["settings"]}
    initial.update(entry["presets"].get(preset, {}))
    if propose:
        side = image_size_for(entry, supported_side(source))
        if side and source.kind != "points":
            initial["image_size"] = side
        batch = int(initial.get("batch_size") or 1)
        initial["steps"] = proposed_steps(count, batch)
    return initial
