"""What the pre-flight probe is told about the data: an upload trains from its
uint8 training cache, a built-in dataset is held as float32 (so the memory
estimate counts 1 or 4 bytes per value)."""

from __future__ import annotations

import pytest

from ganweb.datasets.models import Dataset, DatasetState
from ganweb.jobs.data_sources import DataSource, builtin_source
from ganweb.jobs.preflight import data_shape

pytestmark = pytest.mark.django_db


def test_an_upload_is_probed_as_uint8_and_a_builtin_as_float32(alice):
    dataset = Dataset.objects.create(
        owner=alice,
        name="photos",
        kind="classes",
        state=DatasetState.READY,
        image_count=1234,
        classes={"cats": 600, "dogs": 634},
        stats={"channels": {"3": 1200, "1": 34}},
    )
    upload = data_shape(DataSource(str(dataset.pk), "classes", "photos", dataset))
    assert upload == {
        "kind": "images",
        "count": 1234,
        "channels": 3,
        "num_classes": 2,
        "dtype": "uint8",
    }
    builtin = data_shape(builtin_source("digits"))
    assert builtin["dtype"] == "float32" and builtin["channels"] == 1
