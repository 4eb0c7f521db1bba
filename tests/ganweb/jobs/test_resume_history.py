"""A resume after a lost worker continues from the checkpoint before the loss:
what the lost attempt recorded past it is dropped from the history, and live
viewers are told with a ``rewind`` event (the socket of a real daphne).

(The whole path, a worker killed between checkpoints and the job resumed,
is tests/workers/test_job_survival.py.)
"""

from __future__ import annotations

import pytest

from gan_core.events import StartedEvent
from ganweb.jobs.models import Job, MetricPoint, Sample
from ganweb.jobs.progress import ProgressForwarder, event_publisher
from tests.conftest import api_token
from tests.workers.test_training_live import events_until, job_socket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def lost_attempt(owner) -> Job:
    """A job whose worker died at step 107, 7 steps past its checkpoint at 100."""
    job = Job.objects.create(
        owner=owner,
        data_ref="builtin:ring8",
        family="gan",
        config={"steps": 200},
        total_steps=200,
        state="queued",
        step=107,
    )
    MetricPoint.objects.bulk_create(
        MetricPoint(job=job, step=step, values={"loss_d": 1.0 / step})
        for step in range(1, 108)
    )
    Sample.objects.bulk_create(Sample(job=job, step=step) for step in (50, 100, 105))
    return job


def test_a_resume_drops_the_lost_steps_and_live_viewers_see_a_rewind(live_stack, alice):
    job = lost_attempt(alice)
    token = api_token(live_stack.url, alice)
    with job_socket(live_stack, job.pk, token) as socket:
        snapshot = events_until(socket, {"snapshot"})[-1]
        assert snapshot["points"][-1]["step"] == 107  # what the page had drawn
        forwarder = ProgressForwarder(job.pk, media_prefix=f"/jobs/{job.pk}/files")
        forwarder(
            StartedEvent(family="gan", total_steps=200, start_step=100, device="cpu")
        )
        event_publisher().flush()
        events = events_until(socket, {"started"})
    rewinds = [event for event in events if event["type"] == "rewind"]
    assert [event["step"] for event in rewinds] == [100]
    steps = list(job.points.values_list("step", flat=True))
    assert steps == list(range(1, 101))
    assert list(job.samples.values_list("step", flat=True)) == [50, 100]
    job.refresh_from_db()
    assert job.step == 100


def test_a_fresh_start_rewinds_nothing(live_stack, alice):
    job = lost_attempt(alice)
    forwarder = ProgressForwarder(job.pk, media_prefix=f"/jobs/{job.pk}/files")
    forwarder(StartedEvent(family="gan", total_steps=200, start_step=0, device="cpu"))
    assert job.points.count() == 107
