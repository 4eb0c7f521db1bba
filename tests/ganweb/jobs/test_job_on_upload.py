"""A job on an uploaded class dataset trains with the classes' real names."""

import pytest
from PIL import Image

from ganweb.datasets.models import Dataset
from ganweb.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def make_class_folders(root, names_on_disk, count=8, size=16):
    for index, folder in enumerate(names_on_disk):
        (root / folder).mkdir(parents=True)
        for i in range(count):
            shade = (index * 120 + i * 3) % 256
            Image.new("RGB", (size, size), (shade, 255 - shade, 64)).save(
                root / folder / f"{i:04d}.png"
            )


def test_cgan_on_an_upload_uses_the_uploaded_class_names(alice, media_root):
    from gan_core.sampling import load_generator
    from ganweb.datasets.services import dataset_training_path
    from ganweb.jobs.training import job_run

    dataset = Dataset.objects.create(
        owner=alice,
        name="pets",
        state="ready",
        kind="classes",
        image_count=16,
        classes={"cats": 8, "dogs": 8},
        stats={"class_names": ["cats", "dogs"]},
    )
    make_class_folders(dataset_training_path(dataset=dataset), ["0000", "0001"])
    config = {
        "image_size": 16,
        "batch_size": 8,
        "steps": 2,
        "sample_every": 2,
        "checkpoint_every": 2,
    }
    job = Job.objects.create(
        owner=alice,
        data_ref=str(dataset.pk),
        dataset=dataset,
        family="cgan",
        config=config,
        total_steps=2,
    )
    assert job_run(job_id=job.pk, worker="test", device="cpu") == "finished"
    handle = load_generator(
        media_root / "jobs" / str(job.pk) / "checkpoints" / "latest.pt"
    )
    assert handle.class_names == ("cats", "dogs")
    assert handle.sample(4, seed=0, labels="dogs").shape == (4, 3, 16, 16)
