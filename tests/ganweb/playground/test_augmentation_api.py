"""The augmentation value of a model: queued by the API, measured by the
light worker's task body (run here), read back by GET."""

from __future__ import annotations

import pytest

from ganweb.playground.augmentation import augmentation_run
from tests.ganweb.playground.tiny_models import register_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def models(settings, tmp_path, alice):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.GAN_AUGMENTATION_STEPS = 3  # the recipe's steps: the flow, not a score
    return {family: register_model(alice, family) for family in ("cgan", "dcgan")}


def url(job) -> str:
    return f"/api/models/{job.pk}/augmentation"


def test_a_model_without_labels_gets_a_400(client, alice, models):
    client.force_login(alice)
    response = client.post(url(models["dcgan"]), {}, content_type="application/json")
    assert response.status_code == 400
    assert "not conditional" in response.json()["error"]


def test_queued_measurement_is_done_by_the_task_and_read_back(
    client, alice, bob, models
):
    job = models["cgan"]
    client.force_login(bob)
    assert client.post(url(job), {}, content_type="application/json").status_code == 404
    assert client.get(url(job)).status_code == 404
    client.force_login(alice)
    nothing_yet = client.get(url(job))
    assert nothing_yet.status_code == 200 and nothing_yet.json() == {"state": "none"}
    response = client.post(url(job), {}, content_type="application/json")
    assert response.status_code == 202 and response.json()["state"] == "queued"
    again = client.post(url(job), {}, content_type="application/json")
    assert again.status_code == 409
    assert augmentation_run(job_id=job.pk, step=None) == "done"
    record = client.get(url(job)).json()
    assert record["state"] == "done" and record["step"] == 2
    arms = record["report"]["arms"]
    assert set(arms) == {"real", "synthetic", "real+synthetic"}
    assert all(0.0 <= arm["mean"] <= 1.0 for arm in arms.values())
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/models/{job_id}/augmentation"])
