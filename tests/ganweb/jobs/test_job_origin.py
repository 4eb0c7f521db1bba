"""Starting a job from a trained model: one's own, or one a gallery link shares."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ganweb.gallery.models import Gallery, GalleryItem, ShareLink
from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Job, JobState
from ganweb.jobs.origins import origin_checkpoint_path

pytestmark = pytest.mark.django_db

SMALL = {"image_size": 16, "steps": 10, "batch_size": 8}


def finished_model(owner, family="dcgan", data_ref="builtin:digits", **config):
    job = Job.objects.create(
        owner=owner,
        name=f"{family} model",
        data_ref=data_ref,
        family=family,
        config={**SMALL, **config},
        state=JobState.FINISHED,
    )
    folder = job_media_dir(job.pk) / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.pt").write_bytes(b"weights of job %d" % job.pk)
    return job


def create(client, init_from, model="dcgan", dataset="builtin:mnist", **config):
    body = {
        "dataset": dataset,
        "model": model,
        "config": {**SMALL, **config},
        "init_from": init_from,
    }
    return client.post("/api/jobs/", body, content_type="application/json")


def test_job_from_own_model_records_its_origin_and_keeps_its_checkpoint(
    client, alice, media_root
):
    origin = finished_model(alice)
    client.force_login(alice)
    response = create(client, {"job": origin.pk})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["init_from"]["job"] == origin.pk
    assert body["init_from"]["url"] == f"/jobs/{origin.pk}/"
    job = Job.objects.get(pk=body["id"])
    assert job.init_from == origin and job.init_from_step is None
    kept = origin_checkpoint_path(job.pk)
    assert kept.read_bytes() == b"weights of job %d" % origin.pk
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'href="/jobs/{origin.pk}/"' in page and 'id="timeline-origin"' in page
    client.delete(f"/api/jobs/{job.pk}/")  # queued: refused, the file stays
    job.state = JobState.CANCELLED
    job.save()
    assert client.delete(f"/api/jobs/{job.pk}/").status_code == 204
    assert not kept.exists()


@pytest.mark.parametrize(
    ("origin_kwargs", "request_kwargs", "says"),
    [
        ({}, {"model": "wgan"}, "is a dcgan model; a wgan job can only start"),
        ({}, {"image_size": 32}, "trained at 16 px, this job has 32 px"),
        (
            {"data_ref": "builtin:shapes"},
            {},
            "trained on 3-channel images, this data has 1",
        ),
    ],
)
def test_incompatible_origin_is_400_with_one_line(
    client, alice, media_root, origin_kwargs, request_kwargs, says
):
    origin = finished_model(alice, **origin_kwargs)
    client.force_login(alice)
    response = create(client, {"job": origin.pk}, **request_kwargs)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "init_from" and says in body["error"]
    assert "\n" not in body["error"]
    assert Job.objects.count() == 1


def _share(owner, job, revoked=False) -> str:
    gallery = Gallery.objects.create(owner=owner, title="shared")
    GalleryItem.objects.create(
        gallery=gallery, title="a digit", kind="image", job=job, file="x.png"
    )
    token = f"token-{gallery.pk}-{'r' if revoked else 'l'}"
    ShareLink.objects.create(
        gallery=gallery, token=token, revoked_at=timezone.now() if revoked else None
    )
    return token


def test_bob_cannot_start_from_alices_model_unless_her_shared_gallery_has_it(
    client, alice, bob, media_root
):
    model = finished_model(alice)
    other = finished_model(alice)
    live, revoked = _share(alice, model), _share(alice, model, revoked=True)
    client.force_login(bob)
    refused = "of yours or in a gallery shared with you"
    for init_from in (
        {"job": model.pk},
        {"job": model.pk, "share": revoked},
        {"job": other.pk, "share": live},  # the link shows only `model`
        {"job": model.pk, "share": "no-such-token"},
    ):
        response = create(client, init_from)
        assert response.status_code == 400, init_from
        assert refused in response.json()["error"]
    assert client.get(f"/jobs/train-further/?init_from={model.pk}").status_code == 404
    response = create(client, {"job": model.pk, "share": live})
    assert response.status_code == 201, response.json()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.owner == bob and job.init_from == model
    # The share granted a start, nothing more: the link goes to the gallery,
    # alice's job and its files stay hers.
    assert response.json()["init_from"]["url"] == f"/s/{live}/"
    assert client.get(f"/jobs/{model.pk}/").status_code == 404
    assert client.get(f"/api/jobs/{model.pk}/").status_code == 404
    assert (
        client.get(f"/jobs/{model.pk}/files/checkpoints/latest.pt").status_code == 404
    )
    further = client.get(f"/jobs/train-further/?init_from={model.pk}&share={live}")
    assert further.status_code == 200
    assert f"init_from={model.pk}" in further.content.decode()


def test_train_further_form_starts_from_the_models_settings(client, alice, media_root):
    origin = finished_model(alice, g_channels=16)
    client.force_login(alice)
    page = client.get(
        f"/jobs/new/?dataset=builtin:mnist&model=wgan&init_from={origin.pk}"
    )
    text = page.content.decode()
    assert page.status_code == 200 and 'id="job-origin"' in text
    assert f'name="init_from" value="{origin.pk}"' in text
    assert 'name="g_channels"' in text and 'value="16"' in text
    assert 'name="model" value="dcgan"' in text  # the origin fixes the family
