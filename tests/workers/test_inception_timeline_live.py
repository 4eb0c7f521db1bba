"""Inception FID and KID on the timeline through the real stack, once the
operator has set GAN_INCEPTION_WEIGHTS and GAN_INCEPTION_SHA256: the light
worker measures the first checkpoint in the FID Inception's pool3 space and
says n with each figure; a file that fails its checksum gives no Inception
figure and a plain-words note, once, on the job page.

The weights are a seeded random initialisation of our module with its digest
computed here (no published file can be fetched in tests); KID's subset size
is set small (GAN_KID_SUBSET_SIZE) for an 8-image set.
"""

from __future__ import annotations

import hashlib

import pytest
import requests
import torch

from ganweb.jobs.models import Checkpoint, Job
from ganweb.jobs.selectors import job_snapshot
from tests.conftest import api_token
from tests.deadlines import scaled, wait_until
from tests.ganweb.datasets.dataset_builders import make_zip
from tests.workers.test_dataset_live import upload
from tests.workers.test_quality_timeline_live import photo

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PHOTOS = 8  # n: Inception at 299 px takes about a second an image here
REFUSED = "Standard Inception FID and KID are not measured for this job"


@pytest.fixture(scope="module")
def inception_worker(live_stack, tmp_path_factory):
    """The light worker restarted with Inception configured; restarted as
    it was afterwards (the stack is the session's)."""
    from gan_core.evaluation.inception import FIDInceptionV3

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("inception") / "inception.pth"
    torch.save(FIDInceptionV3().state_dict(), path)
    settings = {
        "GAN_INCEPTION_WEIGHTS": str(path),
        "GAN_INCEPTION_SHA256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "GAN_KID_SUBSET_SIZE": "4",
    }
    live_stack.env.update(settings)
    try:
        live_stack.restart_worker("light")
        yield path
    finally:
        for key in settings:
            live_stack.env.pop(key, None)
        live_stack.restart_worker("light")


def start_job(live_stack, headers, dataset_id) -> int:
    config = {
        "image_size": 8,
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
    return response.json()["id"]


def first_figures(job_id: int) -> dict:
    return wait_until(
        lambda: (
            Checkpoint.objects.filter(job_id=job_id, step=2).exclude(figures={}).first()
        ),
        seconds=240,
        message="the first checkpoint was never measured",
    ).figures


def test_timeline_shows_inception_fid_with_its_n_and_a_bad_file_says_so_once(
    live_stack, inception_worker, alice, tmp_path, client, settings
):
    token = api_token(live_stack.url, alice)
    headers = {"Authorization": f"Bearer {token}"}
    members = {f"photos/img{i:03d}.png": photo(i) for i in range(PHOTOS)}
    dataset_id = upload(live_stack, headers, make_zip(tmp_path / "few.zip", members))
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
    # The page is rendered here, with the operator's setting as the workers have it.
    settings.GAN_INCEPTION_WEIGHTS = str(inception_worker)
    client.force_login(alice)

    good = start_job(live_stack, headers, dataset_id)
    figures = first_figures(good)
    by_metric = {f["metric"]: f for f in figures.get("figures", [])}
    fid = by_metric.get("inception_fid")
    assert fid is not None, figures
    assert fid["n"] == PHOTOS and fid["column"] == f"Inception FID (pool3, n={PHOTOS})"
    assert fid["space"] == "inception-v3-pool3" and fid["value"] >= 0
    kid = by_metric["inception_kid"]
    assert kid["n"] == PHOTOS and kid["subset_size"] == 4
    assert "inception_note" not in figures
    timeline = job_snapshot(Job.objects.get(pk=good))["checkpoints"]
    assert timeline[0]["step"] == 2 and timeline[0]["figures"] == figures
    assert 'id="inception-note" hidden' in client.get(f"/jobs/{good}/").content.decode()

    # The operator's file is replaced by another: its checksum no longer matches.
    inception_worker.write_bytes(b"some other file")
    bad = start_job(live_stack, headers, dataset_id)
    refused = first_figures(bad)
    metrics = {f["metric"] for f in refused.get("figures", [])}
    assert not metrics & {"inception_fid", "inception_kid"}, refused
    assert "is not the standard one" in refused["inception_note"]
    assert not any("Inception" in note for note in refused.get("notes", []))
    page = client.get(f"/jobs/{bad}/").content.decode()
    assert page.count(REFUSED) == 1, page
    assert "is not the standard one: its SHA-256 checksum" in page

    # Compare: the Inception column is its own series, named with its n.
    both = client.get(f"/jobs/compare/?ids={good},{bad}").content.decode()
    assert f"Inception FID (pool3, n={PHOTOS})" in both
