"""Decoding costs pixels, not bytes: each upload, and each user's datasets
together, get a budget of decoded pixels (summed from the headers before
anything is decoded) and of stored bytes. alice's use never limits bob."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ganweb.datasets import imaging, ingest
from ganweb.datasets.archives import Rejected
from ganweb.datasets.budgets import Budget
from ganweb.datasets.limits import Limits
from ganweb.datasets.models import Dataset
from ganweb.datasets.services import dataset_process
from tests.ganweb.datasets.dataset_builders import (
    files_under,
    flat_members,
    gif_claiming,
    make_tar,
    make_zip,
)
from tests.ganweb.datasets.test_dataset_api import assert_nothing_left, upload
from tests.ganweb.datasets.test_dataset_ingest import LIMITS

pytestmark = pytest.mark.django_db
SCREEN = 6324  # 39,992,976 pixels: just under the default per-image limit


def gifs(count: int, prefix: str = "") -> dict:
    return {f"{prefix}{i:02d}.gif": gif_claiming(SCREEN, SCREEN) for i in range(count)}


def test_a_5_kb_zip_of_40_gifs_claiming_6324_squared_is_refused_in_the_request(
    client, alice, media
):
    """Before: accepted, then about 150 s of a light worker to decode."""
    archive = make_zip(media / "screens.zip", gifs(40))
    assert archive.stat().st_size < 6_000
    client.force_login(alice)
    response = upload(client, archive)
    assert response.status_code == 400
    assert response.json()["error"] == (
        "too many pixels to decode: the images hold 1,599,719,040 pixels "
        "(width x height), over the limit of 1,000,000,000 for one upload"
    )
    assert_nothing_left(media)


def test_loose_images_over_the_upload_budget_are_refused_in_the_request(
    client, alice, media, settings
):
    settings.GAN_DATASET_MAX_UPLOAD_PIXELS = 8 * 64 - 1  # eight 8x8 images
    client.force_login(alice)
    images = flat_members(8)
    response = client.post(
        "/api/datasets/",
        {"name": "x", "files": [SimpleUploadedFile(n, d) for n, d in images.items()]},
    )
    assert response.status_code == 400
    assert "the images hold 512 pixels" in response.json()["error"]
    assert_nothing_left(media)


@pytest.mark.parametrize("packing", ["tar.gz", "zip of many images"])
def test_an_upload_over_the_budget_fails_in_the_worker_with_the_reason(
    client, alice, media, monkeypatch, packing
):
    """A tar streams, and a zip of many images would keep the request long:
    their headers are read by the worker, before it decodes anything."""
    monkeypatch.setattr(ingest, "HEADERS_IN_REQUEST", 39)
    client.force_login(alice)
    if packing == "tar.gz":
        archive = make_tar(media / "screens.tgz", gifs(40))
    else:
        archive = make_zip(media / "screens.zip", gifs(40))
    response = upload(client, archive)
    assert response.status_code == 201
    dataset_id = response.json()["id"]
    assert dataset_process(dataset_id=dataset_id) == "failed"
    dataset = Dataset.objects.get(pk=dataset_id)
    assert dataset.error.startswith("too many pixels to decode: the images hold 1,5")
    assert files_under(media / "media") == []


def processed_upload(client, media, name: str, count: int = 8) -> dict:
    archive = make_zip(media / f"{name}.zip", flat_members(count, f"{name}/"))
    response = upload(client, archive, name=name)
    if response.status_code == 201:
        assert dataset_process(dataset_id=response.json()["id"]) == "ready"
    return response


def test_a_users_pixel_budget_counts_their_other_datasets_not_bobs(
    client, alice, bob, media, settings
):
    settings.GAN_DATASET_MAX_USER_PIXELS = 3 * 512 - 1  # under three 8-image sets
    client.force_login(alice)
    assert processed_upload(client, media, "one").status_code == 201
    assert Dataset.objects.get(name="one").stats["pixels"] == 512
    assert processed_upload(client, media, "two").status_code == 201
    third = processed_upload(client, media, "three")
    assert third.status_code == 400
    assert third.json()["error"] == (
        "too many pixels for your account: this upload holds 512 pixels and "
        "your other datasets 1,024, over your limit of 1,535; delete a dataset "
        "to make room"
    )
    client.force_login(bob)
    assert processed_upload(client, media, "bobs").status_code == 201
    client.force_login(alice)
    first = Dataset.objects.get(name="one")
    assert client.delete(f"/api/datasets/{first.pk}/").status_code == 204
    assert processed_upload(client, media, "three").status_code == 201


def test_a_failed_dataset_gives_its_pixels_back(client, alice, media, settings):
    settings.GAN_DATASET_MAX_USER_PIXELS = 600
    client.force_login(alice)
    bad = make_zip(
        media / "bad.zip", {**flat_members(8), "x.jpg": b"<svg>not an image</svg>"}
    )
    response = upload(client, bad)
    assert dataset_process(dataset_id=response.json()["id"]) == "failed"
    assert processed_upload(client, media, "good").status_code == 201


def test_a_users_stored_bytes_are_budgeted_too(client, alice, bob, media, settings):
    archive = make_zip(media / "a.zip", flat_members(8))
    settings.GAN_DATASET_MAX_USER_BYTES = archive.stat().st_size * 3 // 2
    client.force_login(alice)
    assert upload(client, archive).status_code == 201
    second = upload(client, archive)
    assert second.status_code == 400
    assert second.json()["error"].startswith(
        "too much stored for your account: this upload needs"
    )
    client.force_login(bob)
    assert upload(client, archive).status_code == 201


def test_the_worker_stops_storing_past_the_byte_budget(client, alice, media, settings):
    """The re-encoded images count, not only the upload: each 35-byte GIF of a
    1000x1000 screen stores a PNG of about 13 KB."""
    screens = {f"s{i}.gif": gif_claiming(1000, 1000) for i in range(4)}
    archive = make_tar(media / "s.tgz", {**flat_members(4), **screens})
    settings.GAN_DATASET_MAX_USER_BYTES = archive.stat().st_size + 20_000
    client.force_login(alice)
    response = upload(client, archive)
    assert response.status_code == 201
    dataset_id = response.json()["id"]
    assert dataset_process(dataset_id=dataset_id) == "failed"
    error = Dataset.objects.get(pk=dataset_id).error
    assert error.startswith("too much stored for your account")


def test_decoding_stops_at_the_image_that_would_go_over(tmp_path):
    """Even without the headers counted first, the budget holds image by image:
    what was accepted under it is decoded, the next one is refused unread."""
    limits = Limits(**{**LIMITS.as_dict(), "pixels": 50_000_000})
    budget = Budget(Limits(**{**limits.as_dict(), "upload_pixels": 5 * 64}))
    archive = make_zip(tmp_path / "up.zip", {**flat_members(5), **gifs(1, "z")})
    with pytest.raises(Rejected, match="the images hold 39,993,296 pixels"):
        ingest.ingest_archive(
            archive=archive,
            kind="zip",
            folder=tmp_path / "ds",
            limits=limits,
            budget=budget,
        )


def test_header_pixels_reads_a_gif_screen_without_decoding():
    data = gif_claiming(SCREEN, SCREEN)
    assert imaging.header_pixels(io.BytesIO(data), max_pixels=10**9) == SCREEN**2
    assert imaging.header_pixels(io.BytesIO(b""), max_pixels=10**9) == 0


def test_the_budgets_come_from_the_settings(settings):
    from ganweb.datasets.limits import current_limits

    settings.GAN_DATASET_MAX_UPLOAD_PIXELS = 11
    settings.GAN_DATASET_MAX_USER_PIXELS = 22
    settings.GAN_DATASET_MAX_USER_BYTES = 33
    limits = current_limits()
    budgets = (limits.upload_pixels, limits.user_pixels, limits.user_bytes)
    assert budgets == (11, 22, 33)
