"""Hostile job requests answer 4xx with a reason and store nothing."""

from __future__ import annotations

import pytest

from ganweb.jobs.models import Job

pytestmark = pytest.mark.django_db

TINY = {"steps": 20, "batch_size": 16, "seed": 1}
NOT_IDS = ["³", "①", "9" * 5000, "0"]  # every form: tests/ganweb/core/test_ids.py


@pytest.mark.parametrize("dataset", NOT_IDS)
@pytest.mark.parametrize("url", ["/api/jobs/", "/api/jobs/preflight"])
def test_a_dataset_id_that_is_no_number_is_400_naming_the_field(
    client, alice, url, dataset
):
    client.force_login(alice)
    body = {"dataset": dataset, "model": "gan", "config": TINY}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "dataset"
    assert len(response.json()["error"]) < 200  # not 5,000 digits echoed back
    assert not Job.objects.exists()


def test_the_job_form_refuses_a_dataset_id_that_is_no_number(client, alice):
    client.force_login(alice)
    response = client.post(
        "/jobs/new/preflight", {"dataset": "³", "model": "gan", "steps": 20}
    )
    assert response.status_code == 400
    assert "dataset" in response.json()["field"]


@pytest.mark.parametrize("url", ["/api/jobs/", "/api/jobs/preflight"])
def test_deeply_nested_json_is_400_not_a_recursion_error(client, alice, url):
    client.force_login(alice)
    for body in ("[" * 100_000, '{"config": ' + "[" * 100_000 + "]" * 100_000 + "}"):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, body[:20]
    assert not Job.objects.exists()


def test_a_json_body_over_the_memory_limit_is_refused(client, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(alice)
    body = '{"dataset": "builtin:ring8", "model": "gan", "name": "' + "x" * 20_000
    response = client.post("/api/jobs/", body + '"}', content_type="application/json")
    # Django's own check (400) when it reads the body first, ours (413) when
    # DRF streams it to the parser (ganweb.core.json_body).
    assert response.status_code in (400, 413)
    assert not Job.objects.exists()


def test_a_job_name_longer_than_the_column_is_400_and_not_stored(client, alice):
    client.force_login(alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": TINY}
    response = client.post(
        "/api/jobs/", {**body, "name": "n" * 5000}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "name"
    assert not Job.objects.exists()
    exactly = client.post(
        "/api/jobs/", {**body, "name": "n" * 200}, content_type="application/json"
    )
    assert exactly.status_code == 201
    assert Job.objects.get().name == "n" * 200


def test_the_job_service_refuses_long_names_whoever_calls_it(alice):
    from ganweb.jobs.services import JobError, job_create

    with pytest.raises(JobError, match="at most 200") as refused:
        job_create(
            owner=alice, data_ref="builtin:ring8", family="gan", config=TINY,
            name="n" * 201,
        )  # fmt: skip
    assert refused.value.field == "name"
    job = job_create(
        owner=alice, data_ref="builtin:ring8", family="gan", config=TINY,
        name="  two \x00 words  ",
    )  # fmt: skip
    assert job.name == "two words"


@pytest.mark.parametrize("job_id", ["9" * 19, "9" * 20, "9" * 400])
def test_job_ids_past_the_database_integer_are_404(client, alice, job_id):
    client.force_login(alice)
    assert client.get(f"/api/jobs/{job_id}/").status_code == 404
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 404
    assert client.get(f"/jobs/{job_id}/").status_code == 404


@pytest.mark.parametrize("step", ["²", "9" * 5000, "-1", ""])
def test_promoting_a_step_that_is_no_number_says_so(client, alice, step):
    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config={}
    )
    client.force_login(alice)
    response = client.post(
        f"/jobs/{job.pk}/checkpoints/promote", {"step": step}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["choose a checkpoint to promote"]
