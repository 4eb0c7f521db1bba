"""The worker side of the playground refuses work it cannot finish in time."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ganweb.playground.rendering import MAX_TILES, GeneratorCache, render
from tests.ganweb.playground.tiny_models import tiny_checkpoint


@pytest.fixture(scope="module")
def cyclegan():
    return GeneratorCache(1).get(tiny_checkpoint("cyclegan"))


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 90)).save(out, format="PNG")
    return out.getvalue()


def params(**overrides) -> dict:
    return {"direction": "AtoB", "mode": "tile", "generator": "ema", **overrides}


def test_a_tiled_translation_of_too_many_tiles_is_refused_before_it_starts(
    cyclegan,
):
    # 1024x1024 is within the pixel limit, but a 16 px model needs 85x85
    # tiles for it: far past what answers within the playground's timeout.
    with pytest.raises(ValueError, match=r"mode=tile would translate 7225 tiles"):
        render(cyclegan, "translate", params(), png(1024, 1024))
    with pytest.raises(ValueError, match=r"21675 tiles"):  # three passes
        render(cyclegan, "translate", params(roundtrip=True), png(1024, 1024))


def test_the_same_image_resized_or_smaller_is_translated(cyclegan):
    resized = render(cyclegan, "translate", params(mode="resize"), png(1024, 1024))
    assert Image.open(io.BytesIO(resized.content)).size == (1024, 1024)
    smaller = render(cyclegan, "translate", params(size=256), png(1024, 1024))
    assert Image.open(io.BytesIO(smaller.content)).size == (256, 256)
    assert MAX_TILES >= 22 * 22  # 256 px in 16 px tiles with a quarter overlap
