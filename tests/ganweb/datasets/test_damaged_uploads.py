"""A damaged image is skipped and counted, never the end of its dataset; a
layout that looks like two domains with one side empty is refused and the
message says what was found."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ganweb.datasets import archives, imaging, ingest
from ganweb.datasets.archives import Rejected
from ganweb.datasets.models import Dataset
from ganweb.datasets.services import dataset_process
from tests.ganweb.datasets.dataset_builders import flat_members, image_bytes, make_zip
from tests.ganweb.datasets.test_dataset_api import assert_nothing_left, upload
from tests.ganweb.datasets.test_dataset_ingest import LIMITS, run

JPEG = image_bytes(7, fmt="JPEG")
DAMAGED = {
    "empty.png": b"",
    "cut.jpg": JPEG[:100],  # inside its header: the quantization tables
}


def test_an_empty_file_and_a_jpeg_cut_in_its_header_are_skipped_and_counted(
    tmp_path,
):
    archive = make_zip(tmp_path / "up.zip", {**flat_members(5), **DAMAGED})
    result = run(tmp_path, archive)
    assert (result.image_count, result.skipped_count) == (5, 2)
    reasons = {entry["name"]: entry["reason"] for entry in result.skipped}
    assert reasons == {
        "empty.png": "corrupt image: empty.png is an empty file",
        "cut.jpg": (
            "corrupt image: cut.jpg: a damaged JPEG file, its header is cut short"
        ),
    }


def test_a_file_that_starts_like_no_image_still_refuses_the_upload(tmp_path):
    archive = make_zip(tmp_path / "up.zip", {**flat_members(5), "x.png": b"<svg/>"})
    with pytest.raises(Rejected, match=r"x.png is not an image"):
        run(tmp_path, archive)


@pytest.mark.parametrize("data", [b"", JPEG[:3], JPEG[:100]], ids=["0", "3", "100"])
def test_decode_calls_an_empty_or_cut_jpeg_corrupt(data):
    with pytest.raises(imaging.CorruptImage):
        imaging.decode_image(io.BytesIO(data), name="x.jpg", max_pixels=10_000)


@pytest.mark.django_db
def test_loose_images_with_an_empty_one_upload_and_skip_it(client, alice, media):
    client.force_login(alice)
    images = {**flat_members(5), "empty.png": b"", "cut.jpg": JPEG[:100]}
    body = {
        "name": "loose",
        "files": [SimpleUploadedFile(n, d) for n, d in images.items()],
    }
    response = client.post("/api/datasets/", body)
    assert response.status_code == 201, response.content
    assert dataset_process(dataset_id=response.json()["id"]) == "ready"
    dataset = Dataset.objects.get(pk=response.json()["id"])
    assert (dataset.image_count, dataset.skipped_count) == (5, 2)


# A/ with an empty B/ ---------------------------------------------------------------


def zip_with_folders(path, members: dict, folders: list[str]):
    with zipfile.ZipFile(path, "w") as archive:
        for folder in folders:
            archive.writestr(zipfile.ZipInfo(folder), b"")  # a directory entry
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def tar_with_folders(path, members: dict, folders: list[str]):
    with tarfile.open(path, "w:gz") as archive:
        for folder in folders:
            info = tarfile.TarInfo(folder.rstrip("/"))
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


ONE_SIDED = {
    "zip": lambda p: zip_with_folders(p / "a.zip", flat_members(5, "A/"), ["B/"]),
    "tar.gz": lambda p: tar_with_folders(p / "a.tgz", flat_members(5, "A/"), ["B"]),
    "wrapped": lambda p: zip_with_folders(
        p / "w.zip", flat_members(5, "set/A/"), ["set/", "set/A/", "set/b/"]
    ),
    "B only junk": lambda p: make_zip(
        p / "j.zip", {**flat_members(5, "A/"), "B/.DS_Store": b"junk"}
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", ONE_SIDED)
def test_a_beside_an_empty_b_is_refused_saying_what_was_found(
    client, alice, media, case
):
    client.force_login(alice)
    response = upload(client, ONE_SIDED[case](media))
    assert response.status_code == 400
    error = response.json()["error"]
    other = "b" if case == "wrapped" else "B"
    assert error == (
        f"found A/ with 5 images and {other}/ with none: a two-domain set "
        "(A/ and B/, for CycleGAN) needs images in both; to train on A/ alone, "
        "upload its images without the folders"
    )
    assert_nothing_left(media)


def test_one_folder_of_images_alone_is_still_looked_through(tmp_path):
    archive = zip_with_folders(tmp_path / "a.zip", flat_members(5, "A/"), ["A/"])
    contents = archives.list_contents(archive, "zip", LIMITS)
    layout = ingest.plan_layout(
        [m.name for m in contents.files], min_images=4, folders=contents.folders
    )
    assert layout.kind == "images"
