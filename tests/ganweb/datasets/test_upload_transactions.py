"""No slow work inside a transaction: while an upload is being inspected,
other people's writes and a running job's progress go through.

On SQLite a transaction holds the one write lock of the whole database. The
inspection used to run inside ``transaction.atomic()``: every other write
waited for it, and failed with "database is locked" after 30 s. Here the
inspection is held open (the real one runs once released), and bob's gallery
write and his job's progress write (what the training worker calls) must
succeed meanwhile, on the real database with its real locking.
"""

from __future__ import annotations

import threading

import pytest
from django.core.files import File

from ganweb.datasets import ingest, services
from ganweb.datasets.models import Dataset, DatasetState
from tests.ganweb.datasets.dataset_builders import flat_members, make_zip
from tests.ganweb.datasets.upload_threads import upload_in_thread

WAIT_S = 120  # for a busy machine; a held lock fails the writes after 30 s


@pytest.fixture
def inspection_held(monkeypatch):
    """inspect_archive waits, once started, until the test releases it."""
    started, release = threading.Event(), threading.Event()
    real = ingest.inspect_archive

    def held(*args, **kwargs):
        started.set()
        if not release.wait(WAIT_S):
            raise AssertionError("the test never released the inspection")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "inspect_archive", held)
    yield started, release
    release.set()


@pytest.mark.django_db(transaction=True)
def test_other_writes_go_through_while_an_upload_is_inspected(
    alice, bob, media, inspection_held
):
    from ganweb.gallery.models import Gallery
    from ganweb.gallery.services import gallery_create
    from ganweb.jobs.models import Job, MetricPoint
    from ganweb.jobs.progress import ProgressForwarder

    job = Job.objects.create(
        owner=bob,
        name="running",
        data_ref="builtin:ring8",
        family="gan",
        config={"steps": 10},
        state="running",
        total_steps=10,
    )
    started, release = inspection_held
    outcome: dict = {}
    archive = make_zip(media / "up.zip", flat_members(5))
    thread = upload_in_thread(alice, archive, "slow", outcome)
    try:
        assert started.wait(WAIT_S), outcome.get("error")
        gallery_create(owner=bob, title="made meanwhile")
        forward = ProgressForwarder(job.pk, media_prefix=f"/jobs/{job.pk}/files")
        forward({"type": "started", "total_steps": 10, "start_step": 0})
        forward({"type": "step", "step": 10, "total_steps": 10, "losses": {"g": 0.5}})
        assert not outcome, "the upload ended before it was released"
    finally:
        release.set()
        thread.join(WAIT_S)
    assert "error" not in outcome, outcome.get("error")
    assert Gallery.objects.filter(owner=bob, title="made meanwhile").exists()
    job.refresh_from_db()
    assert job.step == 10
    assert MetricPoint.objects.filter(job=job, step=10).exists()
    dataset = Dataset.objects.get(pk=outcome["dataset"].pk)
    # Accepted and queued (a live worker of the session may already have it).
    assert dataset.kind == "images" and dataset.state != DatasetState.FAILED


@pytest.mark.django_db(transaction=True)
def test_a_refused_upload_leaves_no_staging_folder(alice, media):
    archive = make_zip(media / "few.zip", flat_members(2))
    with open(archive, "rb") as fh, pytest.raises(services.DatasetRejected):
        services.dataset_ingest(
            owner=alice, name="few", archive=File(fh, name="few.zip")
        )
    incoming = media / "media" / "datasets" / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []
    assert not Dataset.objects.exists()
