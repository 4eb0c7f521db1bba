"""Latent-edit requests refused before any worker is asked, and the schema."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_long_waits(settings):
    settings.GAN_PLAYGROUND_TIMEOUT = 2  # Nothing here should reach a worker.
    settings.GAN_DIRECTIONS_TIMEOUT = 2


def post(client, job, body, raw=False):
    import json

    data = body if raw else json.dumps(body)
    return client.post(
        f"/api/models/{job.pk}/edit", data, content_type="application/json"
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"direction": 20, "alpha": 1}, "direction"),
        ({"direction": -1, "alpha": 1}, "direction"),
        ({"alpha": 10.5}, "alpha"),
        ({"alpha": -11}, "alpha"),
        ({"alpha": "lots"}, "alpha"),
        ({"alphas": [0.0] * 21}, "alphas"),
        ({"alphas": [1.0, 99.0]}, "1"),  # first_error names the list's element
        ({"layers": "sideways"}, "layers"),
        ({"seed": -1}, "seed"),
        ({"projection": "../../etc"}, "projection"),
    ],
)
def test_bad_edit_values_answer_400_naming_the_field(client, alice, model, body, field):
    client.force_login(alice)
    response = post(client, model, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"].startswith(f"{field}:")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_an_alpha_that_is_not_finite_answers_400(client, alice, model, literal):
    from ganweb.playground.params import PlaygroundError, playground_params

    client.force_login(alice)
    assert post(client, model, f'{{"alpha": {literal}}}', raw=True).status_code == 400
    # The JSON parser refuses the literal; a value that got past it (a gallery
    # save validates the same parameters) is refused by the field.
    value = float(literal.lower().replace("infinity", "inf"))
    for data in ({"alpha": value}, {"alphas": [0.0, value]}):
        with pytest.raises(PlaygroundError, match="valid number"):
            playground_params(action="edit", data=data)


def test_bad_query_values_for_directions_answer_400(client, alice, model):
    client.force_login(alice)
    response = client.get(f"/api/models/{model.pk}/directions?generator=best")
    assert response.status_code == 400
    assert response.json()["error"].startswith("generator:")


def test_another_users_model_has_no_directions(client, bob, model):
    client.force_login(bob)
    assert client.get(f"/api/models/{model.pk}/directions").status_code == 404
    assert post(client, model, {"alpha": 1}).status_code == 404


def test_the_schema_documents_directions_and_edit(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    assert "get" in paths["/api/models/{job_id}/directions"]
    edit = paths["/api/models/{job_id}/edit"]["post"]
    assert "image/png" in edit["responses"]["200"]["content"]
    body = edit["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert {"direction", "alpha", "alphas", "layers", "projection"} <= set(fields)
    assert fields["alpha"]["maximum"] == 10 and fields["alpha"]["minimum"] == -10
