"""What each playground call accepts, validated once where requests enter.

The API, the page's JavaScript and gallery saves all send the same parameters;
these serializers document them in the schema and turn them into plain dicts
that travel to the worker as JSON. Whether the family can do the call is the
worker's question (it holds the generator); everything else is checked here.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_SEED = 2**31 - 1
MAX_N = 1024  # Points models draw many; image models stop at MAX_IMAGES (worker).
MAX_SEEDS_PER_SIDE = 8
MAX_STEPS = 60
# An upload to translate may be at most this many times longer than it is wide
# (or the reverse): a thin strip costs a tiled translation as much as a square
# of its long side, and no model was trained on such shapes.
MAX_ASPECT_RATIO = 32
LAYER_GROUPS = ("coarse", "middle", "fine", "all")
DIRECTIONS = ("AtoB", "BtoA")
ACTIONS = ("sample", "class-grid", "interpolate", "style-mix", "translate", "edit")
# Latent edits (gan_core.directions): the worker keeps this many components and
# an alpha counts standard deviations along one (the same limits as gan_core's,
# written here because the web process does not import torch).
MAX_DIRECTIONS = 20
MAX_ALPHA = 10.0


class PlaygroundError(ValueError):
    """A playground request that cannot be done (HTTP 400 unless ``status``)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def check_upload_shape(width: int, height: int, max_pixels: int) -> None:
    """Refuse an upload's shape (from its header, before decoding) that
    cannot be translated in time. Raises PlaygroundError (400)."""
    if width * height > max_pixels:
        raise PlaygroundError(
            f"image has {width}x{height} pixels; the limit is {max_pixels} pixels"
        )
    if max(width, height) > MAX_ASPECT_RATIO * max(1, min(width, height)):
        raise PlaygroundError(
            f"image is {width}x{height} pixels: its long side may be at most "
            f"{MAX_ASPECT_RATIO} times its short side"
        )


def _seed(**kwargs):
    return serializers.IntegerField(min_value=0, max_value=MAX_SEED, **kwargs)


class ModelRequest(serializers.Serializer):
    """Which weights to use: the checkpoint step and the EMA or raw generator."""

    checkpoint = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="Checkpoint step (default: the latest checkpoint).",
    )
    generator = serializers.ChoiceField(
        choices=("ema", "raw"),
        default="ema",
        help_text="The moving-average generator (when the run kept one) or the "
        "raw trained weights.",
    )


class SampleRequest(ModelRequest):
    n = serializers.IntegerField(
        min_value=1, max_value=MAX_N, default=16, help_text="Images in the grid."
    )
    seed = _seed(
        default=0, help_text="Image i of the grid has seed `seed + i` (X-Seed)."
    )
    truncation = serializers.FloatField(
        min_value=0.0,
        max_value=2.0,
        default=1.0,
        help_text="Truncation psi: 1 none, 0 the average image.",
    )
    label = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Class name or index (conditional models); default cycles.",
    )


class ClassGridRequest(ModelRequest):
    per_class = serializers.IntegerField(min_value=1, max_value=16, default=8)
    seed = _seed(default=0)
    truncation = serializers.FloatField(min_value=0.0, max_value=2.0, default=1.0)


class InterpolateRequest(ModelRequest):
    seed_a = _seed(help_text="Seed of the first image.")
    seed_b = _seed(help_text="Seed of the last image.")
    steps = serializers.IntegerField(min_value=2, max_value=MAX_STEPS, default=16)
    space = serializers.ChoiceField(
        choices=("auto", "z", "w"),
        default="auto",
        help_text="z (spherical) or w (linear, StyleGAN2); auto picks w if it exists.",
    )
    format = serializers.ChoiceField(choices=("gif", "webp"), default="gif")
    fps = serializers.FloatField(min_value=1.0, max_value=50.0, default=12.0)
    truncation = serializers.FloatField(min_value=0.0, max_value=2.0, default=1.0)
    label = serializers.CharField(required=False, allow_null=True, default=None)
    projection = serializers.RegexField(
        r"^[0-9a-f]{32}$",
        required=False,
        allow_null=True,
        default=None,
        help_text="Start from the latent a projection of this model found "
        "(its id) instead of seed_a.",
    )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "example": "middle"},
            {"type": "array", "items": {"type": "integer", "minimum": 0}},
        ]
    }
)
class LayersField(serializers.Field):
    """coarse, middle, fine, all, a range "2-5", or a list of w indices."""

    def to_internal_value(self, data):
        if isinstance(data, list):
            if not data or len(data) > 64:
                raise serializers.ValidationError("give 1 to 64 layer indices")
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in data):
                raise serializers.ValidationError("layer indices are integers")
            if min(data) < 0:
                raise serializers.ValidationError("layer indices are 0 or more")
            return sorted(set(data))
        text = str(data).strip().lower()
        if text in LAYER_GROUPS:
            return text
        match = re.fullmatch(r"(\d{1,2})\s*-\s*(\d{1,2})", text)
        if match and int(match[1]) <= int(match[2]):
            return list(range(int(match[1]), int(match[2]) + 1))
        raise serializers.ValidationError(
            'use coarse, middle, fine, all, a range like "2-5" or a list of indices'
        )

    def to_representation(self, value):
        return value


