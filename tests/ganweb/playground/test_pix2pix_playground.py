"""The playground with a pix2pix model: one direction, tiled translation of a
large image, and the one-way workbench."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ganweb.playground.rendering import GeneratorCache, describe, render
from tests.ganweb.playground.tiny_models import tiny_checkpoint


@pytest.fixture(scope="module")
def pix2pix():
    return GeneratorCache(1).get(tiny_checkpoint("pix2pix"))


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", (width, height), (10, 10, 30))
    img.paste((240, 40, 40), (width // 4, height // 4, width // 2, height // 2))
    img.save(out, format="PNG")
    return out.getvalue()


def params(**overrides) -> dict:
    return {"direction": "AtoB", "mode": "tile", "generator": "ema", **overrides}


def test_describes_a_one_way_translator(pix2pix):
    info = describe(pix2pix)
    assert info["family"] == "pix2pix" and info["kind"] == "pairs"
    assert info["calls"] == ["translate"] and info["directions"] == ["AtoB"]


def test_translates_a_large_image_in_tiles_at_full_size(pix2pix):
    result = render(pix2pix, "translate", params(), png(72, 40))
    image = Image.open(io.BytesIO(result.content))
    assert image.size == (72, 40) and result.meta["direction"] == "AtoB"
    resized = render(pix2pix, "translate", params(mode="resize"), png(72, 40))
    assert Image.open(io.BytesIO(resized.content)).size == (72, 40)
    assert resized.content != result.content  # tiles are not one resized pass


def test_the_way_back_is_refused(pix2pix):
    with pytest.raises(ValueError, match="AtoB only"):
        render(pix2pix, "translate", params(direction="BtoA"), png(16, 16))


def test_workbench_shows_input_translation_and_change(pix2pix):
    result = render(pix2pix, "translate", params(roundtrip=True), png(40, 24))
    assert result.meta["panels"] == ["input", "translated", "change"]
    assert 0 < result.meta["change"] <= 1
    strip = Image.open(io.BytesIO(result.content))
    assert strip.size[1] == 24 and strip.size[0] > 3 * 40
