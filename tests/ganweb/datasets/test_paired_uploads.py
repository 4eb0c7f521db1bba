"""Paired uploads for pix2pix: the pairing setting, what its validation says
(pairs found, files without a partner), the stored pairs, and the families and
schema that follow."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ganweb.datasets.models import Dataset
from ganweb.datasets.services import dataset_process, dataset_training_spec
from tests.ganweb.datasets.dataset_builders import files_under, make_zip

pytestmark = pytest.mark.django_db


def grey(value: int, size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (value, value, value)).save(out, format="PNG")
    return out.getvalue()


def side_by_side(value: int, size=(16, 8)) -> bytes:
    img = Image.new("RGB", size, (value, 0, 0))
    img.paste((0, 200, 0), (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def named_pairs(stems, extra_a=(), extra_b=()) -> dict:
    """A/<stem>.png grey 20 i with B/<stem>.png grey 20 i + 100."""
    members = {}
    for i, stem in enumerate(stems):
        members[f"set/A/{stem}.png"] = grey(20 * i)
        members[f"set/B/{stem}.png"] = grey(20 * i + 100)
    for name in extra_a:
        members[f"set/A/{name}"] = grey(250)
    for name in extra_b:
        members[f"set/B/{name}"] = grey(5)
    return members


def upload(client, archive=None, images=None, pairing="folders"):
    body = {"name": "pairs", "pairing": pairing}
    if archive is not None:
        body["file"] = SimpleUploadedFile(archive.name, archive.read_bytes())
    if images is not None:
        body["files"] = [SimpleUploadedFile(n, d) for n, d in images.items()]
    return client.post("/api/datasets/", body)


def test_folders_pair_by_name_and_the_answer_lists_files_without_a_partner(
    client, alice, media
):
    client.force_login(alice)
    members = named_pairs(["cat", "dog", "owl"], extra_a=["lone.png"])
    response = upload(client, make_zip(media / "p.zip", members))
    assert response.status_code == 201, response.content
    found = response.json()["stats"]["pairs_found"]
    assert found["pairs"] == 3 and found["unmatched_count"] == 1
    assert found["unmatched"] == {"A": ["set/A/lone.png"], "B": []}
    assert dataset_process(dataset_id=response.json()["id"]) == "ready"
    body = client.get(f"/api/datasets/{response.json()['id']}/").json()
    assert body["kind"] == "pairs" and body["paired_layout"] == "folders"
    assert body["image_count"] == 3 and body["suits"] == ["pix2pix"]
    dataset = Dataset.objects.get(pk=body["id"])
    data_dir = media / "media" / "datasets" / str(dataset.pk) / "data"
    stored = sorted(str(p.relative_to(data_dir)) for p in files_under(data_dir))
    assert stored == [f"{s}/{i:06d}.png" for s in "AB" for i in range(3)]
    # gan_core reads the same pairs back, row for row.
    from gan_core.data.loading import load_data

    spec = dataset_training_spec(dataset=dataset)
    assert spec.startswith("pairs:")
    pairs = load_data(spec, image_size=8, cache_dir=media / "cache")
    assert len(pairs) == 3
    diff = pairs.b[:, 0, 0, 0].int() - pairs.a[:, 0, 0, 0].int()
    assert diff.tolist() == [100, 100, 100]
    page = client.get(f"/datasets/{dataset.pk}/")
    assert b"3 pairs" in page.content and b"lone.png" in page.content
    # The light worker's cache ahead of jobs builds the paired cache (pix2pix
    # trains at 256 px by default), beside no unpaired one.
    from ganweb.datasets.training_cache import (
        dataset_cache_dir,
        dataset_caches_prepare,
    )

    assert dataset_caches_prepare(dataset_id=dataset.pk) == ["ready"]
    built = [p.name for p in dataset_cache_dir(dataset.pk).glob("*.gcache")]
    assert len(built) == 1 and built[0].startswith("pairs-folders-")


def test_too_few_pairs_are_refused_with_the_names_that_have_no_partner(
    client, alice, media
):
    client.force_login(alice)
    members = named_pairs(["x"], extra_a=["a1.png", "a2.png"], extra_b=["b1.png"])
    response = upload(client, make_zip(media / "few.zip", members))
    assert response.status_code == 400
    message = response.json()["error"]
    assert "found 1 pairs" in message and "2 in A/ and 1 in B/" in message
    assert "set/A/a1.png" in message
    assert not Dataset.objects.exists()


def test_pairing_folders_needs_a_and_b(client, alice, media):
    client.force_login(alice)
    flat = {f"{i}.png": grey(i) for i in range(5)}
    response = upload(client, make_zip(media / "flat.zip", flat))
    assert response.status_code == 400
    assert "A/ and B/" in response.json()["error"]
    response = upload(client, make_zip(media / "f.zip", flat), pairing="sideways")
    assert response.status_code == 400 and "pairing must be" in response.json()["error"]


def test_side_by_side_images_become_pairs(client, alice, media):
    client.force_login(alice)
    images = {f"p{i}.png": side_by_side(40 * i) for i in range(4)}
    response = upload(client, images=images, pairing="side_by_side")
    assert response.status_code == 201, response.content
    assert dataset_process(dataset_id=response.json()["id"]) == "ready"
    dataset = Dataset.objects.get(pk=response.json()["id"])
    assert dataset.kind == "pairs" and dataset.image_count == 4
    from gan_core.data.loading import load_data

    spec = dataset_training_spec(dataset=dataset)
    assert spec.startswith("pairs-sbs:")
    pairs = load_data(spec, image_size=8, cache_dir=media / "cache")
    assert sorted(pairs.a[:, 0, 4, 4].tolist()) == [0, 40, 80, 120]
    assert (pairs.b[:, 1] == 200).all()


def test_square_images_are_not_side_by_side_pairs(client, alice, media):
    client.force_login(alice)
    images = {f"p{i}.png": grey(10 * i) for i in range(4)}
    response = upload(client, images=images, pairing="side_by_side")
    assert response.status_code == 201
    assert dataset_process(dataset_id=response.json()["id"]) == "failed"
    error = Dataset.objects.get(pk=response.json()["id"]).error
    assert "4 of 4 images are not side-by-side pairs" in error


def test_pix2pix_is_offered_for_paired_data_only():
    from ganweb.jobs.families import suitable_families

    assert [f["name"] for f in suitable_families("pairs")] == ["pix2pix"]
    assert "pix2pix" not in [f["name"] for f in suitable_families("domains")]
    assert "pix2pix" not in [f["name"] for f in suitable_families("images")]


def test_job_form_on_a_paired_dataset_recommends_pix2pix(client, alice, media):
    client.force_login(alice)
    response = upload(client, make_zip(media / "p.zip", named_pairs("abcd")))
    assert dataset_process(dataset_id=response.json()["id"]) == "ready"
    page = client.get(f"/jobs/new/?dataset={response.json()['id']}")
    assert page.status_code == 200
    assert b'name="model" value="pix2pix"' in page.content
    builtin = client.get("/jobs/new/?dataset=builtin:shapes-paired")
    assert b'name="model" value="pix2pix"' in builtin.content


def test_openapi_schema_has_the_pairing_setting_and_the_translation(client):
    schema = client.get("/api/openapi.json").json()
    text = str(schema)
    assert "side_by_side" in text and "paired_layout" in text
    assert any(path.endswith("/translate") for path in schema["paths"])
