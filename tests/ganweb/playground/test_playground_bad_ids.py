"""Ids in playground URLs that are not ASCII digits are "no such thing", never 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

NOT_IDS = ["²", "①", "9" * 5000]  # every form: tests/ganweb/core/test_ids.py


@pytest.fixture(autouse=True)
def _no_long_waits(settings):
    settings.GAN_PLAYGROUND_TIMEOUT = 0.5  # the page's describe call: no worker


@pytest.mark.parametrize("step", NOT_IDS)
def test_checkpoint_download_of_a_step_that_is_no_number_is_404(
    client, alice, model, step
):
    client.force_login(alice)
    response = client.get(f"/playground/{model.pk}/checkpoint", {"step": step})
    assert response.status_code == 404


def test_checkpoint_download_by_step_still_works(client, alice, model):
    client.force_login(alice)
    response = client.get(f"/playground/{model.pk}/checkpoint", {"step": "2"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"step two"
    assert "-step0000002.pt" in response["Content-Disposition"]


@pytest.mark.parametrize("remix", NOT_IDS)
def test_remix_of_an_item_id_that_is_no_number_opens_the_plain_page(
    client, alice, model, remix
):
    client.force_login(alice)
    response = client.get(f"/playground/{model.pk}/", {"remix": remix})
    assert response.status_code == 200
    assert response.context["remix"] is None


@pytest.mark.parametrize("job_id", ["9" * 19, "9" * 20, "9" * 400])
def test_model_ids_past_the_database_integer_are_404(client, alice, job_id):
    client.force_login(alice)
    assert client.get(f"/playground/{job_id}/").status_code == 404
    assert client.get(f"/api/models/{job_id}").status_code == 404
    response = client.post(
        f"/api/models/{job_id}/sample", {}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("action", ["sample", "interpolate", "style-mix"])
def test_deeply_nested_json_to_a_playground_call_is_400(client, alice, model, action):
    client.force_login(alice)
    body = '{"seed": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(
        f"/api/models/{model.pk}/{action}", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]  # DRF's ParseError
