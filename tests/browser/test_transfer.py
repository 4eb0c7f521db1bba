"""From a finished model, "Train further on another dataset": the new job
starts from its weights and its page says where it started from."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Job
from tests.browser.helpers import sign_in, wait_for_job, wait_until
from tests.ganweb.playground.tiny_models import register_model

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_train_further_on_another_dataset_shows_the_origin(
    window, page, watch, shots, alice, live_stack
):
    origin = register_model(alice, "cgan")  # finished, trained on builtin:digits
    sign_in(window, alice)
    page.goto(f"/jobs/{origin.pk}/")
    page.get_by_role("link", name="Train further on another dataset").click()
    expect(page.locator("#origin-label")).to_contain_text(f"model {origin.pk}")
    page.get_by_role("link", name=re.compile("MNIST")).click()
    expect(page.locator("#job-origin")).to_contain_text("Starting from")
    shots(page, "train-further-form")
    page.locator('input[name="steps"]').fill("1")  # one step shows the start
    page.get_by_role("button", name="Start training").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    new_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert new_id != origin.pk
    link = page.locator("#job-origin a")
    expect(link).to_contain_text(f"model {origin.pk}")
    expect(link).to_have_attribute("href", f"/jobs/{origin.pk}/")
    expect(page.locator("#timeline-origin a")).to_have_attribute(
        "href", f"/jobs/{origin.pk}/"
    )
    shots(page, "job-with-origin")
    job = Job.objects.get(pk=new_id)
    assert job.data_ref == "builtin:mnist" and job.init_from_id == origin.pk
    # The worker started it from the origin's weights (its first event says
    # so); the rest of the run is any run's, tested elsewhere.
    metrics = job_media_dir(new_id) / "metrics.jsonl"
    first = wait_until(
        lambda: metrics.is_file() and metrics.read_text().splitlines()[:1],
        timeout=120,
        what="the new job's started event",
    )
    started = json.loads(first[0])
    assert started["type"] == "started" and started["start_step"] == 0
    assert started["init"]["loaded"] > 0 and not started["init"]["reinitialised"]
    link.click()
    expect(page).to_have_url(f"{live_stack.url}/jobs/{origin.pk}/")
    watch.assert_clean()
    wait_for_job(new_id)  # nothing of this test outlives it on the worker
