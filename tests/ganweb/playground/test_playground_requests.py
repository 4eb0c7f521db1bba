"""The playground API refuses bad requests before any worker is asked."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ganweb.jobs.data_sources import job_media_dir
from ganweb.jobs.models import Job
from ganweb.playground.params import PlaygroundError, playground_params
from ganweb.playground.services import upload_image

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_long_waits(settings):
    settings.GAN_PLAYGROUND_TIMEOUT = 2  # Nothing here should reach a worker.


def post(client, job, action, body):
    return client.post(
        f"/api/models/{job.pk}/{action}", body, content_type="application/json"
    )


@pytest.mark.parametrize(
    "action,body,field",
    [
        ("sample", {"n": 0}, "n"),
        ("sample", {"n": 5000}, "n"),
        ("sample", {"seed": -1}, "seed"),
        ("sample", {"truncation": "lots"}, "truncation"),
        ("sample", {"generator": "best"}, "generator"),
        ("interpolate", {"seed_a": 1}, "seed_b"),
        ("interpolate", {"seed_a": 1, "seed_b": 2, "steps": 1}, "steps"),
        ("interpolate", {"seed_a": 1, "seed_b": 2, "space": "q"}, "space"),
        ("interpolate", {"seed_a": 1, "seed_b": 2, "format": "mp4"}, "format"),
        ("style-mix", {"layers": "sideways"}, "layers"),
        ("style-mix", {"layers": [1, True]}, "layers"),
        ("style-mix", {"row_seeds": list(range(9))}, "row_seeds"),
        ("style-mix", {"col_seeds": []}, "col_seeds"),
    ],
)
def test_bad_values_answer_400_naming_the_field(
    client, alice, model, action, body, field
):
    client.force_login(alice)
    response = post(client, model, action, body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{field}:")


def test_clients_asking_for_images_still_get_json_errors(client, alice, model):
    client.force_login(alice)
    response = client.post(
        f"/api/models/{model.pk}/sample",
        {"n": 0},
        content_type="application/json",
        HTTP_ACCEPT="image/png",
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("n:")


def test_translate_needs_an_image_and_a_known_direction(client, alice, model):
    client.force_login(alice)
    url = f"/api/models/{model.pk}/translate"
    assert client.post(url, {"direction": "AtoB"}).status_code == 400
    upload = SimpleUploadedFile("a.png", b"x", content_type="image/png")
    response = client.post(url, {"direction": "sideways", "image": upload})
    assert response.status_code == 400 and "direction" in response.json()["error"]


def test_other_users_and_missing_models_are_404(client, bob, model):
    client.force_login(bob)
    for action in ("sample", "interpolate", "style-mix", "class-grid"):
        response = post(client, model, action, {})
        assert response.status_code == 404
        assert response.json() == {"error": "no such model"}
    assert client.get(f"/playground/{model.pk}/").status_code == 404
    assert client.get(f"/playground/{model.pk}/checkpoint").status_code == 404
    assert post(client, model, "sample", {"n": 1}).status_code == 404


def test_job_without_checkpoint_is_not_a_model_yet(client, alice):
    job = Job.objects.create(
        owner=alice, data_ref="builtin:shapes", family="dcgan", config={}
    )
    shutil.rmtree(job_media_dir(job.pk), ignore_errors=True)
    client.force_login(alice)
    assert post(client, job, "sample", {"n": 1}).status_code == 404
    page = client.get(f"/playground/{job.pk}/")
    assert page.status_code == 404 and b"no checkpoint yet" in page.content


def test_checkpoint_downloads_for_its_owner(client, alice, model):
    client.force_login(alice)
    response = client.get(f"/playground/{model.pk}/checkpoint")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"not loaded in these tests"
    assert client.get(f"/playground/{model.pk}/checkpoint?step=9").status_code == 404
    assert client.get(f"/playground/{model.pk}/checkpoint?step=../x").status_code == 404


def test_schema_documents_every_playground_and_gallery_route(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for action in ("sample", "class-grid", "interpolate", "style-mix", "translate"):
        operation = paths[f"/api/models/{{job_id}}/{action}"]["post"]
        assert "400" in operation["responses"] and "404" in operation["responses"]
    sample = paths["/api/models/{job_id}/sample"]["post"]
    assert "image/png" in sample["responses"]["200"]["content"]
    interpolate = paths["/api/models/{job_id}/interpolate"]["post"]
    assert {"image/gif", "image/webp"} <= set(
        interpolate["responses"]["200"]["content"]
    )
    translate = paths["/api/models/{job_id}/translate"]["post"]
    assert "multipart/form-data" in translate["requestBody"]["content"]
    assert "/api/galleries/{gallery_id}/share" in paths


def image_upload(size, fmt="PNG", name="upload.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue())


def test_uploads_are_decoded_by_content_not_by_name(settings):
    png = upload_image(file=image_upload((12, 7), "JPEG", name="really.png"))
    assert Image.open(io.BytesIO(png)).size == (12, 7)
    with pytest.raises(PlaygroundError, match="not an image"):
        upload_image(file=SimpleUploadedFile("x.png", b"<svg></svg>"))
    settings.GAN_PLAYGROUND_MAX_PIXELS = 100
    with pytest.raises(PlaygroundError, match="limit"):
        upload_image(file=image_upload((20, 20)))


def test_layer_choices_become_groups_or_index_lists():
    def layers(value):
        return playground_params(action="style-mix", data={"layers": value})["layers"]

    assert layers("Coarse") == "coarse"
    assert layers("2-4") == [2, 3, 4]
    assert layers([5, 1, 5]) == [1, 5]
    with pytest.raises(PlaygroundError):
        layers("4-2")


def png_of_size(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 40, 160)).save(out, format="PNG")
    return out.getvalue()


def test_a_one_pixel_high_strip_is_refused_before_any_worker_is_asked(
    client, alice, model
):
    """1x4,000,000 passes the pixel limit, but a tiled translation of it held
    a worker for 376 s and 3.4 GB: its shape is refused from the header."""
    client.force_login(alice)
    strip = png_of_size(4_000_000, 1)
    upload = SimpleUploadedFile("strip.png", strip, content_type="image/png")
    response = client.post(
        f"/api/models/{model.pk}/translate",
        {"direction": "AtoB", "mode": "tile", "image": upload},
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "image is 4000000x1 pixels: its long side may be at most 32 times "
        "its short side"
    )


@pytest.mark.parametrize(
    "width,height,refused",
    [(64, 2, False), (65, 2, True), (2, 64, False), (2, 65, True), (1, 1, False)],
)
def test_uploads_longer_than_32_times_their_width_are_refused(width, height, refused):
    upload = SimpleUploadedFile("a.png", png_of_size(width, height))
    if refused:
        with pytest.raises(PlaygroundError, match="at most 32 times"):
            upload_image(file=upload)
    else:
        assert Image.open(io.BytesIO(upload_image(file=upload))).size == (
            width,
            height,
        )
