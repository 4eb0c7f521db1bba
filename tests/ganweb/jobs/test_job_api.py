"""The job API validates like the trainer does, and keeps each user's jobs apart."""

import json

import pytest

from ganweb.jobs.models import Job, JobState

pytestmark = pytest.mark.django_db

TINY = {"steps": 20, "batch_size": 16, "seed": 1}


def create(client, **body):
    return client.post("/api/jobs/", body, content_type="application/json")


def test_create_job_on_builtin_data_answers_201_queued(client, alice):
    client.force_login(alice)
    response = create(client, dataset="builtin:ring8", model="gan", config=TINY)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "queued"
    job = Job.objects.get(pk=body["id"])
    assert job.owner == alice and job.total_steps == 20
    assert job.config["steps"] == 20 and job.config["batch_size"] == 16


def test_unknown_setting_is_400_naming_the_field(client, alice):
    client.force_login(alice)
    response = create(client, dataset="builtin:ring8", model="gan", config={"warp": 9})
    assert response.status_code == 400
    assert "warp" in response.json()["error"]
    assert not Job.objects.exists()


def test_out_of_range_setting_is_400_naming_the_field(client, alice):
    client.force_login(alice)
    response = create(
        client, dataset="builtin:ring8", model="gan", config={"steps": -5}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "steps"
    assert "steps" in response.json()["error"]


def test_family_that_does_not_suit_the_data_is_refused(client, alice):
    client.force_login(alice)
    response = create(client, dataset="builtin:ring8", model="dcgan", config={})
    assert response.status_code == 400
    assert response.json()["field"] == "model"


def test_unknown_family_and_unknown_builtin_are_refused(client, alice):
    client.force_login(alice)
    assert create(client, dataset="builtin:ring8", model="nope").status_code == 400
    response = create(client, dataset="builtin:nothing", model="gan")
    assert response.status_code == 400 and response.json()["field"] == "dataset"


def test_other_users_job_is_404_everywhere(client, alice, bob):
    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config=TINY
    )
    client.force_login(bob)
    assert client.get(f"/api/jobs/{job.pk}/").status_code == 404
    assert client.post(f"/api/jobs/{job.pk}/cancel").status_code == 404
    assert client.post(f"/api/jobs/{job.pk}/resume").status_code == 404
    assert client.delete(f"/api/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert client.get("/api/jobs/").json() == []
    job.refresh_from_db()
    assert job.state == JobState.QUEUED


def test_cancel_of_a_queued_job_is_immediate_and_resume_queues_it_again(client, alice):
    client.force_login(alice)
    job_id = create(client, dataset="builtin:ring8", model="gan", config=TINY).json()[
        "id"
    ]
    cancelled = client.post(f"/api/jobs/{job_id}/cancel").json()
    assert cancelled["state"] == "cancelled"
    resumed = client.post(f"/api/jobs/{job_id}/resume")
    assert resumed.status_code == 200 and resumed.json()["state"] == "queued"
    assert client.post(f"/api/jobs/{job_id}/resume").status_code == 409


def test_jobs_list_filters_by_state(client, alice):
    Job.objects.create(owner=alice, data_ref="builtin:ring8", family="gan", config={})
    Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config={}, state="finished"
    )
    client.force_login(alice)
    finished = client.get("/api/jobs/?state=finished").json()
    assert [job["state"] for job in finished] == ["finished"]
    assert len(client.get("/api/jobs/").json()) == 2


def test_expired_lease_reads_as_interrupted(client, alice):
    from datetime import timedelta

    from django.utils import timezone

    job = Job.objects.create(
        owner=alice,
        data_ref="builtin:ring8",
        family="gan",
        config={},
        state=JobState.RUNNING,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    client.force_login(alice)
    assert client.get(f"/api/jobs/{job.pk}/").json()["state"] == "interrupted"


def test_claim_is_exactly_once(alice):
    from ganweb.jobs.leases import job_claim

    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config={}
    )
    first = job_claim(job_id=job.pk, lease_owner="a", worker="w1", device="cpu")
    second = job_claim(job_id=job.pk, lease_owner="b", worker="w2", device="cpu")
    assert (first, second) == (True, False)
    job.refresh_from_db()
    assert job.lease_owner == "a" and job.attempts == 1


