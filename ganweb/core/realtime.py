"""Publishing events to browsers: Channels groups named after what they watch."""

from __future__ import annotations

import asyncio
import queue
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def user_group(user_id: int) -> str:
    return f"user_{user_id}"


def job_group(job_id: int) -> str:
    return f"job_{job_id}"


def _message(event: dict) -> dict:
    return {"type": "event.forward", "event": event}


def publish(group: str, event: dict) -> None:
    """Send one JSON-safe event (with a ``type`` key) to every socket in ``group``."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, _message(event))


class BackgroundPublisher:
    """Publishes from a thread of its own, in order, so a training loop that
    emits many events never waits on Redis. ``flush`` waits until all are sent."""

    _STOP = object()

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self._thread.start()

    def publish(self, group: str, event: dict) -> None:
        self._queue.put((group, event))

    def flush(self, timeout: float = 10.0) -> None:
        done = threading.Event()
        self._queue.put((None, done))
        done.wait(timeout)

    def close(self) -> None:
        self.flush()
        self._queue.put(self._STOP)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        try:
            while (item := self._queue.get()) is not self._STOP:
                group, event = item
                if group is None:
                    event.set()  # a flush marker: everything before it is sent
                    continue
                try:
                    loop.run_until_complete(layer.group_send(group, _message(event)))
                except Exception:  # a Redis hiccup must not kill the training run
                    continue
        finally:
            loop.close()
