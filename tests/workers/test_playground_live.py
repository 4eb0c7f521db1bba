"""The playground through the real stack: daphne, Redis and the light worker.

Tiny checkpoints are trained in this process and registered as finished jobs;
every image below was drawn by the live light worker and came back over HTTP.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import requests
from PIL import Image

from tests.conftest import api_token, session_cookie_for
from tests.deadlines import scaled
from tests.ganweb.playground.tiny_models import register_model

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TILE, PAD = 16, 2


class Api:
    def __init__(self, live_stack, user):
        self.url = live_stack.url
        self.headers = {"Authorization": f"Bearer {api_token(live_stack.url, user)}"}

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(
            f"{self.url}{path}", headers=self.headers, timeout=scaled(60), **kwargs
        )

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(
            f"{self.url}{path}", headers=self.headers, timeout=scaled(60), **kwargs
        )

    def action(self, job, action: str, **body) -> requests.Response:
        return self.post(f"/api/models/{job.pk}/{action}", json=body)


def opened(response: requests.Response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


def png(size=(40, 24), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def test_same_seed_gives_byte_identical_images(live_stack, alice):
    job = register_model(alice, "dcgan")
    api = Api(live_stack, alice)
    first = api.action(job, "sample", n=4, seed=7, truncation=0.8)
    again = api.action(job, "sample", n=4, seed=7, truncation=0.8)
    other = api.action(job, "sample", n=4, seed=8, truncation=0.8)
    assert first.status_code == 200, first.text
    assert first.headers["Content-Type"] == "image/png"
    assert first.headers["X-Seed"] == "7"
    assert first.content == again.content
    assert first.content != other.content
    assert opened(first).size == (2 * (TILE + PAD) + PAD,) * 2


@pytest.mark.parametrize("family", ["dcgan", "stylegan2"])
def test_psi_zero_gives_the_same_image_for_every_seed(live_stack, alice, family):
    job = register_model(alice, family)
    api = Api(live_stack, alice)
    images = {
        api.action(job, "sample", n=1, seed=seed, truncation=0).content
        for seed in (1, 2, 99)
    }
    assert len(images) == 1
    varied = {
        api.action(job, "sample", n=1, seed=seed, truncation=1).content
        for seed in (1, 2)
    }
    assert len(varied) == 2


def test_each_image_of_a_grid_is_its_own_seed(live_stack, alice):
    job = register_model(alice, "stylegan2")
    api = Api(live_stack, alice)
    grid = opened(api.action(job, "sample", n=4, seed=10))
    single = opened(api.action(job, "sample", n=1, seed=13)).convert("RGB")
    # Image 3 sits at row 1, column 1 of a 2-column grid.
    corner = PAD + TILE + PAD
    tile = grid.convert("RGB").crop((corner, corner, corner + TILE, corner + TILE))
    diff = max(
        abs(a - b) for a, b in zip(tile.tobytes(), single.tobytes(), strict=True)
    )
    assert diff <= 2  # batch size may change the last bit of a convolution


def test_style_mix_returns_a_grid_of_the_right_shape(live_stack, alice):
    job = register_model(alice, "stylegan2")
    api = Api(live_stack, alice)
    response = api.action(
        job, "style-mix", row_seeds=[1, 2, 3], col_seeds=[4, 5], layers="coarse"
    )
    assert response.status_code == 200, response.text
    # One column of row sources plus 2 mixes; one row of column sources plus 3.
    assert opened(response).size == (3 * (TILE + PAD) + PAD, 4 * (TILE + PAD) + PAD)
    custom = api.action(job, "style-mix", row_seeds=[1], col_seeds=[2], layers="1-2")
    assert custom.status_code == 200
    assert '"layers":[1,2]' in custom.headers["X-Playground"]
    too_deep = api.action(job, "style-mix", row_seeds=[1], col_seeds=[2], layers=[40])
    assert too_deep.status_code == 400 and "layer" in too_deep.json()["error"]


def test_translation_returns_an_image_of_the_requested_size(live_stack, alice):
    job = register_model(alice, "cyclegan")
    api = Api(live_stack, alice)
    path = f"/api/models/{job.pk}/translate"
    # A PNG named like a JPEG: the bytes decide, not the name.
    upload = {"image": ("photo.jpg", png((40, 24)), "image/jpeg")}
    same = api.post(path, files=upload, data={"direction": "AtoB"})
    assert same.status_code == 200, same.text
    assert same.headers["Content-Type"] == "image/png"
    assert opened(same).size == (40, 24)
    smaller = api.post(path, files=upload, data={"direction": "BtoA", "size": 20})
    assert opened(smaller).size == (20, 12)
    text = {"image": ("fake.png", b"not an image at all", "image/png")}
    refused = api.post(path, files=text, data={"direction": "AtoB"})
    assert refused.status_code == 400 and "image" in refused.json()["error"]

    # The workbench: five panels of the input's size in one strip, with the
    # mean errors of the round trip.
    bench = api.post(
        path, files=upload, data={"direction": "AtoB", "roundtrip": "true"}
    )
    assert bench.status_code == 200, bench.text
    assert opened(bench).size == (5 * 40 + 4 * PAD, 24)
    meta = json.loads(bench.headers["X-Playground"])
    assert meta["panels"][2:] == ["back again", "cycle error", "identity error"]
    assert 0 <= meta["cycle_error"] <= 1 and 0 <= meta["identity_error"] <= 1
    first_panel = opened(bench).crop((0, 0, 40, 24)).convert("RGB")
    assert first_panel.getpixel((5, 5)) == (200, 30, 30)  # the input, unchanged


def test_interpolation_is_an_animation_with_every_frame(live_stack, alice):
    job = register_model(alice, "stylegan2")
    api = Api(live_stack, alice)
    for fmt, space in (("gif", "w"), ("webp", "z")):
        response = api.action(
            job, "interpolate", seed_a=1, seed_b=2, steps=6, space=space, format=fmt
        )
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == f"image/{fmt}"
        assert opened(response).n_frames == 6


def test_conditional_model_draws_a_class_by_name_and_a_class_grid(live_stack, alice):
    job = register_model(alice, "cgan")
    api = Api(live_stack, alice)
    seven = api.action(job, "sample", n=4, seed=1, label="7")
    assert seven.status_code == 200
    assert '"labels":["7","7","7","7"]' in seven.headers["X-Playground"]
    grid = api.action(job, "class-grid", per_class=3, seed=0)
    assert opened(grid).size == (3 * (TILE + PAD) + PAD, 10 * (TILE + PAD) + PAD)
    unknown = api.action(job, "sample", n=1, label="dragon")
    assert unknown.status_code == 400 and "dragon" in unknown.json()["error"]


def test_a_family_without_the_action_answers_400_saying_so(live_stack, alice):
    dcgan = register_model(alice, "dcgan")
    cyclegan = register_model(alice, "cyclegan")
    api = Api(live_stack, alice)
    mix = api.action(dcgan, "style-mix", row_seeds=[1], col_seeds=[2])
    assert mix.status_code == 400 and "stylegan2" in mix.json()["error"]
    sample = api.action(cyclegan, "sample", n=1)
    assert sample.status_code == 400 and "translate" in sample.json()["error"]
    w = api.action(dcgan, "interpolate", seed_a=1, seed_b=2, space="w")
    assert w.status_code == 400 and "W space" in w.json()["error"]


def test_one_users_model_cannot_be_sampled_by_another(live_stack, alice, bob):
    job = register_model(alice, "dcgan")
    as_bob = Api(live_stack, bob)
    for action, body in (("sample", {"n": 1}), ("style-mix", {})):
        response = as_bob.action(job, action, **body)
        assert response.status_code == 404
        assert response.json() == {"error": "no such model"}
    assert as_bob.get(f"/api/models/{job.pk}").status_code == 404
    page = requests.get(
        f"{live_stack.url}/playground/{job.pk}/",
        headers={"Cookie": session_cookie_for(bob)},
        timeout=scaled(30),
    )
    assert page.status_code == 404
    anonymous = requests.post(
        f"{live_stack.url}/api/models/{job.pk}/sample",
        json={"n": 1},
        timeout=scaled(30),
    )
    assert anonymous.status_code in (401, 403)


def test_raw_and_ema_generators_and_older_checkpoints(live_stack, alice):
    job = register_model(alice, "dcgan")
    api = Api(live_stack, alice)
    ema = api.action(job, "sample", n=1, seed=3)
    raw = api.action(job, "sample", n=1, seed=3, generator="raw")
    assert raw.headers["X-Generator"] == "raw" and ema.headers["X-Generator"] == "ema"
    assert ema.content != raw.content
    older = api.action(job, "sample", n=1, seed=3, checkpoint=2)
    assert older.headers["X-Checkpoint-Step"] == "2"
    missing = api.action(job, "sample", n=1, checkpoint=5000)
    assert missing.status_code == 404 and "5000" in missing.json()["error"]
    info = api.get(f"/api/models/{job.pk}").json()
    assert info["has_ema"] is True and info["calls"] == ["sample", "interpolate"]


def test_playground_page_shows_the_controls_the_family_has(live_stack, alice):
    cookie = {"Cookie": session_cookie_for(alice)}
    style = register_model(alice, "stylegan2")
    page = requests.get(
        f"{live_stack.url}/playground/{style.pk}/", headers=cookie, timeout=scaled(30)
    )
    assert page.status_code == 200
    assert 'data-action="style-mix"' in page.text
    assert 'data-action="translate"' not in page.text
    cycle = register_model(alice, "cyclegan")
    page = requests.get(
        f"{live_stack.url}/playground/{cycle.pk}/", headers=cookie, timeout=scaled(30)
    )
    assert 'data-action="translate"' in page.text
    assert 'data-action="sample"' not in page.text


def test_saved_results_are_drawn_again_with_their_settings(live_stack, alice):
    job = register_model(alice, "stylegan2")
    api = Api(live_stack, alice)
    gallery = api.post("/api/galleries/", json={"title": "Mixes"}).json()
    body = {
        "model": job.pk,
        "action": "style-mix",
        "params": {"row_seeds": [1, 2], "col_seeds": [3], "layers": "fine"},
        "title": "fine styles",
        "caption": "rows 1 and 2",
    }
    saved = api.post(f"/api/galleries/{gallery['id']}/items", json=body)
    assert saved.status_code == 201, saved.text
    item = saved.json()
    assert item["kind"] == "grid"
    assert item["settings"]["layers"] == [4, 5]
    assert item["settings"]["checkpoint_step"] == 2
    assert item["settings"]["family"] == "stylegan2"
    again = api.action(job, "style-mix", row_seeds=[1, 2], col_seeds=[3], layers="fine")
    cookie = {"Cookie": session_cookie_for(alice)}  # media pages use the session
    stored = requests.get(item["url"], headers=cookie, timeout=scaled(30))
    assert stored.headers["X-Content-Type-Options"] == "nosniff"
    assert stored.content == again.content

    cycle = register_model(alice, "cyclegan")
    pair = api.post(
        f"/api/galleries/{gallery['id']}/items",
        data={"model": cycle.pk, "action": "translate", "title": "pair"},
        files={"image": ("in.png", png((20, 10)), "image/png")},
    )
    assert pair.status_code == 201, pair.text
    assert pair.json()["kind"] == "translation"
    stored = opened(
        requests.get(pair.json()["url"], headers=cookie, timeout=scaled(30))
    )
    assert stored.size == (2 * 20 + PAD, 10)  # input and output side by side


def test_remix_draws_a_gallery_item_again_byte_for_byte(live_stack, alice):
    """Each drawable kind of item, remade from its recorded lineage through the
    API, equals the stored file; even after the model's latest checkpoint moved
    on, because the lineage pins the checkpoint it was drawn from."""
    import torch

    from ganweb.gallery.models import GalleryItem
    from ganweb.gallery.selectors import gallery_item_remix
    from ganweb.jobs.data_sources import job_media_dir

    style, cond = register_model(alice, "stylegan2"), register_model(alice, "cgan")
    api = Api(live_stack, alice)
    gallery = api.post("/api/galleries/", json={"title": "Lineage"}).json()
    made = [
        (style, "sample", {"n": 4, "seed": 11, "truncation": 0.6}),
        (style, "interpolate", {"seed_a": 1, "seed_b": 5, "steps": 4}),
        (style, "style-mix", {"row_seeds": [1], "col_seeds": [2, 3], "layers": "1-2"}),
        (cond, "class-grid", {"per_class": 2, "seed": 4}),
    ]
    for job, action, params in made:
        body = {"model": job.pk, "action": action, "params": params, "title": action}
        saved = api.post(f"/api/galleries/{gallery['id']}/items", json=body)
        assert saved.status_code == 201, saved.text

    # The model moves on: its latest checkpoint now holds other weights.
    latest = job_media_dir(style.pk) / "checkpoints" / "latest.pt"
    payload = torch.load(latest, weights_only=True)
    for weights in (payload["nets"]["G"], payload["ema"]):  # raw and averaged
        for name, tensor in weights.items():
            if tensor.is_floating_point():
                weights[name] = tensor + 0.5
    latest.unlink()  # a link to step 2: replace it, leave step 2 alone
    torch.save(payload, latest)
    moved = api.action(style, "sample", n=4, seed=11, truncation=0.6)

    cookie = {"Cookie": session_cookie_for(alice)}
    for item in GalleryItem.objects.filter(gallery_id=gallery["id"]).order_by("pk"):
        remix = gallery_item_remix(item)
        assert remix is not None and remix["params"]["checkpoint"] == 2
        again = api.action(item.job, remix["action"], **remix["params"])
        assert again.status_code == 200, again.text
        stored = requests.get(
            f"{live_stack.url}/galleries/{gallery['id']}/items/{item.pk}/file",
            headers=cookie,
            timeout=scaled(30),
        )
        assert stored.status_code == 200
        assert again.content == stored.content, item.settings
        if item.settings["action"] == "sample":
            assert moved.content != stored.content


def test_projection_is_queued_followed_live_and_private(live_stack, alice, bob):
    """Upload an image the model drew; a light worker searches W for it,
    reporting each step over the socket, and ends with the pair on disk."""
    from tests.wsclient import handshake_status, open_socket, receive_json

    job = register_model(alice, "stylegan2")
    api = Api(live_stack, alice)
    drawn = api.action(job, "sample", n=1, seed=7).content
    cookie = session_cookie_for(alice)
    # Held in the queue until the socket listens: on a busy machine the
    # handshake could otherwise come after the last step (snapshot "done").
    with contextlib.ExitStack() as sockets:
        with live_stack.queue_paused("light"):
            started = api.post(
                f"/api/models/{job.pk}/project",
                files={"image": ("mine.png", drawn, "image/png")},
                data={"steps": "60"},
            )
            assert started.status_code == 202, started.text
            record = started.json()
            assert record["state"] == "queued" and record["steps"] == 60
            url = f"{live_stack.ws_url}{record['socket']}"
            socket = sockets.enter_context(
                open_socket(url, cookie=cookie, origin=live_stack.url)
            )
            events = [receive_json(socket)]
        while events[-1]["state"] not in ("done", "failed"):
            events.append(receive_json(socket, timeout=scaled(60)))
    assert events[0]["type"] == "snapshot"
    assert events[-1]["state"] == "done", events[-1]
    steps = [e["step"] for e in events if e["type"] == "progress"]
    assert steps == sorted(steps) and steps[-1] == 60
    distances = [e["distance"] for e in events if e.get("distance") is not None]
    assert distances[-1] < distances[0] and events[-1]["space"] == "w"

    final = api.get(f"/api/projections/{record['id']}").json()
    assert final["state"] == "done" and final["url"].endswith(".png")
    pair = requests.get(
        f"{live_stack.url}{final['url']}",
        headers={"Cookie": cookie},
        timeout=scaled(30),
    )
    assert pair.status_code == 200
    assert opened(pair).size == (2 * (TILE + PAD) + PAD, TILE + 2 * PAD)

    assert (
        Api(live_stack, bob).get(f"/api/projections/{record['id']}").status_code == 404
    )
    assert (
        handshake_status(url, cookie=session_cookie_for(bob), origin=live_stack.url)
        == 403
    )


def test_a_users_projection_past_the_limit_is_429_and_others_are_not_affected(
    live_stack, alice, bob
):
    """Projections waiting in the light queue count towards their owner's
    limit until they are done; another user's are their own."""
    import time

    limit = int(live_stack.env.get("GAN_USER_MAX_ACTIVE_PROJECTIONS", 3))
    apis = {alice: Api(live_stack, alice), bob: Api(live_stack, bob)}
    models = {alice: register_model(alice, "dcgan"), bob: register_model(bob, "dcgan")}

    def project(user) -> requests.Response:
        return apis[user].post(
            f"/api/models/{models[user].pk}/project",
            files={"image": ("me.png", png(), "image/png")},
            data={"steps": "1"},
        )

    with live_stack.queue_paused("light"):
        queued = [project(alice) for _ in range(limit)]
        assert [answer.status_code for answer in queued] == [202] * limit
        refused = project(alice)
        assert refused.status_code == 429
        assert "projections queued or running" in refused.json()["error"]
        assert project(bob).status_code == 202
    # Once they are done, they no longer count.
    last = queued[-1].json()["id"]
    deadline = time.monotonic() + 180
    while (state := apis[alice].get(f"/api/projections/{last}").json()["state"]) in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    deadline = time.monotonic() + 180
    while (again := project(alice)).status_code == 429:
        assert time.monotonic() < deadline, again.text
        time.sleep(0.5)
    assert again.status_code == 202
