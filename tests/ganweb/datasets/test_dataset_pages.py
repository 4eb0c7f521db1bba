"""Dataset pages, the live socket, and people kept apart on every route."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile

from ganweb.datasets.models import Dataset
from ganweb.datasets.services import dataset_dir, dataset_process
from tests.ganweb.datasets.dataset_builders import (
    class_members,
    files_under,
    make_zip,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(client, alice, media):
    """Alice's processed class dataset."""
    archive = make_zip(media / "pets.zip", class_members({"cats": 3, "dogs": 2}))
    client.force_login(alice)
    response = client.post(
        "/api/datasets/",
        {"name": "pets", "file": SimpleUploadedFile("pets.zip", archive.read_bytes())},
    )
    dataset_id = response.json()["id"]
    assert dataset_process(dataset_id=dataset_id) == "ready"
    client.logout()
    return Dataset.objects.get(pk=dataset_id)


def test_dataset_page_shows_counts_charts_preview_and_train_button(
    client, alice, ready
):
    client.force_login(alice)
    page = client.get(f"/datasets/{ready.pk}/").content.decode()
    assert "pets" in page and "ready" in page
    assert "cats" in page and "dogs" in page and "images per class" in page
    assert "image size histogram" in page and "0-31 px" in page
    assert f"/jobs/new/?dataset={ready.pk}" in page
    assert "cgan" in page and "stylegan2" in page
    assert f"/datasets/{ready.pk}/files/preview.png" in page


def test_preview_and_thumbnails_are_our_pngs_served_with_nosniff(client, alice, ready):
    client.force_login(alice)
    for name in ("preview.png", "thumbs/0000.png"):
        response = client.get(f"/datasets/{ready.pk}/files/{name}")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(f"/datasets/{ready.pk}/files/data/0000").status_code == 404


def test_upload_page_shows_the_limits_and_posts_without_javascript(
    client, alice, media, settings
):
    settings.GAN_UPLOAD_MAX_FILES = 321
    client.force_login(alice)
    page = client.get("/datasets/new/").content.decode()
    assert "Images per upload (without an archive): 321" in page
    assert "datasets_upload.js" in page and 'data-api="/api/datasets/"' in page
    archive = make_zip(media / "u.zip", class_members({"a": 2, "b": 2}))
    response = client.post(
        "/datasets/new/",
        {"name": "form", "upload": SimpleUploadedFile("u.zip", archive.read_bytes())},
    )
    dataset = Dataset.objects.get(name="form")
    assert response.status_code == 302
    assert response["Location"] == f"/datasets/{dataset.pk}/"


def test_upload_page_shows_a_refusal_and_keeps_nothing(client, alice, media):
    client.force_login(alice)
    archive = make_zip(media / "u.zip", class_members({"a": 1}))
    response = client.post(
        "/datasets/new/",
        {"name": "x", "upload": SimpleUploadedFile("u.zip", archive.read_bytes())},
    )
    assert response.status_code == 400
    assert "too few images" in response.content.decode()
    assert not Dataset.objects.exists() and files_under(media / "media") == []


def test_upload_form_checks_csrf(alice, media):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    archive = make_zip(media / "u.zip", class_members({"a": 2, "b": 2}))
    response = strict.post(
        "/datasets/new/",
        {"name": "x", "upload": SimpleUploadedFile("u.zip", archive.read_bytes())},
    )
    assert response.status_code == 403 and not Dataset.objects.exists()
    api = strict.post(
        "/api/datasets/",
        {"name": "x", "file": SimpleUploadedFile("u.zip", archive.read_bytes())},
    )
    assert api.status_code == 403 and not Dataset.objects.exists()


def test_list_page_searches_renames_and_deletes(client, alice, ready):
    client.force_login(alice)
    page = client.get("/datasets/?q=pe").content.decode()
    assert "pets" in page and "Built-in datasets" in page
    assert "pets" not in client.get("/datasets/?q=zebra").content.decode()
    client.post(f"/datasets/{ready.pk}/rename", {"name": "animals", "back": "list"})
    ready.refresh_from_db()
    assert ready.name == "animals"
    response = client.post(f"/datasets/{ready.pk}/delete", {"back": "list"})
    assert response.status_code == 302 and response["Location"] == "/datasets/"
    assert not Dataset.objects.exists()
    assert not dataset_dir(ready.pk).exists()


