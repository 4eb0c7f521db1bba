"""A rollback by the divergence watchdog reaches the job's history: the steps
being redone leave the charts, and the job records what happened for any
viewer, live or arriving later."""

import pytest

from gan_core.events import RollbackEvent
from ganweb.jobs.models import Job, MetricPoint, Sample
from ganweb.jobs.progress import ProgressForwarder
from ganweb.jobs.selectors import job_snapshot

pytestmark = pytest.mark.django_db


def test_a_rollback_drops_the_redone_history_and_is_recorded(alice):
    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config={}, step=25
    )
    for step in (5, 10, 15, 20, 22, 25):
        MetricPoint.objects.create(job=job, step=step, values={"loss_d": 1.0})
    for step in (10, 20, 25):
        Sample.objects.create(job=job, step=step, image=f"/s/{step}.png", payload={})
    forward = ProgressForwarder(job.pk, media_prefix=f"/jobs/{job.pk}/files")

    forward(
        RollbackEvent(
            step=20,
            from_step=25,
            reason="G loss is nan",
            lr_scale=0.5,
            rollbacks_left=2,
        )
    )

    job.refresh_from_db()
    assert job.step == 20
    assert job.rollbacks == [
        {"from_step": 25, "step": 20, "reason": "G loss is nan", "lr_scale": 0.5}
    ]
    snapshot = job_snapshot(job)
    assert [p["step"] for p in snapshot["points"]] == [5, 10, 15, 20]
    assert [s["step"] for s in snapshot["samples"]] == [10, 20]
    assert snapshot["job"]["rollbacks"] == job.rollbacks

    forward(
        RollbackEvent(
            step=10,
            from_step=18,
            reason="D loss is inf",
            lr_scale=0.25,
            rollbacks_left=1,
        )
    )
    job.refresh_from_db()
    assert [r["step"] for r in job.rollbacks] == [20, 10]
