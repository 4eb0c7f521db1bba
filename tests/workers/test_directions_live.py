"""Latent edits through the real stack: daphne, Redis, the light worker that
finds the directions and the interactive worker that draws the edits."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import requests
from PIL import Image

from tests.conftest import session_cookie_for
from tests.deadlines import scaled, wait_until
from tests.ganweb.playground.tiny_models import register_model
from tests.workers.test_playground_live import Api

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TILE, PAD = 16, 2


def pixels(response: requests.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def halves(response: requests.Response) -> tuple[np.ndarray, np.ndarray]:
    both = pixels(response)
    assert both.shape[:2] == (TILE, 2 * TILE + PAD)
    return both[:, :TILE], both[:, TILE + PAD :]


def test_directions_are_found_once_and_cached_beside_the_checkpoint(live_stack, alice):
    from ganweb.jobs.data_sources import job_media_dir

    job = register_model(alice, "stylegan2")
    api = Api(live_stack, alice)
    first = api.get(f"/api/models/{job.pk}/directions")
    assert first.status_code == 200, first.text
    info = first.json()
    assert info["space"] == "w" and info["cached"] is False
    ratios = [c["explained"] for c in info["components"]]
    assert len(ratios) == 8  # w_dim 8: every direction of W
    assert ratios == sorted(ratios, reverse=True) and abs(sum(ratios) - 1) < 1e-3
    assert info["layer_groups"]["fine"] == [4, 5]
    cache = list((job_media_dir(job.pk) / "checkpoints" / "directions").glob("*.pt"))
    assert len(cache) == 1
    started = time.perf_counter()
    again = api.get(f"/api/models/{job.pk}/directions").json()
    assert again["cached"] is True and again["components"] == info["components"]
    assert time.perf_counter() - started < scaled(5)


def test_alpha_zero_is_the_seed_image_and_an_edit_of_fine_layers_differs(
    live_stack, alice
):
    job = register_model(alice, "stylegan2")
    api = Api(live_stack, alice)
    plain = pixels(api.action(job, "sample", n=1, seed=9))
    original, unedited = halves(api.action(job, "edit", seed=9, compare=True))
    assert np.array_equal(original, plain) and np.array_equal(unedited, plain)
    moved = api.action(
        job, "edit", seed=9, alphas=[3.0, -2.0], layers="fine", compare=True
    )
    meta = moved.headers["X-Playground"]
    left, right = halves(moved)
    assert np.array_equal(left, plain) and not np.array_equal(right, plain)
    assert '"layers":[4,5]' in meta and '"space":"w"' in meta
    single = pixels(api.action(job, "edit", seed=9, direction=1, alpha=2.5))
    assert single.shape == (TILE, TILE, 3) and not np.array_equal(single, plain)


def test_bad_edits_answer_400_with_the_reason(live_stack, alice):
    style, dcgan = register_model(alice, "stylegan2"), register_model(alice, "dcgan")
    api = Api(live_stack, alice)
    beyond = api.action(style, "edit", direction=8, alpha=1)  # 8 of w_dim 8
    assert beyond.status_code == 400 and "0..7" in beyond.json()["error"]
    layers = api.action(dcgan, "edit", alpha=1, layers="coarse")
    assert layers.status_code == 400 and "stylegan2" in layers.json()["error"]
    z = api.action(dcgan, "edit", direction=19, alpha=-1.5)  # 20 directions in z
    assert z.status_code == 200, z.text
    assert z.headers["X-Playground"].count('"space":"z"') == 1


def test_an_image_found_by_projection_is_edited_and_saved_with_its_settings(
    live_stack, alice
):
    from ganweb.gallery.models import GalleryItem
    from ganweb.gallery.selectors import gallery_item_remix

    job = register_model(alice, "stylegan2")
    api = Api(live_stack, alice)
    drawn = api.action(job, "sample", n=1, seed=7).content
    started = api.post(
        f"/api/models/{job.pk}/project",
        files={"image": ("mine.png", drawn, "image/png")},
        data={"steps": "5"},
    )
    assert started.status_code == 202, started.text
    projection = started.json()["id"]

    def finished():
        record = api.get(f"/api/projections/{projection}").json()
        return record if record["state"] in ("done", "failed") else None

    record = wait_until(finished, seconds=60, message="the projection")
    assert record["state"] == "done", record
    found = pixels(requests.get(
        f"{live_stack.url}{record['url']}",
        headers={"Cookie": session_cookie_for(alice)},
        timeout=scaled(30),
    ))[PAD : PAD + TILE, 2 * PAD + TILE : 2 * PAD + 2 * TILE]  # fmt: skip
    params = {"projection": projection, "alphas": [0, 2.0], "compare": True}
    original, edited = halves(api.action(job, "edit", **params))
    assert np.array_equal(original, found) and not np.array_equal(edited, found)

    gallery = api.post("/api/galleries/", json={"title": "Edits"}).json()
    body = {"model": job.pk, "action": "edit", "params": params, "title": "edit"}
    saved = api.post(f"/api/galleries/{gallery['id']}/items", json=body)
    assert saved.status_code == 201, saved.text
    assert saved.json()["settings"]["alphas"] == [0, 2.0]
    remix = gallery_item_remix(GalleryItem.objects.get(pk=saved.json()["id"]))
    assert remix["action"] == "edit" and remix["params"]["projection"] == projection
    again = api.action(job, "edit", **remix["params"])
    assert np.array_equal(np.hstack(halves(again)), np.hstack((original, edited)))
