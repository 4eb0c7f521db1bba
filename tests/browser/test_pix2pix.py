"""pix2pix in the browser: translate an upload A -> B in tiles, and the
one-way workbench (input, translation, what changed)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, sign_in, wait_until
from tests.deadlines import scaled_ms

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def image_size(locator) -> list[int] | None:
    return locator.evaluate(
        "(img) => img.complete && img.naturalWidth ? "
        "[img.naturalWidth, img.naturalHeight] : null"
    )


def test_translate_an_upload_with_pix2pix_in_tiles_and_the_workbench(
    window, page, shots, alice, tmp_path
):
    from PIL import Image

    from tests.ganweb.playground.tiny_models import register_model

    job = register_model(alice, "pix2pix")
    picture = tmp_path / "outline.png"
    img = Image.new("RGB", (56, 40), (10, 10, 20))
    img.paste((230, 60, 60), (12, 8, 30, 26))
    img.save(picture)
    sign_in(window, alice)
    page.goto(f"/playground/{job.pk}/")
    section = page.locator('.pg-section[data-action="translate"]')
    direction = section.get_by_label("Direction")
    expect(direction.locator("option")).to_have_count(1)  # A -> B only
    expect(direction).to_have_value("AtoB")
    section.get_by_label("Image", exact=True).set_input_files(picture)
    section.get_by_label("Large images").select_option("tile")
    section.get_by_role("button", name="Translate").click()
    result = section.get_by_role("img", name=re.compile(r"^A → B, 56×40$"))
    expect(result).to_be_visible(timeout=scaled_ms(60))
    wait_until(lambda: image_size(result) == [56, 40], what="the translation")

    section.get_by_label(re.compile("Workbench")).check()
    section.get_by_role("button", name="Translate").click()
    strip = section.get_by_role("img", name=re.compile(r"translated \| change"))
    expect(strip).to_be_visible(timeout=scaled_ms(60))
    expect(strip).to_have_attribute("alt", re.compile("mean change"))
    wait_until(
        lambda: image_size(strip) == [3 * 56 + 2 * 2, 40],
        what="the workbench strip",
    )
    shots(page, "pix2pix-workbench")
    assert_accessible(page, "pix2pix translation")
    window.watch.assert_clean()
