"""Pages and checks around transfer: an imported model says where it came
from and has no re-run; mirror is refused where there are no images."""

from __future__ import annotations

import pytest

from ganweb.jobs.models import Job, JobState

pytestmark = pytest.mark.django_db


def test_imported_model_page_names_its_file_and_refuses_a_rerun(
    client, alice, media_root
):
    job = Job.objects.create(
        owner=alice,
        name="brought in",
        data_ref="imported",
        family="dcgan",
        config={"image_size": 16},
        state=JobState.FINISHED,
        imported={"file": "faces.pt", "data": {"channels": 3, "image_size": 16}},
    )
    client.force_login(alice)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "imported from faces.pt" in page and "Re-run" not in page
    response = client.post(f"/api/jobs/{job.pk}/rerun", {}, "application/json")
    assert response.status_code == 400 and "imported" in response.json()["error"]
    assert client.get("/jobs/import/").status_code == 200
    response = client.post("/api/jobs/import", {})
    assert response.status_code == 400 and response.json()["field"] == "file"


def test_mirror_on_points_is_400_naming_the_setting(client, alice):
    client.force_login(alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": {"mirror": True}}
    response = client.post("/api/jobs/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "mirror"
