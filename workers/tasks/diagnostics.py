"""A task that proves the worker-to-browser path end to end."""

from celery import shared_task


@shared_task(name="workers.tasks.diagnostics.broadcast_events")
def broadcast_events(user_id: int, count: int = 3) -> int:
    """Publish ``count`` numbered events to the user's WebSocket group."""
    from ganweb.core.realtime import publish, user_group

    for index in range(count):
        publish(
            user_group(user_id), {"type": "diagnostic", "index": index, "count": count}
        )
    return count