class StyleMixRequest(ModelRequest):
    row_seeds = serializers.ListField(
        child=_seed(), min_length=1, max_length=MAX_SEEDS_PER_SIDE, default=[0, 1, 2]
    )
    col_seeds = serializers.ListField(
        child=_seed(), min_length=1, max_length=MAX_SEEDS_PER_SIDE, default=[3, 4, 5]
    )
    layers = LayersField(
        default="middle",
        help_text='Layers the columns give: coarse, middle, fine, all, "2-5" or '
        "a list of w indices.",
    )
    truncation = serializers.FloatField(min_value=0.0, max_value=2.0, default=1.0)


class TranslateRequest(ModelRequest):
    # A plain file: services.upload_image decodes it with Pillow under a pixel
    # limit (never trusting the name or the declared type).
    image = serializers.FileField(help_text="A PNG, JPEG, WebP or GIF image.")
    direction = serializers.ChoiceField(choices=DIRECTIONS, default="AtoB")
    size = serializers.IntegerField(
        min_value=8,
        max_value=1024,
        required=False,
        allow_null=True,
        default=None,
        help_text="Longest side of the result in pixels (default: the input's).",
    )
    mode = serializers.ChoiceField(
        choices=("resize", "tile"),
        default="resize",
        help_text="resize to the model's size and back, or translate tiles.",
    )
    roundtrip = serializers.BooleanField(
        default=False,
        help_text="The workbench instead of one image: input, translation, the "
        "round trip back, and heat maps of the cycle and identity errors side by "
        "side (their means in X-Playground).",
    )


def _alpha(**kwargs):
    # DRF's FloatField refuses NaN and the infinities ("a valid number").
    return serializers.FloatField(min_value=-MAX_ALPHA, max_value=MAX_ALPHA, **kwargs)


class EditRequest(ModelRequest):
    """A seed's image (or a projection's) moved along PCA directions."""

    seed = _seed(default=0, help_text="The image to edit.")
    direction = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DIRECTIONS - 1,
        default=0,
        help_text="Which principal component (0 explains the most variance).",
    )
    alpha = _alpha(
        default=0.0,
        help_text=f"Standard deviations along it, -{MAX_ALPHA:g} to {MAX_ALPHA:g}.",
    )
    alphas = serializers.ListField(
        child=_alpha(),
        max_length=MAX_DIRECTIONS,
        required=False,
        allow_null=True,
        default=None,
        help_text="Several at once: alphas[i] moves along component i (replaces "
        "direction and alpha).",
    )
    layers = LayersField(
        required=False,
        allow_null=True,
        default=None,
        help_text="StyleGAN2 only: the styles the edit moves (coarse, middle, fine, "
        'all, "2-5" or a list of w indices; default all).',
    )
    truncation = serializers.FloatField(min_value=0.0, max_value=2.0, default=1.0)
    label = serializers.CharField(required=False, allow_null=True, default=None)
    projection = serializers.RegexField(
        r"^[0-9a-f]{32}$",
        required=False,
        allow_null=True,
        default=None,
        help_text="Edit the image a projection of this model found (its id) "
        "instead of the seed's.",
    )
    compare = serializers.BooleanField(
        default=False, help_text="The original and the edit side by side."
    )


REQUESTS = {
    "sample": SampleRequest,
    "class-grid": ClassGridRequest,
    "interpolate": InterpolateRequest,
    "style-mix": StyleMixRequest,
    "translate": TranslateRequest,
    "edit": EditRequest,
}


def first_error(errors) -> str:
    """One line from DRF's nested errors: "field: reason"."""
    field, problems = next(iter(errors.items()))
    while isinstance(problems, dict):
        field, problems = next(iter(problems.items()))
    problem = problems[0] if isinstance(problems, list) else problems
    if isinstance(problem, dict | list):
        return f"{field}: {first_error({field: problem})}"
    return f"{field}: {problem}"


def playground_params(*, action: str, data) -> dict:
    """The validated parameters of ``action`` (the image file, if any, kept as
    an upload under "image"). Raises PlaygroundError naming the bad field."""
    if action not in REQUESTS:
        raise PlaygroundError(f"unknown action '{action}' (use {', '.join(ACTIONS)})")
    if not hasattr(data, "get"):
        raise PlaygroundError("send a JSON object of settings")
    form = REQUESTS[action](data=data)
    if not form.is_valid():
        raise PlaygroundError(first_error(form.errors))
    return dict(form.validated_data)
