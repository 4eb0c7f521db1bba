"""Datasets end to end: HTTP upload to the live daphne with a token, the real
light worker processes it, and the state arrives live over the socket."""

from __future__ import annotations

import signal
import time

import pytest
import requests

from tests.conftest import api_token
from tests.deadlines import Deadline, scaled
from tests.ganweb.datasets.dataset_builders import class_members, image_bytes, make_zip
from tests.wsclient import open_socket, receive_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def upload(live_stack, headers: dict, archive) -> int:
    """POST a zip as a dataset named after it; its id, once answered 201."""
    with open(archive, "rb") as fh:
        response = requests.post(
            f"{live_stack.url}/api/datasets/",
            data={"name": archive.stem},
            files={"file": (archive.name, fh, "application/zip")},
            headers=headers,
            timeout=scaled(30),
        )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_uploaded_archive_is_processed_by_the_light_worker(
    live_stack, alice, media_root, tmp_path
):
    token = api_token(live_stack.url, alice)
    headers = {"Authorization": f"Bearer {token}"}
    archive = make_zip(tmp_path / "pets.zip", class_members({"cats": 5, "dogs": 4}))
    dataset_id = upload(live_stack, headers, archive)
    states = []
    with open_socket(
        f"{live_stack.ws_url}/ws/datasets/{dataset_id}/", token=token
    ) as socket:
        deadline = Deadline(90)
        while not deadline.passed:
            event = receive_json(socket, timeout=deadline.left())
            states.append(event["state"])
            if event["state"] in ("ready", "failed"):
                break
    assert states[-1] == "ready", states
    body = requests.get(
        f"{live_stack.url}/api/datasets/{dataset_id}/",
        headers=headers,
        timeout=scaled(10),
    ).json()
    assert body["kind"] == "classes" and body["image_count"] == 9
    assert body["classes"] == {"cats": 5, "dogs": 4}
    data = media_root / "datasets" / str(dataset_id) / "data"
    assert sorted(p.name for p in data.iterdir()) == ["0000", "0001"]
    assert not (media_root / "datasets" / str(dataset_id) / "upload").exists()


def test_a_dataset_whose_worker_dies_mid_processing_is_processed_again(
    live_stack, alice, media_root, tmp_path
):
    """Kill the light worker (and its threads) while it unpacks an upload:
    the sweep notices the quiet row and a new worker stores it in full."""
    from ganweb.datasets.models import Dataset

    headers = {"Authorization": f"Bearer {api_token(live_stack.url, alice)}"}
    # Large flat images: a small archive that takes seconds to unpack.
    count = 1200
    members = {
        f"big/{i:04d}.png": image_bytes(i, size=(512, 512)) for i in range(count)
    }
    archive = make_zip(tmp_path / "big.zip", members)
    dataset_id = upload(live_stack, headers, archive)

    def current():
        return Dataset.objects.get(pk=dataset_id)

    deadline = Deadline(60)
    while not (current().state == "processing" and current().progress > 0):
        assert current().state in ("pending", "processing"), current().state
        assert not deadline.passed, "processing never started"
        time.sleep(0.05)
    live_stack.workers["light"].stop(sig=signal.SIGKILL)
    killed_at = current().progress
    assert current().state == "processing" and 0 < killed_at < 100
    time.sleep(1)
    assert current().progress == killed_at  # nobody works on it now

    live_stack.restart_worker("light")
    deadline = Deadline(120)
    while current().state not in ("ready", "failed"):
        assert not deadline.passed, f"still {current().state}"
        time.sleep(0.2)
    dataset = current()
    assert dataset.state == "ready", dataset.error
    assert dataset.image_count == count and dataset.skipped_count == 0
    folder = media_root / "datasets" / str(dataset_id)
    assert not (folder / "upload").exists()
    stored = [p for p in (folder / "data").rglob("*") if p.is_file()]
    assert len(stored) == count
