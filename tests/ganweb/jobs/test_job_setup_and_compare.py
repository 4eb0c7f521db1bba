"""The job form opens on what the data suggests; runs compare side by side,
only one's own; pages name the data, not its id."""

from __future__ import annotations

import re

import pytest

from ganweb.datasets.models import Dataset
from ganweb.jobs.models import Job, MetricPoint, Sample

pytestmark = pytest.mark.django_db


def ready_set(owner, *, kind: str, side: int, count: int, name="photos") -> Dataset:
    """A processed dataset row as ingest leaves it (counts and size stats)."""
    low = 1 << (side.bit_length() - 1)
    label = f"{low}-{2 * low - 1} px"
    return Dataset.objects.create(
        owner=owner,
        name=name,
        state="ready",
        kind=kind,
        image_count=count,
        classes={"a": count // 2, "b": count - count // 2} if kind == "classes" else {},
        stats={
            "width": {"min": side, "max": side, "mean": side},
            "height": {"min": side, "max": side, "mean": side},
            "size_histogram": [{"label": label, "count": count}],
        },
    )


def form_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no {name} field"
    return match.group(1)


SUGGESTIONS = [  # kind, shorter side, images -> family, image size
    ("images", 64, 200, "dcgan", "64"),
    ("images", 300, 5000, "stylegan2", "256"),
    ("classes", 48, 40, "cgan", "32"),
    ("domains", 100, 40, "cyclegan", "64"),
]


def test_the_form_opens_on_the_family_size_and_steps_the_data_suggest(client, alice):
    client.force_login(alice)
    for kind, side, count, family, size in SUGGESTIONS:
        dataset = ready_set(alice, kind=kind, side=side, count=count)
        page = client.get(f"/jobs/new/?dataset={dataset.pk}").content.decode()
        assert form_value(page, "model") == family, kind
        assert form_value(page, "image_size") == size, (kind, side)
        assert re.search(r'aria-current="page" class="current" data-recommended', page)
    dataset = ready_set(alice, kind="images", side=64, count=3200)
    page = client.get(f"/jobs/new/?dataset={dataset.pk}").content.decode()
    # 20 passes over 3,200 images at the quick preset's batch of 64.
    assert form_value(page, "steps") == "1000"
    clicked = client.get(f"/jobs/new/?dataset={dataset.pk}&model=dcgan&preset=quick")
    assert form_value(clicked.content.decode(), "image_size") == "32"


def test_the_form_keeps_advanced_apart_and_the_job_its_name_and_note(client, alice):
    from ganweb.jobs import services

    client.force_login(alice)
    page = client.get("/jobs/new/?dataset=builtin:digits").content.decode()
    basic, advanced = page.split('id="advanced-settings"', 1)
    for name in ("name", "note", "image_size", "steps", "precision"):
        assert f'name="{name}"' in basic
    for name in ("beta1", "loss_limit", "collapse_ratio", "lr_g"):
        assert f'name="{name}"' in advanced and f'name="{name}"' not in basic
    assert "<details" in basic[-200:] and " open" not in advanced[:40]

    job = services.job_create(
        owner=alice,
        data_ref="builtin:ring8",
        family="gan",
        config={"steps": 10},
        name="ring, lower lr",
        note="  does a lower lr stop the collapse?  ",
    )
    assert (job.name, job.note) == (
        "ring, lower lr",
        "does a lower lr stop the collapse?",
    )
    assert (
        "does a lower lr stop the collapse?"
        in client.get(f"/jobs/{job.pk}/").content.decode()
    )
    with pytest.raises(services.JobError, match="note: at most"):
        services.job_note_clean("x" * 2001)
    request = {"dataset": "builtin:ring8", "model": "gan", "config": {"steps": 10}}
    created = client.post(
        "/api/jobs/",
        {**request, "note": "via the API"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["note"] == "via the API"
    too_long = client.post(
        "/api/jobs/", {**request, "note": "x" * 2001}, content_type="application/json"
    )
    assert too_long.status_code == 400 and too_long.json()["field"] == "note"


def finished_job(owner, *, lr: float, name: str, data_ref="builtin:ring8") -> Job:
    job = Job.objects.create(
        owner=owner,
        name=name,
        data_ref=data_ref,
        family="gan",
        config={"steps": 40, "lr_g": lr, "batch_size": 64},
        total_steps=40,
        step=40,
        state="finished",
    )
    MetricPoint.objects.bulk_create(
        MetricPoint(job=job, step=s, values={"loss_d": 1.0 + s / 100, "d_real": 0.6})
        for s in range(1, 41)
    )
    Sample.objects.create(job=job, step=40, image=f"/jobs/{job.pk}/files/s40.png")
    return job


def test_compare_shows_both_runs_and_what_differs(client, alice):
    first = finished_job(alice, lr=2e-4, name="slow")
    second = finished_job(alice, lr=1e-3, name="fast")
    client.force_login(alice)
    response = client.get(f"/jobs/compare/?ids={first.pk},{second.pk}")
    assert response.status_code == 200
    page = response.content.decode()
    row = re.search(r'<tr class="differs"><th scope="row">lr_g</th>(.*?)</tr>', page)
    assert row and "0.0002" in row.group(1) and "0.001" in row.group(1)
    assert '<tr class="same"><th scope="row">batch_size</th>' in page
    assert f"/jobs/{first.pk}/files/s40.png" in page
    assert f"/jobs/{second.pk}/files/s40.png" in page


def test_compare_hides_other_peoples_jobs_and_asks_for_two_to_five(client, alice, bob):
    mine = finished_job(alice, lr=2e-4, name="mine")
    other = finished_job(alice, lr=1e-3, name="other")
    client.force_login(bob)
    assert client.get(f"/jobs/compare/?ids={mine.pk},{other.pk}").status_code == 404
    bobs = finished_job(bob, lr=1e-3, name="bob's")
    # One foreign id among his own: the same 404 as a missing one.
    assert client.get(f"/jobs/compare/?ids={bobs.pk},{mine.pk}").status_code == 404
    assert client.get(f"/jobs/compare/?ids={bobs.pk},99999").status_code == 404
    alone = client.get(f"/jobs/compare/?ids={bobs.pk}", follow=True)
    assert "choose 2 to 5 jobs" in alone.content.decode()
    assert client.get("/jobs/compare/?ids=1,²").status_code == 302


def test_pages_name_the_data_not_its_id(client, alice):
    dataset = ready_set(alice, kind="images", side=64, count=10, name="Faces 64")
    job = Job.objects.create(
        owner=alice,
        name="dcgan run",
        data_ref=str(dataset.pk),
        dataset=dataset,
        family="dcgan",
        config={},
    )
    client.force_login(alice)
    for url in ("/jobs/", f"/playground/{job.pk}/"):
        page = client.get(url).content.decode()
        assert "Faces 64" in page, url
        assert f"dcgan on {dataset.pk} " not in page, url


@pytest.mark.django_db(False)
def test_the_size_is_one_that_nine_in_ten_images_reach():
    from types import SimpleNamespace

    from ganweb.jobs.recommend import supported_side

    def side(*rows):
        stats = {"size_histogram": [{"label": lab, "count": n} for lab, n in rows]}
        dataset = SimpleNamespace(stats=stats)
        return supported_side(SimpleNamespace(dataset=dataset, kind="images"))

    # A few small outliers are upscaled; a fifth of them is too many.
    assert side(("32-63 px", 5), ("64-127 px", 0), ("128-255 px", 95)) == 128
    assert side(("32-63 px", 20), ("64-127 px", 0), ("128-255 px", 80)) == 32
    assert side(("1024-2047 px", 3), ("2048+ px", 40)) == 2048
