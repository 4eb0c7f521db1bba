"""The one progress-event schema: the trainer emits these, the CLI prints them,
the worker forwards them to the browser, whose JavaScript reads ``event_schema()``.

Every event is a frozen dataclass; ``to_dict()`` is JSON-safe (non-finite floats
become None) and carries a ``type`` key; ``event_from_dict`` inverts it.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # a 0-d tensor or numpy scalar
        return _json_safe(value.item())
    return value


@dataclass(frozen=True)
class Event:
    """Base of every progress event; ``type`` names it on the wire."""

    type: ClassVar[str] = ""
    help: ClassVar[str] = ""

    def to_dict(self) -> dict:
        """The event as JSON-safe data with a ``type`` key; optional Nones dropped."""
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("optional"):
                continue
            out[f.name] = _json_safe(value)
        return out


def _f(kind: str, help: str, default: Any = MISSING, optional: bool = False):
    """A schema field: ``kind`` is the JSON type the JavaScript can expect."""
    meta = {"kind": kind, "help": help, "optional": optional}
    if default is MISSING:
        return field(metadata=meta)
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class StartedEvent(Event):
    type: ClassVar[str] = "started"
    help: ClassVar[str] = "The run began (or resumed at start_step)."
    family: str = _f("string", "Registry name of the model family.")
    total_steps: int = _f("int", "Generator steps the run will take in all.")
    start_step: int = _f("int", "Steps already done (non-zero when resumed).")
    device: str = _f("string", "Torch device, for example cpu or cuda:0.")
    config: dict = _f("object", "The validated settings, by snake_case name.", {})
    init: dict = _f(
        "object",
        "When the run started from another checkpoint's weights (init-from): "
        "source, loaded (tensors), reinitialised (names) and a note; else {}.",
        {},
    )
    world_size: int = _f("int", "Processes training the run together (torchrun).", 1)
    note: str | None = _f(
        "string",
        "Said once at the start, e.g. a resume is not bit-exact.",
        None,
        optional=True,
    )


@dataclass(frozen=True)
class StepEvent(Event):
    type: ClassVar[str] = "step"
    help: ClassVar[str] = "One generator step finished."
    step: int = _f("int", "Steps done so far (1 after the first step).")
    total_steps: int = _f("int", "Generator steps the run will take in all.")
    losses: dict = _f("object", "Loss name -> value, e.g. {'d': .., 'g': ..}.", {})
    d_real: float | None = _f("number", "Mean D(x) on real data.", None)
    d_fake: float | None = _f("number", "Mean D(G(z)) on generated data.", None)
    images_per_sec: float = _f("number", "Real images shown to D per second.", 0.0)
    eta_seconds: float | None = _f("number", "Estimated seconds to the end.", None)
    extras: dict = _f("object", "Other figures: penalties, lr, resolution, alpha.", {})


@dataclass(frozen=True)
class SampleEvent(Event):
    type: ClassVar[str] = "sample"
    help: ClassVar[str] = "A sample grid from fixed noise was written."
    step: int = _f("int", "Steps done when the sample was drawn.")
    path: str = _f("string", "PNG path relative to the run's output folder.")
    points: list | None = _f(
        "array", "Point data only: generated [x, y] pairs.", None, optional=True
    )
    real_points: list | None = _f(
        "array", "Point data only: real [x, y] pairs.", None, optional=True
    )
    surface: dict | None = _f(
        "object",
        "Point data only: D on a grid {extent: [xmin, xmax, ymin, ymax], size: n, "
        "values: n*n floats, row-major from ymin}.",
        None,
        optional=True,
    )


@dataclass(frozen=True)
class CheckpointEvent(Event):
    type: ClassVar[str] = "checkpoint"
    help: ClassVar[str] = "A checkpoint was written."
    step: int = _f("int", "Steps stored in the checkpoint.")
    path: str = _f("string", "Path relative to the run's output folder.")


@dataclass(frozen=True)
class FinishedEvent(Event):
    type: ClassVar[str] = "finished"
    help: ClassVar[str] = "The run reached total_steps."
    step: int = _f("int", "Steps done.")
    checkpoint: str = _f("string", "Final checkpoint, relative to the output folder.")
    seconds: float = _f("number", "Wall-clock seconds of this session.")


@dataclass(frozen=True)
class StoppedEvent(Event):
    type: ClassVar[str] = "stopped"
    help: ClassVar[str] = "The run stopped on request after saving a checkpoint."
    step: int = _f("int", "Steps done.")
    checkpoint: str = _f("string", "Checkpoint to resume from, relative path.")
    reason: str = _f("string", "Why it stopped (cancel, shutdown, ...).", "requested")


@dataclass(frozen=True)
class FailedEvent(Event):
    type: ClassVar[str] = "failed"
    help: ClassVar[str] = "The run failed; no checkpoint was written for the failure."
    step: int = _f("int", "Steps done before the failure.")
    reason: str = _f("string", "One line saying what went wrong.")


@dataclass(frozen=True)
class RollbackEvent(Event):
    type: ClassVar[str] = "rollback"
    help: ClassVar[str] = (
        "The run diverged and went back to its last checkpoint with a lower "
        "learning rate; steps after that checkpoint are redone."
    )
    step: int = _f("int", "The checkpoint's step, where training continues.")
    from_step: int = _f("int", "The step at which the divergence was seen.")
    reason: str = _f("string", "What diverged, in one line.")
    lr_scale: float = _f("number", "Learning rates are now this times the schedule.")
    rollbacks_left: int = _f("int", "Further rollbacks allowed before the run fails.")


@dataclass(frozen=True)
class RewindEvent(Event):
    type: ClassVar[str] = "rewind"
    help: ClassVar[str] = (
        "Steps past `step` are void and will be redone: a run resumed from a "
        "checkpoint older than the last step seen (its worker was lost between "
        "checkpoints). Viewers drop every point and sample past `step`."
    )
    step: int = _f("int", "The checkpoint's step, where training continues.")
    reason: str = _f("string", "Why (resume).", "resume")


@dataclass(frozen=True)
class PreparingEvent(Event):
    type: ClassVar[str] = "preparing"
    help: ClassVar[str] = (
        "Before the run: the dataset's training cache is being built (decoded "
        "once at this image size, then reused by every run)."
    )
    image_size: int = _f("int", "The side in pixels the images are decoded to.")
    done: int = _f("int", "Images decoded so far.")
    total: int = _f("int", "Images to decode in all.")


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        PreparingEvent,
        StartedEvent,
        StepEvent,
        SampleEvent,
        CheckpointEvent,
        FinishedEvent,
        StoppedEvent,
        FailedEvent,
        RollbackEvent,
        RewindEvent,
    )
}


def event_from_dict(data: dict) -> Event:
    """Rebuild an event from ``to_dict()`` output; unknown keys are ignored.

    Raises ValueError for a missing or unknown ``type``.
    """
    cls = EVENT_TYPES.get(data.get("type", ""))
    if cls is None:
        raise ValueError(f"unknown event type {data.get('type')!r}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def event_schema() -> dict:
    """The schema as JSON-able data: {type: {help, fields: {name: {type, help,
    optional}}}}, for the JavaScript dashboard and documentation."""
    schema = {}
    for name, cls in EVENT_TYPES.items():
        schema[name] = {
            "help": cls.help,
            "fields": {
                f.name: {
                    "type": f.metadata["kind"],
                    "help": f.metadata["help"],
                    "optional": f.metadata["optional"]
                    or f.default is not MISSING
                    or f.default_factory is not MISSING,
                }
                for f in fields(cls)
            },
        }
    return schema
