"""The job page says once, in plain words, when Inception FID/KID are off."""

import pytest

from ganweb.jobs.models import Job

pytestmark = pytest.mark.django_db

NOTE = "Standard Inception FID and KID are not measured on this server"


def _page(client, owner, family: str, data_ref: str) -> str:
    job = Job.objects.create(owner=owner, data_ref=data_ref, family=family, config={})
    client.force_login(owner)
    return client.get(f"/jobs/{job.pk}/").content.decode()


def test_image_job_page_says_once_that_inception_is_not_configured(
    client, alice, settings
):
    settings.GAN_INCEPTION_WEIGHTS = ""
    page = _page(client, alice, "dcgan", "builtin:shapes")
    assert page.count(NOTE) == 1
    assert "--classifier" not in page and "GAN_INCEPTION_WEIGHTS" not in page


def test_no_note_once_configured_nor_for_points(client, alice, settings):
    settings.GAN_INCEPTION_WEIGHTS = "/srv/weights/inception.pth"
    assert NOTE not in _page(client, alice, "dcgan", "builtin:shapes")
    settings.GAN_INCEPTION_WEIGHTS = ""
    assert NOTE not in _page(client, alice, "gan", "builtin:ring8")
