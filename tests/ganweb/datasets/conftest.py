"""Each dataset test gets its own MEDIA_ROOT and upload temp folder, so that
"nothing was left on disk" can be checked exactly."""

from __future__ import annotations

import pytest


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    settings.GAN_DATASET_MIN_IMAGES = 4
    return tmp_path
