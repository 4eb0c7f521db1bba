"""The web process never imports torch (700 MB in daphne), whatever it renders.

Checked in a fresh interpreter: this test process has long imported torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _database_url

pytestmark = pytest.mark.django_db(transaction=True)  # the child reads the rows

ROOT = Path(__file__).resolve().parents[3]

CHILD = """
import json, sys
import django
django.setup()
import ganweb.asgi  # what daphne loads
from django.contrib.auth import get_user_model
from django.test import Client

from ganweb.jobs.services import validate_job_request

alice = get_user_model().objects.get(username="alice")
client = Client()
client.force_login(alice)
validate_job_request(  # what POST /api/jobs/ checks, with the trainer's code
    user=alice, data_ref="builtin:shapes", family="stylegan2", config={"steps": 5}
)
answers = {}
for url in ("/datasets/", "/api/datasets/", "/jobs/new/?dataset=builtin:shapes",
            "/jobs/new/?dataset=builtin:ring8", "/api/families/", "/jobs/"):
    response = client.get(url)
    answers[url] = [response.status_code, response.content.decode()[:200000]]
print(json.dumps({"torch": "torch" in sys.modules, "answers": answers}))
"""


def test_listing_datasets_and_rendering_the_job_form_never_import_torch(alice):
    """Listing built-ins imported torch (daphne 109 MB -> 850 MB), and so did
    the family registry behind the job form and job validation."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="ganweb.settings",
        DATABASE_URL=_database_url(),
        ALLOWED_HOSTS="testserver",
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    answers = report["answers"]
    assert {url: status for url, (status, _) in answers.items()} == {
        url: 200 for url in answers
    }
    assert "Ring of 8 Gaussians" in answers["/datasets/"][1]  # built-ins listed
    assert "Coloured shapes" in answers["/api/datasets/"][1]
    assert 'name="steps"' in answers["/jobs/new/?dataset=builtin:shapes"][1]
    assert report["torch"] is False
