"""Two uploads of one user at once cannot both pass the user's budget.

Each upload fits the user's pixel budget alone, not both together. Nothing is
queued for processing: once the session's live stack runs, its light worker
would take the first dataset, fail to find its files (they are under this
test's media folder, not the stack's) and mark it failed, and a failed
dataset counts nothing, so the second would pass for that reason, not the
race's. The first is held inside its transaction, just after its budget
check, until the second has passed its own check too, or HOLD_S have gone by.
Without a lock on the owner's row, PostgreSQL lets the second read the budget
while the first row is uncommitted: both pass and both are stored. With it,
the second waits for the first to commit, reads its row and is refused. On
SQLite the second waits at BEGIN IMMEDIATE instead. On the real database,
with real threads.
"""

from __future__ import annotations

import threading

import pytest

from ganweb.datasets import services
from ganweb.datasets.models import Dataset
from tests.ganweb.datasets.dataset_builders import flat_members, make_zip
from tests.ganweb.datasets.upload_threads import upload_in_thread

WAIT_S = 120  # for a busy machine
IMAGES = 5
HOLD_S = 5  # the first upload waits this long for the second to pass (it must not)


@pytest.fixture
def first_check_held(monkeypatch):
    """The first budget check to return waits for the next one to return."""
    first_done, second_done = threading.Event(), threading.Event()
    real = services._check_budget

    def held(*args, **kwargs):
        real(*args, **kwargs)
        if not first_done.is_set():
            first_done.set()
            second_done.wait(HOLD_S)
        else:
            second_done.set()

    monkeypatch.setattr(services, "_check_budget", held)
    return first_done, second_done


@pytest.fixture
def queued(monkeypatch):
    """The ids the uploads queue for processing, kept here instead."""
    ids = []
    monkeypatch.setattr(services, "enqueue_processing", ids.append)
    return ids


@pytest.mark.django_db(transaction=True)
def test_two_uploads_at_once_cannot_both_pass_the_users_budget(
    alice, media, settings, first_check_held, queued
):
    first_done, second_done = first_check_held
    archives = [
        make_zip(media / f"{name}.zip", flat_members(IMAGES, prefix=name))
        for name in ("one", "two")
    ]
    pixels = IMAGES * 8 * 8  # flat_members' images are 8 x 8
    settings.GAN_DATASET_MAX_USER_PIXELS = pixels * 3 // 2  # one fits, not two
    one, two = {}, {}
    first = upload_in_thread(alice, archives[0], "one", one)
    assert first_done.wait(WAIT_S), one
    second = upload_in_thread(alice, archives[1], "two", two)
    first.join(WAIT_S)
    second.join(WAIT_S)
    assert not second_done.is_set(), "the second upload passed its budget check"
    assert "dataset" in one, one
    refused = two.get("error")
    assert isinstance(refused, services.DatasetRejected), two
    assert "too many pixels for your account" in str(refused)
    assert list(Dataset.objects.values_list("name", flat=True)) == ["one"]
    assert queued == [one["dataset"].pk]
