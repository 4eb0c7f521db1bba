"""From a conditional model's playground, "Augmentation value": the light
worker trains the three classifiers and the card draws their accuracies; a
model without labels shows no card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.deadlines import scaled_ms
from tests.ganweb.playground.tiny_models import register_model

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

PERCENT = r"\d{1,3}\.\d%"


def test_measure_the_augmentation_value_from_the_playground(
    window, page, watch, shots, alice
):
    job = register_model(alice, "cgan")  # trained on builtin:digits: 10 classes
    sign_in(window, alice)
    page.goto(f"/playground/{job.pk}/")
    card = page.locator("#pg-augmentation")
    expect(page.locator("#pg-augmentation-status")).to_have_text("Not measured yet.")
    card.get_by_role("button", name="Measure").click()
    expect(card.get_by_role("button", name="Measure")).to_be_disabled()

    bars = page.locator("#pg-augmentation-bars .pg-bar")
    expect(bars).to_have_count(3, timeout=scaled_ms(180))
    expect(page.locator("#pg-augmentation-error")).to_have_text("")
    expect(page.locator("#pg-augmentation-status")).to_have_text("")
    for arm, label in (
        ("real", "real images"),
        ("synthetic", "synthetic only (CAS)"),
        ("real+synthetic", "real + synthetic"),
    ):
        row = page.locator(f'.pg-bar[data-arm="{arm}"]')
        expect(row.locator(".pg-bar-name")).to_have_text(label)
        expect(row.locator(".pg-bar-value")).to_have_text(re.compile(PERCENT))
        width = row.locator(".pg-bar-fill").evaluate("e => e.style.width")
        value = row.locator(".pg-bar-value").inner_text()
        assert float(width.rstrip("%")) == pytest.approx(
            float(value.rstrip("%")), abs=0.06
        )
    expect(page.locator("#pg-augmentation-verdict")).to_have_text(
        re.compile(r"(raised|lowered) the accuracy by \d+\.\d points|changed nothing")
    )
    expect(page.locator("#pg-augmentation-details")).to_contain_text(
        "Checkpoint at step 2"
    )
    expect(card.get_by_role("button", name="Measure")).to_be_enabled()
    shots(page, "augmentation-value")

    # The record is the model's: a fresh visit shows it again, without a click.
    page.reload()
    expect(page.locator("#pg-augmentation-bars .pg-bar")).to_have_count(3)

    plain = register_model(alice, "dcgan")
    page.goto(f"/playground/{plain.pk}/")
    expect(page.locator("#pg-make-dataset")).to_be_visible()
    expect(page.locator("#pg-augmentation")).to_have_count(0)
    watch.assert_clean()
