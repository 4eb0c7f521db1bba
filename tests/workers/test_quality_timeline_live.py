"""Quality figures on a user's own photos through the real stack: the light
worker measures the first checkpoint of a job on an uploaded photo set and the
timeline gets figures, each with its n and feature space, not a hint for the
command line."""

from __future__ import annotations

import io
import random

import pytest
import requests
from PIL import Image, ImageDraw

from ganweb.jobs.models import Checkpoint, Job
from ganweb.jobs.selectors import job_snapshot
from tests.conftest import api_token
from tests.deadlines import scaled, wait_until
from tests.ganweb.datasets.dataset_builders import make_zip
from tests.workers.test_dataset_live import upload

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def photo(index: int, size: int = 24) -> bytes:
    """A small 'photo': a sky-to-ground gradient with an upright figure on it
    (an orientation the rotation net can learn)."""
    rng = random.Random(index)
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    for y in range(size):
        shade = int(255 * y / size)
        draw.line([(0, y), (size, y)], fill=(255 - shade, 180, shade))
    x = rng.randint(3, size - 9)
    draw.ellipse([x, 3, x + 6, 9], fill=(rng.randint(0, 255), 40, 40))
    draw.rectangle([x + 1, 9, x + 5, size - 3], fill=(30, 30, rng.randint(0, 255)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_job_on_uploaded_photos_gets_figures_at_its_first_checkpoint(
    live_stack, alice, tmp_path
):
    token = api_token(live_stack.url, alice)
    headers = {"Authorization": f"Bearer {token}"}
    members = {f"photos/img{i:03d}.png": photo(i) for i in range(40)}
    dataset_id = upload(live_stack, headers, make_zip(tmp_path / "me.zip", members))
    wait_until(
        lambda: (
            requests.get(
                f"{live_stack.url}/api/datasets/{dataset_id}/",
                headers=headers,
                timeout=scaled(10),
            ).json()["state"]
            == "ready"
        ),
        seconds=60,
        message="the upload was never processed",
    )
    config = {
        "image_size": 8,  # the smallest: the feature net trains in seconds
        "g_channels": 8,
        "d_channels": 8,
        "steps": 2,
        "batch_size": 8,
        "sample_every": 2,
        "checkpoint_every": 2,
    }
    response = requests.post(
        f"{live_stack.url}/api/jobs/",
        json={"dataset": str(dataset_id), "model": "dcgan", "config": config},
        headers=headers,
        timeout=scaled(30),
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    first = wait_until(
        lambda: (
            Checkpoint.objects.filter(job_id=job_id, step=2).exclude(figures={}).first()
        ),
        seconds=120,
        message="the first checkpoint was never measured",
    )
    figures = first.figures
    assert "note" not in figures and "--" not in str(figures), figures
    by_metric = {f["metric"]: f for f in figures["figures"]}
    assert set(by_metric) == {"precision", "recall"}, figures
    for figure in by_metric.values():
        assert 0 <= figure["value"] <= 1
        assert figure["n"] == 40  # the real set's size caps n for both sets
        assert figure["space"] == "dataset-rotation"
        assert "rotation prediction" in figure["space_label"]
        assert 0 <= figure["space_accuracy"] <= 1 and figure["space_chance"] == 0.25
    # What the job page is given for its timeline.
    timeline = job_snapshot(Job.objects.get(pk=job_id))["checkpoints"]
    assert timeline[0]["step"] == 2 and timeline[0]["figures"] == figures
