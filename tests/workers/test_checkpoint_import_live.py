"""Importing a checkpoint through the real stack: a worker checks the file,
the model is the importer's, and a crafted pickle runs nothing."""

from __future__ import annotations

import pytest
import requests

from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Job
from tests.conftest import api_token
from tests.deadlines import scaled
from tests.ganweb.playground.tiny_models import tiny_checkpoint
from tests.security.test_checkpoint_pickles import crafted_files

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def upload(live_stack, token: str, name: str, content: bytes):
    return requests.post(
        f"{live_stack.url}/api/jobs/import",
        files={"file": (name, content)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(60),
    )


def test_imported_checkpoint_is_a_model_and_a_crafted_one_runs_nothing(
    live_stack, alice, bob, tmp_path
):
    token = api_token(live_stack.url, alice)
    response = upload(
        live_stack, token, "mine.pt", tiny_checkpoint("cgan").read_bytes()
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["imported"] and body["model"] == "cgan" and body["state"] == "finished"
    job = Job.objects.get(pk=body["id"])
    assert job.owner == alice and job.imported["data"]["image_size"] == 16
    assert (job_media_dir(job.pk) / "checkpoints/latest.pt").is_file()
    bob_token = api_token(live_stack.url, bob)
    get = requests.get(
        f"{live_stack.url}/api/jobs/{job.pk}/",
        headers={"Authorization": f"Bearer {bob_token}"},
        timeout=scaled(30),
    )
    assert get.status_code == 404

    marker = tmp_path / "pwned"  # the worker would create it if a file ran
    # The raw pickle and other refusals are gan_core's tests; through the
    # stack, the torch zip and the one nested deep (format marker and all).
    zipped, _raw, nested = crafted_files(tmp_path, marker)
    for path in (zipped, nested):
        response = upload(live_stack, token, path.name, path.read_bytes())
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert "not a gan_core checkpoint" in error and path.name in error
        assert "\n" not in error and str(tmp_path) not in error
        assert not marker.exists(), f"{path.name} ran its command"
    assert Job.objects.filter(owner=alice).count() == 1
