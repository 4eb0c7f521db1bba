"""Forward gan_core's progress events: to the database first, then to live sockets.

Every event is published to the job's Channels group. The database keeps what a
page opened later needs: the job row (throttled on step events), a compact
history of metric points, the sample grids and the checkpoints.
"""

from __future__ import annotations

import functools
import logging
import time

from django.utils import timezone

from ganweb.core.realtime import BackgroundPublisher, job_group
from ganweb.jobs.models import Checkpoint, Job, MetricPoint, Sample

log = logging.getLogger(__name__)

ROW_UPDATE_INTERVAL_S = 1.0
POINT_INTERVAL_S = 0.25
# Live step events are capped at 20 a second: charts stay smooth and a fast
# run (a tiny model does thousands of steps a second) is not slowed by Redis.
LIVE_STEP_INTERVAL_S = 0.05
MAX_POINTS = 4000


@functools.cache
def event_publisher() -> BackgroundPublisher:
    """One publishing thread per worker process, shared by its jobs."""
    return BackgroundPublisher()


def metric_values(event: dict) -> dict:
    """The figures a chart draws for one step event."""
    values = {
        f"loss_{name}": value for name, value in (event.get("losses") or {}).items()
    }
    for key in ("d_real", "d_fake", "images_per_sec"):
        if event.get(key) is not None:
            values[key] = event[key]
    for key, value in (event.get("extras") or {}).items():
        if isinstance(value, int | float):
            values[key] = value
    return values


def thin_points(job_id: int) -> None:
    """Keep long runs compact: drop every other point once past MAX_POINTS."""
    ids = list(
        MetricPoint.objects.filter(job_id=job_id)
        .order_by("step")
        .values_list("id", flat=True)
    )
    if len(ids) > MAX_POINTS:
        MetricPoint.objects.filter(id__in=ids[1:-1:2]).delete()


class ProgressForwarder:
    """The ``on_event`` callback a worker hands to gan_core's trainer."""

    def __init__(self, job_id: int, media_prefix: str):
        self.job_id = job_id
        self.media_prefix = media_prefix.rstrip("/")
        self.group = job_group(job_id)
        self.publisher = event_publisher()
        self._last_row_update = 0.0
        self._last_point = 0.0
        self._last_live_step = 0.0
        self._points_written = 0

    def __call__(self, event) -> None:
        payload = event.to_dict() if hasattr(event, "to_dict") else dict(event)
        handler = getattr(self, f"_on_{payload['type']}", None)
        if handler is not None:
            handler(payload)
        if payload["type"] == "step" and not self._live_step_due(payload):
            return
        # Wall-clock send time lets a viewer (and bench/bench_jobs.py) see latency.
        payload["sent_at"] = time.time()
        self.publisher.publish(self.group, payload)

    def _live_step_due(self, event: dict) -> bool:
        now = time.monotonic()
        last_step = event.get("step", 0) >= (event.get("total_steps") or 0)
        if now - self._last_live_step >= LIVE_STEP_INTERVAL_S or last_step:
            self._last_live_step = now
            return True
        return False

    def media_path(self, relative: str) -> str:
        return f"{self.media_prefix}/{relative}" if relative else ""

    def _update(self, **fields) -> None:
        Job.objects.filter(pk=self.job_id).update(**fields)

    def _on_started(self, event: dict) -> None:
        start = event.get("start_step") or 0
        self._update(total_steps=event.get("total_steps") or 0, step=start)
        if start:
            self._rewind(start)

    def _rewind(self, step: int) -> None:
        """A resume continues from the checkpoint at ``step``; whatever a lost
        attempt recorded past it is redone, so drop it here and tell live
        viewers (their charts may hold even more of it than the database)."""
        from gan_core.events import RewindEvent

        MetricPoint.objects.filter(job_id=self.job_id, step__gt=step).delete()
        Sample.objects.filter(job_id=self.job_id, step__gt=step).delete()
        rewind = RewindEvent(step=step, reason="resume").to_dict()
        self.publisher.publish(self.group, {**rewind, "sent_at": time.time()})

    def _on_step(self, event: dict) -> None:
        now = time.monotonic()
        values = metric_values(event)
        last_step = event.get("step", 0) >= (event.get("total_steps") or 0)
        if now - self._last_point >= POINT_INTERVAL_S or last_step:
            self._last_point = now
            MetricPoint.objects.create(
                job_id=self.job_id, step=event["step"], values=values
            )
            self._points_written += 1
            if self._points_written % 500 == 0:
                thin_points(self.job_id)
        if now - self._last_row_update >= ROW_UPDATE_INTERVAL_S or last_step:
            self._last_row_update = now
            self._update(
                step=event["step"],
                metrics=values,
                images_per_sec=event.get("images_per_sec"),
                eta_seconds=event.get("eta_seconds"),
            )

    def _on_sample(self, event: dict) -> None:
        image = self.media_path(event.get("path") or "")
        event["url"] = image
        extra = {
            k: event[k] for k in ("points", "real_points", "surface") if k in event
        }
        Sample.objects.create(
            job_id=self.job_id, step=event["step"], image=image, payload=extra
        )
        if image:
            self._update(latest_sample=image)

    def _on_checkpoint(self, event: dict) -> None:
        path = self.media_path(event.get("path") or "")
        Checkpoint.objects.update_or_create(
            job_id=self.job_id, step=event["step"], defaults={"path": path}
        )
        self._update(latest_checkpoint=path, step=event["step"])
        # Its figures for the timeline, measured by a light worker meanwhile.
        # A broker that is down costs the figures, never the training run.
        from workers.tasks.evaluation import evaluate_checkpoint

        try:
            evaluate_checkpoint.apply_async(
                args=[self.job_id, event["step"]], queue="light"
            )
        except Exception as exc:
            log.warning(
                "job %s: figures of checkpoint %s not requested: %s",
                self.job_id,
                event["step"],
                exc,
            )

    def _on_rollback(self, event: dict) -> None:
        """The trainer went back to an earlier checkpoint: the history after it
        is being redone, so drop it, and record the rollback on the job."""
        step = event["step"]
        MetricPoint.objects.filter(job_id=self.job_id, step__gt=step).delete()
        Sample.objects.filter(job_id=self.job_id, step__gt=step).delete()
        job = Job.objects.only("rollbacks").get(pk=self.job_id)
        entry = {k: event[k] for k in ("from_step", "step", "reason", "lr_scale")}
        self._update(step=step, rollbacks=[*job.rollbacks, entry])

    def _on_finished(self, event: dict) -> None:
        self._update(step=event.get("step") or 0)

    def _on_failed(self, event: dict) -> None:
        self._update(error=event.get("reason") or "training failed")

    def _on_stopped(self, event: dict) -> None:
        self._update(step=event.get("step") or 0)


def mark(job_id: int, **fields) -> None:
    """State changes are written at once and published as ``state`` events,
    after every event already queued (viewers see ``finished``, then the state)."""
    if "state" in fields and fields["state"] not in ("running", "queued"):
        fields.setdefault("ended_at", timezone.now())
    Job.objects.filter(pk=job_id).update(**fields)
    shown = {k: v for k, v in fields.items() if k in ("state", "error")}
    event_publisher().publish(job_group(job_id), {"type": "state", **shown})
