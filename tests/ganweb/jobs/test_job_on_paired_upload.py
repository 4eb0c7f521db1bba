"""A pix2pix job on a side-by-side paired upload trains through the job runner
(the dataset's paired layout reaches gan_core's loader) and translates A -> B."""

import pytest
from PIL import Image

from ganweb.datasets.models import Dataset
from ganweb.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def test_pix2pix_job_on_side_by_side_pairs(alice, media_root):
    from gan_core.sampling import load_generator
    from ganweb.datasets.services import dataset_training_path
    from ganweb.jobs.training import job_run

    dataset = Dataset.objects.create(
        owner=alice,
        name="sketches",
        state="ready",
        kind="pairs",
        paired_layout="side_by_side",
        image_count=6,
    )
    folder = dataset_training_path(dataset=dataset)
    folder.mkdir(parents=True)
    for i in range(6):
        img = Image.new("RGB", (16, 8), (40 * i, 0, 0))
        img.paste((0, 200, 0), (8, 0, 16, 8))
        img.save(folder / f"{i:06d}.png")
    config = {"image_size": 8, "batch_size": 2, "ngf": 4, "ndf": 4, "steps": 2,
              "sample_every": 2, "checkpoint_every": 2}  # fmt: skip
    job = Job.objects.create(
        owner=alice,
        data_ref=str(dataset.pk),
        dataset=dataset,
        family="pix2pix",
        config=config,
        total_steps=2,
    )
    assert job_run(job_id=job.pk, worker="test", device="cpu") == "finished"
    handle = load_generator(
        media_root / "jobs" / str(job.pk) / "checkpoints" / "latest.pt"
    )
    assert handle.kind == "pairs" and handle.image_size == 8
    assert handle.translate(Image.new("RGB", (20, 12)), mode="tile").size == (20, 12)
