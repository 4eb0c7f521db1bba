"""A job's device count: its queue, its checks, the form's offer, the devices
a worker owns. (A job really trained on two ranks: tests/workers/
test_multi_device_live.py.)"""

from __future__ import annotations

import re

import pytest
import redis
import torch
from django.conf import settings
from django.core.cache import cache

from ganweb.jobs.devices_online import OFFER_KEY
from ganweb.jobs.models import Job
from workers.queues import is_training_queue, training_queue, training_queues

TINY = {"steps": 20, "batch_size": 16, "seed": 1}


def test_each_device_count_has_its_queue_and_a_worker_serves_all_up_to_its_own():
    assert training_queue(1) == "training" and training_queue(4) == "training-4"
    assert training_queues(3) == ["training", "training-2", "training-3"]
    assert training_queues(1) == ["training"]
    assert is_training_queue("training-12") and is_training_queue("training")
    assert not is_training_queue("light") and not is_training_queue("training-x")


def test_worker_devices_come_from_gan_worker_devices(monkeypatch):
    from workers import device

    def fresh():
        for f in (device.worker_devices, device.worker_device):
            f.cache_clear()
        return device.worker_devices()

    try:
        monkeypatch.setenv("GAN_WORKER_DEVICES", " cpu, cpu ")
        assert fresh() == ("cpu", "cpu")
        assert device.worker_device() == "cpu"
        monkeypatch.setenv("GAN_WORKER_DEVICES", "all")  # every GPU it sees
        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            assert fresh() == tuple(f"cuda:{i}" for i in range(count))
        else:
            with pytest.raises(device.WorkerDevicesError, match="found no CUDA"):
                fresh()
        monkeypatch.delenv("GAN_WORKER_DEVICES")
        monkeypatch.setenv("GAN_WORKER_DEVICE", "cpu")
        assert fresh() == ("cpu",)  # one device, as before
    finally:
        monkeypatch.undo()
        fresh()


@pytest.mark.django_db
def test_a_two_device_job_is_sent_to_the_training_2_queue(alice):
    from ganweb.core.broker import first_args_waiting
    from ganweb.jobs.services import job_send

    job = Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config=TINY, gpus=2
    )
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("training-2")
    try:
        assert job_send(job_id=job.pk)
        task = "workers.tasks.training.train_job"
        assert job.pk in first_args_waiting(queue="training-2", task_name=task)
        assert job.pk not in first_args_waiting(queue="training", task_name=task)
    finally:
        client.delete("training-2")


@pytest.mark.django_db
def test_gpus_that_no_worker_owns_or_not_a_count_is_400(client, alice):
    client.force_login(alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": TINY}
    for gpus, said in ((64, "no online training worker owns 64 devices"), (0, "")):
        response = client.post(
            "/api/jobs/", {**body, "gpus": gpus}, content_type="application/json"
        )
        assert response.status_code == 400, response.json()
        assert response.json()["field"] == "gpus" and said in response.json()["error"]
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_one_device_is_the_default_and_needs_no_worker_online(client, alice):
    client.force_login(alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": TINY}
    response = client.post("/api/jobs/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["gpus"] == 1 and Job.objects.get().gpus == 1


@pytest.mark.django_db
def test_the_form_offers_up_to_the_devices_of_online_workers(client, alice):
    client.force_login(alice)
    cache.set(OFFER_KEY, 3, 60)  # what the broadcast found a moment ago
    try:
        page = client.get("/jobs/new/?dataset=builtin:ring8&model=gan")
    finally:
        cache.delete(OFFER_KEY)
    html = page.content.decode()
    basic = html.split('class="basic-settings"')[1].split("</fieldset>")[0]
    select = re.search(r'<select name="gpus"[^>]*>(.*?)</select>', basic, re.S)
    assert select, "no devices field in the Basic block"
    values = re.findall(r'<option value="(\d+)"', select.group(1))
    assert values == ["1", "2", "3"]
    assert "devices" in basic


def test_ranks_see_the_workers_gpus_in_rank_order(monkeypatch):
    from ganweb.jobs.multi_device import _visible_devices

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert _visible_devices(["cuda:2", "cuda:5"]) == "2,5"
    # A worker started with its own list: its cuda:1 is the list's second.
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6,7")
    assert _visible_devices(["cuda:1", "cuda:2"]) == "6,7"
