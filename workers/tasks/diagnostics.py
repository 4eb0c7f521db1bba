"""Tasks that prove the stack's plumbing end to end (the tests use them)."""

import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded


@shared_task(name="workers.tasks.diagnostics.broadcast_events")
def broadcast_events(user_id: int, count: int = 3) -> int:
    """Publish ``count`` numbered events to the user's WebSocket group."""
    from ganweb.core.realtime import publish, user_group

    for index in range(count):
        publish(
            user_group(user_id), {"type": "diagnostic", "index": index, "count": count}
        )
    return count


@shared_task(name="workers.tasks.diagnostics.hold", ignore_result=False)
def hold(seconds: float, past_soft_limit: bool = False) -> dict:
    """Hold one worker slot for ``seconds``: what time limits and revokes must
    stop. With ``past_soft_limit`` it carries on after SoftTimeLimitExceeded,
    as code stuck in one long native call would, until the hard limit kills
    its process."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            time.sleep(0.05)
        except SoftTimeLimitExceeded:
            if not past_soft_limit:
                raise
    return {"held": seconds}
