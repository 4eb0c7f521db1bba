"""A multipart body holds one open file, not one per uploaded file.

Django's temporary-file upload handler keeps every uploaded file open until
the response is sent: a body of 1,000 images held 1,000 descriptors, and two
such uploads at once failed with 500 "Too many open files" under the common
limit of 1,024. Here daphne runs (as `make run` starts it) with that limit
imposed on it, and two 1,000-image uploads arrive together.
"""

from __future__ import annotations

import resource
import threading

import pytest

from tests.ganweb.datasets.dataset_builders import image_bytes
from tests.ganweb.datasets.test_upload_memory import start_web_alone

FILES = 1000  # GAN_UPLOAD_MAX_FILES' default
DESCRIPTORS = 1024


@pytest.fixture
def web_with_1024_descriptors(transactional_db, tmp_path, settings):
    for web in start_web_alone(tmp_path, settings):
        resource.prlimit(web.pid, resource.RLIMIT_NOFILE, (DESCRIPTORS, DESCRIPTORS))
        yield web


@pytest.mark.slow
@pytest.mark.integration
def test_two_uploads_of_1000_images_at_once_fit_in_1024_descriptors(
    web_with_1024_descriptors, alice, bob
):
    import requests
    from rest_framework.authtoken.models import Token

    from ganweb.datasets.models import Dataset
    from ganweb.datasets.services import UPLOAD_DIR, dataset_dir

    web = web_with_1024_descriptors
    assert resource.prlimit(web.pid, resource.RLIMIT_NOFILE)[0] == DESCRIPTORS
    url = f"{web.extra['url']}/api/datasets/"
    together = threading.Barrier(2)
    answers = {}

    def send(user, offset: int) -> None:
        token = Token.objects.create(user=user).key
        files = [
            ("files", (f"{i:04d}.png", image_bytes(offset + i), "image/png"))
            for i in range(FILES)
        ]
        together.wait(timeout=60)
        answers[user.username] = requests.post(
            url,
            data={"name": f"{user.username}'s thousand"},
            files=files,
            headers={"Authorization": f"Bearer {token}"},
            timeout=300,
        )

    threads = [
        threading.Thread(target=send, args=(user, offset))
        for user, offset in ((alice, 0), (bob, FILES))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(360)
    for name, response in answers.items():
        assert response.status_code == 201, (name, response.text[:300])
    assert sorted(answers) == ["alice", "bob"]
    for user in (alice, bob):
        dataset = Dataset.objects.get(owner=user)
        stored = list((dataset_dir(dataset.pk) / UPLOAD_DIR).iterdir())
        assert len(stored) == FILES + 1  # the images and their manifest
        assert dataset.stats["pixels"] == FILES * 64
