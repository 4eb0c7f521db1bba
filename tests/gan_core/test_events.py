import json
import math

import pytest

from gan_core.events import (
    EVENT_TYPES,
    SampleEvent,
    StepEvent,
    event_from_dict,
    event_schema,
)


def test_events_round_trip_through_json():
    step = StepEvent(
        step=3,
        total_steps=10,
        losses={"d": 1.2, "g": 0.7},
        d_real=0.6,
        d_fake=0.4,
        images_per_sec=100.0,
        eta_seconds=2.0,
        extras={"resolution": 16, "alpha": 0.5},
    )
    data = json.loads(json.dumps(step.to_dict()))
    assert data["type"] == "step"
    assert event_from_dict(data) == step


def test_non_finite_numbers_become_null():
    event = StepEvent(step=1, total_steps=2, losses={"d": math.nan}, d_real=math.inf)
    data = event.to_dict()
    assert data["losses"]["d"] is None and data["d_real"] is None
    json.dumps(data, allow_nan=False)


def test_point_fields_of_sample_events_appear_only_when_set():
    assert "points" not in SampleEvent(step=1, path="a.png").to_dict()
    surface = {"extent": [-1, 1, -1, 1], "size": 2, "values": [0, 1, 2, 3]}
    data = SampleEvent(step=1, path="a.png", points=[[0, 1]], surface=surface)
    assert data.to_dict()["surface"]["size"] == 2


def test_schema_describes_every_event_type_for_the_javascript():
    schema = event_schema()
    assert set(schema) == {
        "preparing",
        "started",
        "step",
        "sample",
        "checkpoint",
        "finished",
        "stopped",
        "failed",
        "rollback",
        "rewind",
    }
    assert set(schema) == set(EVENT_TYPES)
    assert schema["step"]["fields"]["d_real"]["type"] == "number"
    assert schema["sample"]["fields"]["surface"]["optional"] is True
    assert schema["step"]["fields"]["step"]["optional"] is False
    json.dumps(schema)


def test_unknown_event_type_is_rejected():
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_dict({"type": "nope"})
