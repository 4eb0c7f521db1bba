"""The checkpoint timeline through the real stack: every checkpoint measured by
a light worker, and promote choosing what the playground draws from."""

from __future__ import annotations

import time

import pytest
import torch

from ganweb.jobs.models import Checkpoint
from tests.conftest import api_token
from tests.deadlines import Deadline
from tests.ganweb.playground.tiny_models import register_model
from tests.workers.test_playground_live import Api
from tests.workers.test_training_live import (
    TINY,
    events_until,
    job_socket,
    submit,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_every_checkpoint_gets_its_grid_and_mode_coverage(live_stack, alice):
    token = api_token(live_stack.url, alice)
    job_id = submit(live_stack, token, {**TINY, "sample_every": 50})
    with job_socket(live_stack, job_id, token) as socket:
        events = events_until(socket, {"finished", "failed"})
        assert events[-1]["type"] == "finished", events[-1]
        deadline = Deadline(60)
        while Checkpoint.objects.filter(job_id=job_id, figures={}).exists():
            assert not deadline.passed, "checkpoints were never measured"
            time.sleep(0.5)
    checkpoints = list(Checkpoint.objects.filter(job_id=job_id))
    assert [c.step for c in checkpoints] == [20, 40, 60]
    for checkpoint in checkpoints:
        assert checkpoint.figures["of"] == 8, checkpoint.figures
        assert 0 <= checkpoint.figures["modes"] <= 8
        assert 0 <= checkpoint.figures["high_quality"] <= 1
    # Each checkpoint has its sample, though samples come every 50 steps.
    from ganweb.jobs.models import Job
    from ganweb.jobs.selectors import job_snapshot

    timeline = job_snapshot(Job.objects.get(pk=job_id))["checkpoints"]
    assert [entry["step"] for entry in timeline] == [20, 40, 60]
    assert all(entry["sample"].endswith(".png") for entry in timeline), timeline
    sample_steps = set(
        Job.objects.get(pk=job_id).samples.values_list("step", flat=True)
    )
    assert {20, 40, 60} <= sample_steps


def test_promote_changes_what_the_playground_samples(live_stack, alice, bob):
    from ganweb.jobs.data_sources import job_media_dir

    job = register_model(alice, "dcgan")
    folder = job_media_dir(job.pk) / "checkpoints"
    # A later checkpoint with other weights becomes the latest.
    payload = torch.load(folder / "latest.pt", weights_only=True)
    for weights in (payload["nets"]["G"], payload["ema"]):
        for name, tensor in weights.items():
            if tensor.is_floating_point():
                weights[name] = tensor + 0.3
    payload["step"] = 4
    torch.save(payload, folder / "step_0000004.pt")
    (folder / "latest.pt").unlink()
    torch.save(payload, folder / "latest.pt")

    api = Api(live_stack, alice)
    body = {"n": 4, "seed": 3}
    latest = api.action(job, "sample", **body)
    at_two = api.action(job, "sample", checkpoint=2, **body)
    assert latest.headers["X-Checkpoint-Step"] == "4"
    assert latest.content != at_two.content

    promoted = api.post(f"/api/jobs/{job.pk}/promote", json={"step": 2})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["promoted_step"] == 2
    now = api.action(job, "sample", **body)
    assert now.headers["X-Checkpoint-Step"] == "2"
    assert now.content == at_two.content

    missing = api.post(f"/api/jobs/{job.pk}/promote", json={"step": 3})
    assert missing.status_code == 400 and "no checkpoint at step 3" in missing.text
    foreign = Api(live_stack, bob).post(f"/api/jobs/{job.pk}/promote", json={"step": 4})
    assert foreign.status_code == 404

    back = api.post(f"/api/jobs/{job.pk}/promote", json={"step": None})
    assert back.json()["promoted_step"] is None
    assert api.action(job, "sample", **body).content == latest.content


def test_preflight_measures_on_a_worker_and_caches_per_configuration(live_stack, alice):
    import random

    api = Api(live_stack, alice)
    # A width no earlier run measured: the cache may outlive a test session.
    hidden, z_dim = random.randint(40, 400), random.randint(2, 64)
    body = {
        "dataset": "builtin:ring8",
        "model": "gan",
        "config": {"steps": 1000, "batch_size": 256, "hidden": hidden, "z_dim": z_dim},
    }
    first = api.post("/api/jobs/preflight", json=body)
    assert first.status_code == 200, first.text
    estimate = first.json()
    assert estimate["cached"] is False and estimate["device"] == "cpu"
    assert 0 < estimate["step_seconds"] < 5
    assert estimate["duration_seconds"] == pytest.approx(
        estimate["step_seconds"] * 1000
    )
    assert estimate["fits"] is True and estimate["suggested_batch_size"] is None
    assert 100 << 20 < estimate["peak_bytes"] < estimate["available_bytes"]

    # Another step count costs the same per step: answered from the cache.
    longer = api.post(
        "/api/jobs/preflight",
        json={**body, "config": {**body["config"], "steps": 5000}},
    ).json()
    assert longer["cached"] is True
    assert longer["step_seconds"] == estimate["step_seconds"]
    assert longer["duration_seconds"] == pytest.approx(5 * estimate["duration_seconds"])

    bad = api.post("/api/jobs/preflight", json={**body, "config": {"batch_size": 0}})
    assert bad.status_code == 400 and "batch_size" in bad.json()["error"]