def test_builtins_appear_for_every_user(client, bob):
    client.force_login(bob)
    page = client.get("/datasets/").content.decode()
    assert "/jobs/new/?dataset=builtin%3Aring8" in page
    assert "/jobs/new/?dataset=builtin%3Ashapes-ab" in page


def test_delete_is_refused_while_a_job_uses_the_dataset(client, alice, ready):
    from ganweb.jobs.models import Job

    Job.objects.create(
        owner=alice, data_ref=str(ready.pk), dataset=ready, family="dcgan", config={}
    )
    client.force_login(alice)
    response = client.delete(f"/api/datasets/{ready.pk}/")
    assert response.status_code == 409
    assert "used by a training job" in response.json()["error"]
    client.post(f"/datasets/{ready.pk}/delete")
    assert Dataset.objects.filter(pk=ready.pk).exists()
    assert (dataset_dir(ready.pk) / "preview.png").is_file()


# People stay apart -------------------------------------------------------------


def page_routes(dataset_id):
    return [
        ("get", f"/datasets/{dataset_id}/"),
        ("get", f"/datasets/{dataset_id}/files/preview.png"),
        ("get", f"/datasets/{dataset_id}/files/thumbs/0000.png"),
        ("post", f"/datasets/{dataset_id}/rename"),
        ("post", f"/datasets/{dataset_id}/delete"),
        ("get", f"/api/datasets/{dataset_id}/"),
        ("patch", f"/api/datasets/{dataset_id}/"),
        ("delete", f"/api/datasets/{dataset_id}/"),
    ]


def test_other_user_gets_404_on_every_dataset_route(client, bob, ready):
    client.force_login(bob)
    for method, url in page_routes(ready.pk):
        kwargs = {"content_type": "application/json"} if method == "patch" else {}
        data = {"name": "stolen"} if method in ("post", "patch") else None
        response = getattr(client, method)(url, data, **kwargs)
        assert response.status_code == 404, (method, url)
    ready.refresh_from_db()
    assert ready.name == "pets" and (dataset_dir(ready.pk) / "preview.png").exists()
    listed = client.get("/api/datasets/").json()
    assert ready.pk not in [row["id"] for row in listed]
    assert "pets" not in client.get("/datasets/").content.decode()


def test_other_user_cannot_train_on_the_dataset(client, bob, ready):
    client.force_login(bob)
    response = client.post(
        "/api/jobs/",
        {"dataset": str(ready.pk), "model": "dcgan", "config": {}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "no dataset" in response.json()["error"]
    page = client.get(f"/jobs/new/?dataset={ready.pk}")
    assert page.status_code == 302 and page["Location"] == "/datasets/"


def test_signed_out_pages_redirect_to_sign_in(client, ready):
    for method, url in page_routes(ready.pk):
        response = getattr(client, method)(url)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/")


def socket_close_code(user, dataset_id) -> int | None:
    from ganweb.datasets.routing import websocket_urlpatterns

    async def attempt():
        communicator = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/datasets/{dataset_id}/"
        )
        communicator.scope["user"] = user
        connected, code = await communicator.connect(timeout=5)
        first = await communicator.receive_json_from(timeout=5) if connected else None
        await communicator.disconnect()
        return connected, code, first

    return async_to_sync(attempt)()


@pytest.mark.django_db(transaction=True)
def test_dataset_socket_sends_state_to_the_owner_only(alice, bob, media):
    dataset = Dataset.objects.create(owner=alice, name="live")
    connected, _, first = socket_close_code(alice, dataset.pk)
    assert connected and first["type"] == "dataset.state"
    assert first["state"] == "pending" and first["id"] == dataset.pk
    connected, code, _ = socket_close_code(bob, dataset.pk)
    assert not connected and code == 4404


def test_a_generated_dataset_is_marked_synthetic_in_the_list(client, alice, ready):
    """People should not mistake images a model drew for their own photos."""
    drawn = Dataset.objects.create(
        owner=alice,
        name="drawn",
        kind="images",
        synthetic_origin={"job_id": 7, "job_name": "faces", "family": "dcgan"},
    )
    client.force_login(alice)
    page = client.get("/datasets/").content.decode()
    rows = page.split("<tr>")[1:]
    drawn_row = next(r for r in rows if f"/datasets/{drawn.pk}/" in r)
    ready_row = next(r for r in rows if f"/datasets/{ready.pk}/" in r)
    assert 'title="Generated by faces (job 7)">synthetic</span>' in drawn_row
    assert ">synthetic</span>" not in ready_row
