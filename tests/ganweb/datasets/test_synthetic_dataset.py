"""Make a dataset from a model: the request's checks, and the processing that
draws the images and ingests them like an uploaded archive."""

from __future__ import annotations

import shutil

import pytest

from ganweb.datasets.models import Dataset, DatasetState
from ganweb.datasets.services import dataset_dir, dataset_process
from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Job
from tests.ganweb.playground.tiny_models import register_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def models(media, alice, settings):
    settings.GAN_SYNTHETIC_MAX_IMAGES = 100
    made = {family: register_model(alice, family) for family in ("cgan", "dcgan")}
    yield made
    for job in made.values():
        shutil.rmtree(job_media_dir(job.pk), ignore_errors=True)


def post(client, job, body):
    return client.post(
        f"/api/models/{job.pk}/dataset", body, content_type="application/json"
    )


@pytest.mark.parametrize(
    "family,body,message",
    [
        ("cgan", {"n": 11, "per_class": True}, "110 images asked, at most 100"),
        ("dcgan", {"n": 101}, "at most 100"),
        ("dcgan", {"n": 10, "per_class": True}, "needs a conditional model"),
        ("dcgan", {"n": 0}, "n:"),
        ("cgan", {"n": 5, "truncation": 1.5}, "truncation:"),
        ("cgan", {"n": 2}, "at least 4 images"),
    ],
)
def test_bad_settings_answer_400_with_the_reason(
    client, alice, models, family, body, message
):
    client.force_login(alice)
    response = post(client, models[family], body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Dataset.objects.exists()


def test_rejection_is_refused_for_a_family_without_a_logistic_d(client, alice, models):
    job = models["dcgan"]
    Job.objects.filter(pk=job.pk).update(family="wgan-gp")
    client.force_login(alice)
    response = post(client, job, {"n": 10, "rejection": 80})
    assert response.status_code == 400
    assert "rejection" in response.json()["error"]


@pytest.mark.parametrize("translator", ["cyclegan", "pix2pix"])
def test_a_translator_is_refused_it_draws_no_images(client, alice, models, translator):
    job = models["dcgan"]
    Job.objects.filter(pk=job.pk).update(family=translator)
    client.force_login(alice)
    response = post(client, job, {"n": 10})
    assert response.status_code == 400
    assert f"{translator} translates images" in response.json()["error"]
    assert not Dataset.objects.exists()


def test_only_the_owner_can_make_a_dataset_from_a_model(client, bob, models):
    client.force_login(bob)
    assert post(client, models["cgan"], {"n": 5}).status_code == 404
    client.logout()
    assert post(client, models["cgan"], {"n": 5}).status_code in (401, 403)
    assert not Dataset.objects.exists()


def test_route_is_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    operation = paths["/api/models/{job_id}/dataset"]["post"]
    assert "202" in operation["responses"] and "400" in operation["responses"]


def test_a_made_dataset_is_processed_like_an_upload_and_says_its_origin(
    client, alice, models
):
    client.force_login(alice)
    response = post(client, models["cgan"], {"n": 4, "per_class": True, "seed": 3})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "pending" and body["url"] == f"/datasets/{body['id']}/"
    assert body["synthetic"]["job_id"] == models["cgan"].pk
    # The worker's task body, run here: draw, zip, ingest.
    assert dataset_process(dataset_id=body["id"]) == "ready"
    dataset = Dataset.objects.get(pk=body["id"])
    assert dataset.state == DatasetState.READY and dataset.kind == "classes"
    assert dataset.classes == {str(d): 4 for d in range(10)}
    assert dataset.image_count == 40 and len(dataset.fingerprint) > 8
    folder = dataset_dir(dataset.pk)
    assert (folder / "preview.png").is_file() and list((folder / "thumbs").iterdir())
    assert len(list((folder / "data" / "0003").glob("*"))) == 4
    assert not (folder / "upload").exists()  # the zip and checkpoint link go
    origin = dataset.synthetic_origin
    assert origin["step"] == 2 and origin["images"] == 40 and origin["seed"] == 3
    page = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "Synthetic" in page and f"/playground/{models['cgan'].pk}/" in page
    assert 'at step <span id="dataset-origin-step">2</span>' in page
