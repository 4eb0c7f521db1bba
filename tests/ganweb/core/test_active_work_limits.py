"""Per-user limits on queued and running work: the (N+1)-th job or upload of one
user answers 429 with a message, on the API and the pages, and another user is
not affected. (Projections: tests/workers/test_playground_live.py.)"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ganweb.datasets.models import Dataset
from ganweb.jobs.models import Job, JobState
from tests.ganweb.datasets.dataset_builders import flat_members, make_zip

pytestmark = pytest.mark.django_db

TINY = {"steps": 20, "batch_size": 16, "seed": 1}


def submit(client):
    return client.post(
        "/api/jobs/",
        {"dataset": "builtin:ring8", "model": "gan", "config": TINY},
        content_type="application/json",
    )


def test_a_users_job_past_the_limit_is_429_and_another_user_is_not_affected(
    client, alice, bob, settings
):
    settings.GAN_USER_MAX_ACTIVE_JOBS = 2
    client.force_login(alice)
    assert [submit(client).status_code for _ in range(2)] == [201, 201]
    refused = submit(client)
    assert refused.status_code == 429
    assert (
        "training jobs queued or running: one user may have 2"
        in (refused.json()["error"])
    )
    assert Job.objects.filter(owner=alice).count() == 2
    client.force_login(bob)
    assert submit(client).status_code == 201


def test_finished_and_cancelled_jobs_do_not_count(client, alice, settings):
    settings.GAN_USER_MAX_ACTIVE_JOBS = 1
    client.force_login(alice)
    first = submit(client).json()["id"]
    assert submit(client).status_code == 429
    Job.objects.filter(pk=first).update(state=JobState.FINISHED)
    second = submit(client)
    assert second.status_code == 201
    cancel = client.post(f"/api/jobs/{second.json()['id']}/cancel")
    assert cancel.json()["state"] == "cancelled"
    assert submit(client).status_code == 201


def test_resuming_past_the_limit_is_429_and_leaves_the_job_as_it_was(
    client, alice, settings
):
    settings.GAN_USER_MAX_ACTIVE_JOBS = 1
    client.force_login(alice)
    stopped = submit(client).json()["id"]
    client.post(f"/api/jobs/{stopped}/cancel")
    submit(client)  # the one active job allowed
    refused = client.post(f"/api/jobs/{stopped}/resume")
    assert refused.status_code == 429, refused.content
    assert "try again" in refused.json()["error"]
    assert Job.objects.get(pk=stopped).state == JobState.CANCELLED


def test_the_job_pages_answer_429_with_the_message_too(client, alice, settings):
    settings.GAN_USER_MAX_ACTIVE_JOBS = 1
    client.force_login(alice)
    page = "/jobs/new/?dataset=builtin:ring8&model=gan"
    assert client.post(page, {"steps": 20}).status_code == 302
    refused = client.post(page, {"steps": 20})
    assert refused.status_code == 429
    assert b"one user may have 1 at a time" in refused.content
    rerun = client.post(f"/jobs/{Job.objects.get().pk}/rerun")
    assert rerun.status_code == 429
    assert Job.objects.count() == 1


@pytest.fixture
def small_zip(tmp_path):
    return make_zip(tmp_path / "set.zip", flat_members(4))


def upload(client, archive):
    return client.post(
        "/api/datasets/",
        {
            "name": "mine",
            "file": SimpleUploadedFile(archive.name, archive.read_bytes()),
        },
    )


def test_an_upload_past_the_limit_of_datasets_in_processing_is_429(
    client, alice, bob, settings, media, small_zip
):
    settings.GAN_USER_MAX_ACTIVE_DATASETS = 1
    client.force_login(alice)
    assert upload(client, small_zip).status_code == 201  # pending: not processed
    refused = upload(client, small_zip)
    assert refused.status_code == 429
    assert (
        "datasets waiting for or in processing: one user may have 1"
        in (refused.json()["error"])
    )
    assert Dataset.objects.filter(owner=alice).count() == 1
    client.force_login(bob)
    assert upload(client, small_zip).status_code == 201
    # Once processed, it no longer counts.
    client.force_login(alice)
    Dataset.objects.filter(owner=alice).update(state="ready")
    assert upload(client, small_zip).status_code == 201
