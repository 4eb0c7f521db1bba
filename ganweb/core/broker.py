"""Handing a task to the broker from a request: one quick try, no retry loop.

Celery's defaults retry a publish for seconds, and the Redis result backend
retries its result subscription about 20 times a second apart, all inside the
web request (a job submitted while Redis was down answered 500 after 19 s).
Here a send connects once (a Redis that is down refuses at once; one that does
not answer at all is given ``broker_connection_timeout``), asks for no result
subscription, and raises ``BrokerUnavailable`` for the caller to decide: the
job services keep the row queued and a periodic sweep sends it later.
"""

from __future__ import annotations


class BrokerUnavailable(Exception):
    """The broker could not take the message now."""


def send_once(task, *, args: list, queue: str) -> None:
    """Publish ``task(*args)`` on ``queue`` with a single connection attempt.

    No result is subscribed to (the callers read their outcome from the
    database). Raises BrokerUnavailable when the broker cannot be reached.
    """
    from kombu.exceptions import OperationalError

    from workers.celery_app import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
            task.apply_async(
                args=args,
                queue=queue,
                connection=connection,
                retry=False,
                ignore_result=True,
            )
    except (OperationalError, ConnectionError, OSError) as exc:
        raise BrokerUnavailable(str(exc) or exc.__class__.__name__) from exc
