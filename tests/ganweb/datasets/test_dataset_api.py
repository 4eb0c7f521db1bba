"""The dataset API: uploads become datasets of the right kind, every refusal
answers 400 (or 413) with a JSON error and leaves nothing behind."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ganweb.datasets.models import Dataset
from ganweb.datasets.services import dataset_process
from tests.ganweb.datasets.dataset_builders import (
    class_members,
    files_under,
    flat_members,
    image_bytes,
    make_tar,
    make_zip,
    png_claiming,
    zip_with_symlink,
)

pytestmark = pytest.mark.django_db


def upload(client, path=None, *, name="my set", images=None, **extra):
    body = {"name": name}
    if path is not None:
        body["file"] = SimpleUploadedFile(path.name, path.read_bytes())
    if images is not None:
        body["files"] = [SimpleUploadedFile(n, d) for n, d in images.items()]
    return client.post("/api/datasets/", body, **extra)


def assert_nothing_left(media):
    assert not Dataset.objects.exists()
    assert files_under(media / "media") == []
    assert files_under(media / "upload-tmp") == []


def processed(client, response) -> dict:
    assert response.status_code == 201, response.content
    assert dataset_process(dataset_id=response.json()["id"]) == "ready"
    return client.get(f"/api/datasets/{response.json()['id']}/").json()


def test_archive_upload_answers_201_pending_and_queues_processing_on_commit(
    client, alice, media, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    archive = make_zip(media / "flat.zip", flat_members(5))
    with django_capture_on_commit_callbacks() as queued:
        response = upload(client, archive)
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "pending" and isinstance(body["id"], int)
    assert len(queued) == 1
    folder = media / "media" / "datasets" / str(body["id"])
    assert [p.name for p in files_under(folder)] == ["archive"]  # named by us


def test_flat_zip_becomes_a_ready_images_dataset(client, alice, media):
    client.force_login(alice)
    body = processed(client, upload(client, make_zip(media / "a.zip", flat_members(6))))
    assert body["state"] == "ready" and body["kind"] == "images"
    assert body["image_count"] == 6 and body["classes"] == {}
    assert body["error"] is None
    assert "dcgan" in body["suits"] and "cgan" not in body["suits"]
    assert files_under(media / "upload-tmp") == []


def test_class_folders_become_classes_with_counts(client, alice, media):
    client.force_login(alice)
    members = class_members({"cats": 3, "dogs": 4})
    body = processed(client, upload(client, make_tar(media / "c.tar.gz", members)))
    assert body["kind"] == "classes"
    assert body["classes"] == {"cats": 3, "dogs": 4}
    assert body["image_count"] == 7 and "cgan" in body["suits"]


def test_a_b_folders_become_domains_for_cyclegan(client, alice, media):
    client.force_login(alice)
    members = class_members({"A": 2, "B": 3}, prefix="horse2zebra/")
    body = processed(client, upload(client, make_zip(media / "d.zip", members)))
    assert body["kind"] == "domains" and body["classes"] == {"A": 2, "B": 3}
    assert body["suits"] == ["cyclegan"]


def test_several_image_files_become_a_flat_dataset(client, alice, media):
    client.force_login(alice)
    images = {f"photo{i}.jpg": image_bytes(i, fmt="JPEG") for i in range(4)}
    images["broken.png"] = image_bytes(9, size=(64, 64))[:80]
    body = processed(client, upload(client, images=images))
    assert body["kind"] == "images" and body["image_count"] == 4
    assert body["skipped_count"] == 1
    assert body["skipped"][0]["name"] == "broken.png"


def test_two_uploads_of_the_same_content_are_recognised(client, alice, media):
    client.force_login(alice)
    members = class_members({"x": 2, "y": 2})
    first = processed(client, upload(client, make_zip(media / "1.zip", members)))
    second = processed(client, upload(client, make_tar(media / "2.tgz", members)))
    assert first["fingerprint"] == second["fingerprint"]
    assert second["same_content_as"] == [first["id"]]


def test_list_has_own_datasets_and_builtins_with_builtin_ids(client, alice, bob, media):
    client.force_login(bob)
    upload(client, make_zip(media / "b.zip", flat_members(4)), name="bobs")
    client.force_login(alice)
    upload(client, make_zip(media / "a.zip", flat_members(4)), name="alices")
    rows = client.get("/api/datasets/").json()
    names = [r["name"] for r in rows if not r["builtin"]]
    assert names == ["alices"]
    ids = {r["id"] for r in rows if r["builtin"]}
    assert {"builtin:ring8", "builtin:grid25", "builtin:shapes-ab"} <= ids
    ring = client.get("/api/datasets/builtin:ring8/").json()
    assert ring["kind"] == "points" and ring["suits"] == ["gan"]
    found = client.get("/api/datasets/?search=ALI").json()
    assert [r["name"] for r in found] == ["alices"]


def test_rename_and_delete_remove_the_files(client, alice, media):
    client.force_login(alice)
    body = processed(client, upload(client, make_zip(media / "a.zip", flat_members(4))))
    url = f"/api/datasets/{body['id']}/"
    renamed = client.patch(url, {"name": "faces"}, content_type="application/json")
    assert renamed.json()["name"] == "faces"
    assert client.delete(url).status_code == 204
    assert_nothing_left(media)


# Refusals at upload time: 400, a JSON error, nothing stored --------------------


def _bomb_zip(media):
    return make_zip(media / "r.zip", {**flat_members(4), "z.bmp": b"\0" * (3 << 20)})


REFUSALS = {
    "wrong archive type": (
        lambda m: (m / "x.zip").write_bytes(b"plain text") and m / "x.zip",
        "unsupported archive type",
    ),
    "dot-dot entry": (
        lambda m: make_zip(m / "e.zip", {**flat_members(4), "../up.png": b"x"}),
        "points outside the archive",
    ),
    "absolute entry": (
        lambda m: make_tar(m / "e.tgz", {**flat_members(4), "/tmp/x.png": b"x"}),
        "absolute path",
    ),
    "symlink": (
        lambda m: zip_with_symlink(m / "s.zip", flat_members(4), "l.png", "/etc"),
        "symbolic link",
    ),
    "too few images": (
        lambda m: make_zip(m / "f.zip", flat_members(2)),
        "too few images",
    ),
    "one class": (
        lambda m: make_zip(m / "o.zip", class_members({"cats": 5}, prefix="s/")),
        "fewer than two classes",
    ),
    "compression ratio": (_bomb_zip, "compressed more than 200:1"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_archive_answers_400_and_leaves_nothing(client, alice, media, case):
    client.force_login(alice)
    build, message = REFUSALS[case]
    response = upload(client, build(media))
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert_nothing_left(media)


def test_too_many_archive_entries_is_400(client, alice, media, settings):
    settings.GAN_DATASET_MAX_FILES = 5
    client.force_login(alice)
    response = upload(client, make_zip(media / "m.zip", flat_members(6)))
    assert response.status_code == 400 and "too many files" in response.json()["error"]
    assert_nothing_left(media)


def test_too_large_unpacked_is_400(client, alice, media, settings):
    settings.GAN_DATASET_MAX_UNPACKED_BYTES = 500
    client.force_login(alice)
    response = upload(client, make_zip(media / "m.zip", flat_members(10)))
    assert response.status_code == 400
    assert "too large when unpacked" in response.json()["error"]
    assert_nothing_left(media)


def test_loose_file_that_is_not_an_image_is_400(client, alice, media):
    client.force_login(alice)
    images = {**flat_members(4), "evil.png": b"<script>alert(1)</script>"}
    response = upload(client, images=images)
    assert response.status_code == 400
    assert response.json()["error"].startswith("evil.png is not an image")
    assert_nothing_left(media)


def test_loose_png_claiming_100000_squared_is_400(client, alice, media):
    client.force_login(alice)
    images = {**flat_members(4), "bomb.png": png_claiming(100_000, 100_000)}
    response = upload(client, images=images)
    assert response.status_code == 400
    assert (
        "bomb.png is larger than the limit of 40,000,000 pixels"
        in (response.json()["error"])
    )
    assert_nothing_left(media)


def test_no_file_and_both_kinds_at_once_are_400(client, alice, media):
    client.force_login(alice)
    assert "no file" in upload(client).json()["error"]
    archive = make_zip(media / "a.zip", flat_members(4))
    both = upload(client, archive, images=flat_members(4))
    assert both.status_code == 400 and "either" in both.json()["error"]
    assert_nothing_left(media)


def test_more_files_than_allowed_in_one_body_is_400(client, alice, media, settings):
    settings.GAN_UPLOAD_MAX_FILES = 5
    client.force_login(alice)
    response = upload(client, images=flat_members(7))
    assert response.status_code == 400
    assert "too many files in one upload: at most 5" in response.json()["error"]
    assert_nothing_left(media)


def test_upload_over_the_size_limit_is_413_before_the_body_is_read(
    client, alice, media, settings, monkeypatch
):
    settings.GAN_UPLOAD_MAX_BYTES = 50_000
    client.force_login(alice)
    reads = []
    from django.core.handlers.wsgi import LimitedStream

    original = LimitedStream.read

    def counting_read(self, size=-1):
        data = original(self, size)
        reads.append(len(data))
        return data

    monkeypatch.setattr(LimitedStream, "read", counting_read)
    big = {"big.png": image_bytes(1) + b"\0" * 200_000}
    response = upload(client, images=big)
    assert response.status_code == 413
    assert response.json()["error"] == "upload too large: the limit is 48.8 KB"
    assert sum(reads) < 50_000  # the body was not read, let alone stored
    assert_nothing_left(media)


# Refusals found by the worker: failed with the reason, files removed ----------


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"bomb.png": png_claiming(100_000, 100_000)}, "bomb.png is larger than"),
        ({"cat.jpg": b"<svg>not really an image</svg>"}, "cat.jpg is not an image"),
    ],
)
def test_worker_refusal_fails_the_dataset_and_removes_every_file(
    client, alice, media, members, message
):
    client.force_login(alice)
    archive = make_zip(media / "w.zip", {**flat_members(4), **members})
    response = upload(client, archive)
    assert response.status_code == 201
    dataset_id = response.json()["id"]
    assert dataset_process(dataset_id=dataset_id) == "failed"
    body = client.get(f"/api/datasets/{dataset_id}/").json()
    assert body["state"] == "failed" and message in body["error"]
    assert body["image_count"] == 0 and body["classes"] == {}
    assert body["fingerprint"] is None and body["preview_url"] is None
    assert files_under(media / "media") == []


def test_processing_twice_is_harmless(client, alice, media):
    client.force_login(alice)
    response = upload(client, make_zip(media / "a.zip", flat_members(4)))
    dataset_id = response.json()["id"]
    assert dataset_process(dataset_id=dataset_id) == "ready"
    assert dataset_process(dataset_id=dataset_id) == "not-claimed"


def test_schema_documents_the_dataset_endpoints(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/datasets/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/datasets/{dataset_id}/"])
    post = paths["/api/datasets/"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"201", "400", "413"} <= set(post["responses"])


def test_signed_out_api_is_401(client):
    assert client.get("/api/datasets/").status_code == 401
    response = client.post("/api/datasets/", {"name": "x", "file": io.BytesIO(b"x")})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/datasets/?search=%00",
        "/datasets/?q=a%00b",
        "/jobs/?state=%00",
        "/api/jobs/?state=%00",
    ],
)
def test_a_nul_in_a_search_finds_nothing_instead_of_failing(client, alice, path):
    """PostgreSQL refuses NUL characters in a query: found by schemathesis."""
    client.force_login(alice)
    response = client.get(path)
    assert response.status_code == 200
