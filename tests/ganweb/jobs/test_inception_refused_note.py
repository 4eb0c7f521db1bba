"""A configured Inception file that the workers refused (missing, wrong
checksum) is said once on the job page, in plain words, from the newest
measured checkpoint; a file they used leaves the note hidden."""

import re

import pytest

from ganweb.jobs.models import Checkpoint, Job

pytestmark = pytest.mark.django_db

REFUSED = "Standard Inception FID and KID are not measured for this job"
REASON = "the Inception weights file w.pth is not the standard one"


def _page(client, owner, *figures: dict) -> str:
    job = Job.objects.create(
        owner=owner, data_ref="builtin:shapes", family="dcgan", config={}
    )
    for step, measured in enumerate(figures, start=1):
        Checkpoint.objects.create(job=job, step=step, path="x", figures=measured)
    client.force_login(owner)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    # What people read: the timeline's data (JSON for its script) left out.
    return re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)


def test_a_refused_file_is_said_once_in_plain_words(client, alice, settings):
    settings.GAN_INCEPTION_WEIGHTS = "/srv/weights/inception.pth"
    refused = {"note": "no figure", "inception_note": REASON}
    page = _page(client, alice, refused, refused)
    assert page.count(REFUSED) == 1 and page.count(REASON) == 1
    assert 'id="inception-note" hidden' not in page
    assert "GAN_INCEPTION" not in page and "/srv/weights" not in page


def test_a_used_file_leaves_the_note_hidden(client, alice, settings):
    settings.GAN_INCEPTION_WEIGHTS = "/srv/weights/inception.pth"
    used = {"figures": [], "notes": []}
    page = _page(client, alice, {"note": "x", "inception_note": REASON}, used)
    assert 'id="inception-note" hidden' in page and REASON not in page
