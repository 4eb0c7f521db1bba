"""Latent-direction sliders in the playground, in a real Chromium.

A tiny StyleGAN2 (and a DCGAN) trained a few steps: the page asks a light
worker for the principal directions, shows a slider per component with its
share of the variance, draws the original beside the edit, saves the edit to a
gallery and opens it again as a remix at the same settings.
"""

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

TILE, PAD = 16, 2


def image_loaded(locator) -> bool:
    return locator.evaluate("(img) => img.complete && img.naturalWidth > 0")


def halves_differ(page, img) -> bool:
    """Whether the two halves (original | edit) of the drawn pair differ."""
    return page.evaluate(
        """([img, tile, pad]) => {
          const canvas = document.createElement("canvas");
          canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
          const ctx = canvas.getContext("2d");
          ctx.drawImage(img, 0, 0);
          const a = ctx.getImageData(0, 0, tile, tile).data;
          const b = ctx.getImageData(tile + pad, 0, tile, tile).data;
          return a.some((v, i) => v !== b[i]);
        }""",
        [img.element_handle(), TILE, PAD],
    )


def test_sliders_edit_a_seed_and_the_edit_is_saved_and_remixed(
    window, page, shots, alice
):
    from tests.ganweb.playground.tiny_models import register_model

    job = register_model(alice, "stylegan2")
    sign_in(window, alice)
    page.goto(f"/playground/{job.pk}/")
    section = page.locator("#pg-directions")
    status = section.locator("#pg-dir-status")
    expect(status).to_contain_text("8 directions in W", timeout=scaled_ms(60))
    sliders = section.get_by_role("slider")
    expect(sliders).to_have_count(6)  # the first six of eight
    first = section.get_by_role("slider", name=re.compile(r"^Component 0 \("))
    expect(first).to_have_accessible_name(re.compile(r"\d+\.\d% of variance"))
    caption = section.locator("figcaption")
    expect(caption).to_contain_text("Seed 0: unedited", timeout=scaled_ms(60))
    img = section.locator(".pg-result img")
    wait_until(lambda: image_loaded(img), what="the unedited pair to load")
    assert img.evaluate("(i) => i.naturalWidth") == 2 * TILE + PAD
    assert not halves_differ(page, img)  # alpha 0: the edit is the original

    section.get_by_label("Seed").fill("4")
    section.get_by_label("Edit the layers").select_option("fine")
    first.fill("3")
    expect(section.locator("output").first).to_have_text("3.0")
    expect(caption).to_contain_text(
        "Seed 4: component 0 +3, fine layers", timeout=scaled_ms(60)
    )
    wait_until(lambda: image_loaded(img), what="the edit to load")
    wait_until(lambda: halves_differ(page, img), what="the edit to differ")
    shots(page, "directions-sliders")
    assert_accessible(page, "playground with direction sliders")

    section.get_by_role("button", name="Save to gallery").click()
    dialog = page.get_by_role("dialog", name="Save to a gallery")
    dialog.get_by_label("New gallery's title").fill("Edits")
    dialog.get_by_label("Title", exact=True).fill("Fine edit")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    page.get_by_role("link", name="Open the gallery").click()
    expect(page.get_by_role("img", name="Fine edit")).to_be_visible()

    page.get_by_role("link", name="Remix “Fine edit”").click()
    expect(page.locator("#pg-remix-note")).to_contain_text("Fine edit")
    section = page.locator("#pg-directions")
    expect(section.locator("figcaption")).to_contain_text(
        "Seed 4: component 0 +3", timeout=scaled_ms(60)
    )
    first = section.get_by_role("slider", name=re.compile(r"^Component 0 \("))
    expect(first).to_have_value("3")
    expect(section.get_by_label("Seed")).to_have_value("4")
    # The remixed layers come back as the indices the save recorded.
    expect(section.locator("figcaption")).to_contain_text("layers")
    shots(page, "directions-remix")

    section.get_by_role("button", name="Reset sliders").click()
    expect(section.locator("figcaption")).to_contain_text(
        "Seed 4: unedited", timeout=scaled_ms(60)
    )
    window.watch.assert_clean()


def test_a_dcgan_gets_sliders_in_z_and_no_layer_choice(window, page, alice):
    from tests.ganweb.playground.tiny_models import register_model

    job = register_model(alice, "dcgan")
    sign_in(window, alice)
    page.goto(f"/playground/{job.pk}/")
    section = page.locator("#pg-directions")
    expect(section.locator("#pg-dir-status")).to_contain_text(
        "20 directions in Z", timeout=scaled_ms(60)
    )
    expect(section.get_by_role("slider")).to_have_count(6)
    expect(section.get_by_label("Edit the layers")).to_have_count(0)
    section.get_by_role("slider", name=re.compile(r"^Component 2 \(")).fill("-4")
    expect(section.locator("figcaption")).to_contain_text(
        "component 2 -4", timeout=scaled_ms(60)
    )
    window.watch.assert_clean()
