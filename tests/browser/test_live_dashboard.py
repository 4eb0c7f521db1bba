"""The live job dashboard in a real browser: who may see it, and reconnection."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    api_token,
    assert_accessible,
    dashboard_counts,
    sign_in,
    submit_job,
    wait_for_job,
    wait_until,
)
from tests.deadlines import scaled, scaled_ms

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

# An MLP GAN on the 8-Gaussian ring: fast on a CPU, and long enough to watch.
RING_LONG = {
    "steps": 100_000,
    "batch_size": 64,
    "hidden": 64,
    "z_dim": 16,
    "sample_every": 40,
    "checkpoint_every": 100_000,
}
RING_TINY = {**RING_LONG, "steps": 40, "sample_every": 20, "checkpoint_every": 40}


def test_other_user_cannot_open_job_page(open_window, live_stack, alice, bob, shots):
    job_id = submit_job(
        live_stack.url,
        api_token(live_stack.url, alice),
        "builtin:ring8",
        "gan",
        RING_TINY,
    )
    window = open_window()
    sign_in(window, bob)
    window.watch.expect_status(rf"/jobs/{job_id}/$", 404)
    page = window.new_page()
    response = page.goto(f"/jobs/{job_id}/")
    assert response.status == 404
    assert "alice" not in page.content()
    assert page.locator("#job-snapshot").count() == 0
    shots(page, "bob-gets-404")
    # Bob's own pages still work, and nothing else went wrong.
    page.goto("/jobs/")
    expect(page.get_by_role("heading", name="Training jobs")).to_be_visible()
    window.watch.assert_clean()
    wait_for_job(job_id)  # leave the training worker idle for the next test


def test_live_dashboard_keeps_updating_after_socket_drop(
    window, page, live_stack, alice, shots
):
    sign_in(window, alice)
    job_id = submit_job(
        live_stack.url,
        api_token(live_stack.url, alice),
        "builtin:ring8",
        "gan",
        RING_LONG,
    )
    page.goto(f"/jobs/{job_id}/")
    page.evaluate("() => { window.__sameDocument = true; }")
    first = wait_until(
        lambda: (
            (c := dashboard_counts(page))["points"] > 0 and c["connects"] == 1 and c
        ),
        timeout=scaled(60),
        what="the first loss points over the socket",
    )
    expect(page.locator("#socket-state")).to_have_text("live")
    expect(page.locator("#points-canvas")).to_be_visible(timeout=scaled_ms(30))
    shots(page, "live-before-drop")

    page.evaluate("() => window.ganDashboard.dropSocket()")
    reconnected = wait_until(
        lambda: (c := dashboard_counts(page))["connects"] == 2 and c,
        timeout=scaled(20),
        what="the dashboard to reconnect",
    )
    assert reconnected["points"] >= first["points"]
    later = wait_until(
        lambda: (
            (c := dashboard_counts(page))["points"] > reconnected["points"]
            and c["progress"] > reconnected["progress"]
            and c
        ),
        timeout=scaled(30),
        what="new points after the reconnect",
    )
    expect(page.locator("#socket-state")).to_have_text("live")
    assert later["connects"] == 2
    assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    shots(page, "live-after-reconnect")
    assert_accessible(page, "job")

    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#job-state")).to_have_text(
        re.compile("cancelled"), timeout=scaled_ms(30)
    )
    wait_for_job(job_id, states=("cancelled",), timeout=30)
    window.watch.assert_clean()


def test_checkpoint_timeline_fills_in_live_and_promote_feeds_the_playground(
    window, page, shots, live_stack, alice
):
    """The timeline grows while the job runs, each checkpoint with its grid and
    its mode coverage; promoting an earlier one makes the playground use it."""

    sign_in(window, alice)
    config = {**RING_TINY, "steps": 60, "checkpoint_every": 20, "sample_every": 50}
    job_id = submit_job(
        live_stack.url, api_token(live_stack.url, alice), "builtin:ring8", "gan", config
    )
    page.goto(f"/jobs/{job_id}/")
    timeline = page.get_by_role("list", name="checkpoints")
    entries = timeline.get_by_role("listitem")
    expect(entries).to_have_count(3, timeout=scaled_ms(90))
    wait_for_job(job_id)
    # Figures arrive over the socket as the light worker measures each one.
    for entry in entries.all():
        expect(entry.locator(".timeline-figures")).to_contain_text(
            "of 8 modes", timeout=scaled_ms(60)
        )
        expect(entry.get_by_role("img")).to_be_visible()
    expect(entries.nth(2)).to_contain_text("used by the playground")
    shots(page, "timeline")
    assert_accessible(page, "job with timeline")

    page.get_by_role("button", name="Promote the checkpoint at step 20").click()
    expect(page.get_by_text("now uses the checkpoint at step 20")).to_be_visible()
    expect(entries.nth(0)).to_contain_text("used by the playground")
    expect(
        entries.nth(2).get_by_role("button", name=re.compile("Promote"))
    ).to_be_visible()
    shots(page, "timeline-promoted")

    page.goto(f"/playground/{job_id}/")
    expect(page.get_by_text("checkpoint at step 20")).to_be_visible()
    expect(page.get_by_label("Checkpoint")).to_contain_text("promoted (step 20)")
    window.watch.assert_clean()


def test_figures_that_overtake_their_checkpoint_event_are_kept(window, page, alice):
    """The light worker's figures can reach the page before the training
    worker's checkpoint event: the entry shows them once it is listed."""
    sign_in(window, alice)
    page.goto("/jobs/new/")  # any signed-in page; the script is static
    page.add_script_tag(url="/static/js/timeline.js")
    texts = page.evaluate(
        """() => {
          const list = document.createElement("ol");
          document.body.append(list);
          const timeline = new window.GanTimeline(list, null);
          timeline.figures(20, {modes: 7, of: 8, high_quality: 0.5});
          timeline.add(20);
          timeline.add(40);
          return Array.from(list.querySelectorAll(".timeline-figures"))
            .map((span) => span.textContent);
        }"""
    )
    assert texts == ["7 of 8 modes, 50.0% high quality", "measuring…"]


def test_a_rewind_drops_the_charted_points_past_its_step(window, page, alice):
    """What a resume after a lost worker sends: the chart forgets the lost steps."""
    from gan_core.events import RewindEvent
    from ganweb.core.realtime import job_group
    from ganweb.jobs.models import Job, MetricPoint
    from ganweb.jobs.progress import event_publisher

    job = Job.objects.create(
        owner=alice,
        data_ref="builtin:ring8",
        family="gan",
        config={"steps": 200},
        total_steps=200,
        state="interrupted",
        step=107,
    )
    MetricPoint.objects.bulk_create(
        MetricPoint(job=job, step=step, values={"loss_d": 1.0, "loss_g": 2.0})
        for step in range(1, 108)
    )
    sign_in(window, alice)
    page.goto(f"/jobs/{job.pk}/")
    wait_until(
        lambda: dashboard_counts(page)["connects"] == 1,
        timeout=30,
        what="the dashboard's socket",
    )
    assert dashboard_counts(page)["points"] == 2 * 107
    # Published as the worker does, from a thread of its own (this thread
    # runs Playwright's event loop).
    event_publisher().publish(job_group(job.pk), RewindEvent(step=100).to_dict())
    event_publisher().flush()
    wait_until(
        lambda: dashboard_counts(page)["points"] == 2 * 100,
        timeout=30,
        what="the chart dropping steps 101-107",
    )
    last = page.evaluate(
        "() => Math.max(...window.ganDashboard.lossChart.series.get('d').keys())"
    )
    assert last == 100
    window.watch.assert_clean()
