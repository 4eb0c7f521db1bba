"""Every main page at a phone's width and through axe-core, with no errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, sign_in
from tests.deadlines import scaled_ms

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 390, "height": 844}
PUBLIC_PAGES = {"landing": "/", "sign-in": "/accounts/login/"}
SIGNED_IN_PAGES = {
    "dashboard": "/",
    "datasets": "/datasets/",
    "upload": "/datasets/new/",
    "jobs": "/jobs/",
    "new-job": "/jobs/new/?dataset=builtin:digits&model=cgan&preset=quick",
    "galleries": "/galleries/",
}


def overflow(page) -> list[str]:
    """Elements wider than the screen, which would make the page scroll sideways."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width + 1) return [];
          return [...document.querySelectorAll("body *")]
            .filter((el) => el.getBoundingClientRect().right > width + 1)
            .slice(0, 8)
            .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`);
        }"""
    )


def test_main_pages_fit_a_phone_screen(open_window, shots, alice):
    visitor = open_window(viewport=PHONE, is_mobile=True, has_touch=True)
    member = open_window(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(member, alice)
    too_wide = {}
    for window, pages in ((visitor, PUBLIC_PAGES), (member, SIGNED_IN_PAGES)):
        page = window.new_page()
        for name, path in pages.items():
            page.goto(path)
            shots(page, f"phone-{name}")
            if wide := overflow(page):
                too_wide[name] = wide
        window.watch.assert_clean()
    assert not too_wide, f"pages wider than a phone: {too_wide}"


def test_list_and_form_pages_pass_axe(window, page, alice):
    sign_in(window, alice)
    for name, path in SIGNED_IN_PAGES.items():
        page.goto(path)
        assert_accessible(page, name)
    window.watch.assert_clean()


def test_the_job_page_tells_of_rollbacks_and_passes_axe(window, page, shots, alice):
    """A job the divergence watchdog rolled back says so on its page, for a
    viewer who was not watching when it happened."""
    from ganweb.jobs.models import Job

    job = Job.objects.create(
        owner=alice,
        data_ref="builtin:ring8",
        family="gan",
        config={"steps": 60},
        total_steps=60,
        step=60,
        state="finished",
        rollbacks=[
            {"from_step": 25, "step": 20, "reason": "G loss is nan", "lr_scale": 0.5}
        ],
    )
    sign_in(window, alice)
    page.goto(f"/jobs/{job.pk}/")
    notice = page.get_by_role("list", name="rollbacks").get_by_role("listitem")
    assert notice.count() == 1
    assert notice.inner_text() == (
        "Diverged at step 25 (G loss is nan): went back to step 20 and "
        "continued with the learning rate x0.5."
    )
    shots(page, "job-rollback")
    assert_accessible(page, "job")
    window.watch.assert_clean()


def test_the_job_form_estimates_time_and_memory_before_starting(window, page, alice):
    sign_in(window, alice)
    page.goto("/jobs/new/?dataset=builtin:digits&model=dcgan&preset=quick")
    page.get_by_label("steps").fill("1200")
    page.get_by_role("button", name="Estimate time and memory").click()
    result = page.locator("#preflight-result")
    expect(result).to_contain_text("on the CPU", timeout=scaled_ms(120))
    expect(result).to_contain_text("× 1200 steps")
    expect(result).to_contain_text("peak memory about")
    # A time budget sets the steps to what this worker does in that time (the
    # measurement is cached: a step costs the same whatever the step count).
    step_ms = float(re.search(r"\((\d+) ms a step", result.inner_text()).group(1))
    page.get_by_label("time budget (minutes)").fill("2")
    page.get_by_role("button", name="Estimate time and memory").click()
    expect(result).to_contain_text("to fit about 2 min on this worker")
    steps = int(page.get_by_label("steps").input_value())
    # The page shows the step time rounded to a millisecond.
    assert 120_000 / (step_ms + 0.5) - 1 <= steps <= 120_000 / max(step_ms - 0.5, 0.1)
    expect(result).to_contain_text(f"× {steps} steps")
    assert_accessible(page, "new job with estimate")
    window.watch.assert_clean()