def test_families_catalogue_lists_settings_and_presets(client, alice):
    client.force_login(alice)
    families = {entry["name"]: entry for entry in client.get("/api/families/").json()}
    assert {"gan", "dcgan", "wgan", "wgan-gp", "sngan", "cgan"} <= set(families)
    names = {spec["name"] for spec in families["dcgan"]["settings"]}
    assert {"image_size", "batch_size", "steps", "seed"} <= names
    assert "quick" in families["dcgan"]["presets"]


def test_schema_documents_the_job_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {
        "/api/jobs/",
        "/api/jobs/{job_id}/",
        "/api/jobs/{job_id}/cancel",
        "/api/jobs/{job_id}/resume",
    } <= set(paths)


def test_a_late_worker_takes_its_job_back_until_someone_else_has_it(alice):
    """A renewal that comes after the lease ran out revives the job if it is
    still ours; once it is queued again or taken, the late worker must stop."""
    from datetime import timedelta

    from django.utils import timezone

    from ganweb.jobs.leases import job_claim, job_renew_lease, jobs_mark_interrupted

    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config={}
    )
    assert job_claim(job_id=job.pk, lease_owner="a", worker="w1", device="cpu")
    assert job_renew_lease(job_id=job.pk, lease_owner="a") == "renewed"
    assert job_renew_lease(job_id=job.pk, lease_owner="b") == "lost"

    Job.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert jobs_mark_interrupted() == 1
    job.refresh_from_db()
    assert (job.state, job.crash_count) == (JobState.INTERRUPTED, 1)
    assert job_renew_lease(job_id=job.pk, lease_owner="a") == "revived"
    job.refresh_from_db()
    assert (job.state, job.crash_count, job.error) == (JobState.RUNNING, 0, "")
    assert job.lease_expires_at > timezone.now()

    Job.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    jobs_mark_interrupted()
    # Resumed (queued again) and claimed by another worker: no longer ours.
    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    assert job_renew_lease(job_id=job.pk, lease_owner="a") == "lost"
    assert job_claim(job_id=job.pk, lease_owner="b", worker="w2", device="cpu")
    assert job_renew_lease(job_id=job.pk, lease_owner="a") == "lost"
    job.refresh_from_db()
    assert (job.state, job.lease_owner) == (JobState.RUNNING, "b")


def test_preflight_answers_503_when_no_worker_measures_in_time(client, alice, settings):
    """A probe takes seconds (a fresh process imports torch): 0.2 s is never
    enough, and the answer says to try again rather than blame the request."""
    settings.GAN_PREFLIGHT_TIMEOUT = 0.2
    client.force_login(alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": {"hidden": 33}}
    response = client.post("/api/jobs/preflight", body, content_type="application/json")
    assert response.status_code == 503
    assert "no worker measured" in response.json()["error"]
    bad = {**body, "config": {"batch_size": -1}}
    response = client.post("/api/jobs/preflight", bad, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "batch_size"


@pytest.mark.parametrize("body", [True, [1], "x", 3, {"config": [1]}, {"config": "x"}])
def test_a_body_that_is_not_an_object_is_400_everywhere(client, alice, body):
    """Found by the schema fuzzer: `true` as the body of /api/jobs/preflight
    was a 500."""
    client.force_login(alice)
    job = Job.objects.create(
        owner=alice, family="gan", data_ref="builtin:ring8", config=TINY
    )
    for url in (
        "/api/jobs/",
        "/api/jobs/preflight",
        f"/api/jobs/{job.pk}/rerun",
        f"/api/jobs/{job.pk}/promote",
    ):
        raw = json.dumps(body)
        response = client.post(url, raw, content_type="application/json")
        assert response.status_code == 400, (url, response.content[:200])
        assert response.json()["error"], url
