"""Datasets end to end: HTTP upload to the live daphne with a token, the real
light worker processes it, and the state arrives live over the socket."""

from __future__ import annotations

import time

import pytest
import requests

from tests.ganweb.datasets.dataset_builders import class_members, make_zip
from tests.wsclient import open_socket, receive_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def token_for(live_stack, user) -> str:
    response = requests.post(
        f"{live_stack.url}/api/auth/token",
        json={"username": user.username, "password": "correct-horse-battery"},
        timeout=10,
    )
    return response.json()["token"]


def test_uploaded_archive_is_processed_by_the_light_worker(
    live_stack, alice, media_root, tmp_path
):
    token = token_for(live_stack, alice)
    headers = {"Authorization": f"Bearer {token}"}
    archive = make_zip(tmp_path / "pets.zip", class_members({"cats": 5, "dogs": 4}))
    with open(archive, "rb") as fh:
        response = requests.post(
            f"{live_stack.url}/api/datasets/",
            data={"name": "pets"},
            files={"file": ("pets.zip", fh, "application/zip")},
            headers=headers,
            timeout=30,
        )
    assert response.status_code == 201, response.text
    dataset_id = response.json()["id"]
    states = []
    with open_socket(
        f"{live_stack.ws_url}/ws/datasets/{dataset_id}/", token=token
    ) as socket:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            event = receive_json(socket, timeout=deadline - time.monotonic())
            states.append(event["state"])
            if event["state"] in ("ready", "failed"):
                break
    assert states[-1] == "ready", states
    body = requests.get(
        f"{live_stack.url}/api/datasets/{dataset_id}/", headers=headers, timeout=10
    ).json()
    assert body["kind"] == "classes" and body["image_count"] == 9
    assert body["classes"] == {"cats": 5, "dogs": 4}
    data = media_root / "datasets" / str(dataset_id) / "data"
    assert sorted(p.name for p in data.iterdir()) == ["0000", "0001"]
    assert not (media_root / "datasets" / str(dataset_id) / "upload").exists()
