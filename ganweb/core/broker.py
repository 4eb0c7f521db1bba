"""Handing a task to the broker from a request: one quick try, no retry loop.

Celery's defaults retry a publish for seconds, and the Redis result backend
retries its result subscription about 20 times a second apart, all inside the
web request (a job submitted while Redis was down answered 500 after 19 s).
Here a send connects once (a Redis that is down refuses at once; one that does
not answer at all is given ``broker_connection_timeout``), asks for no result
subscription, and raises ``BrokerUnavailable`` for the caller to decide: the
job services keep the row queued and a periodic sweep sends it later. Calls
that wait for a worker's answer (playground, pre-flight) check the connection
once the same way before they publish, and answer 503 at once.
"""

from __future__ import annotations


class BrokerUnavailable(Exception):
    """The broker could not take the message now."""


def send_and_wait_for(task, *, queue: str, expires: float, **call):
    """Publish ``task`` for an answer the request waits for (playground,
    pre-flight): one connection attempt first, so that a Redis that is down
    answers BrokerUnavailable at once instead of Celery's publish and result
    subscription retrying for seconds; then the usual publish, not retried.
    Returns the AsyncResult."""
    from kombu.exceptions import OperationalError

    from workers.celery_app import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
        return task.apply_async(queue=queue, expires=expires, retry=False, **call)
    except (OperationalError, ConnectionError, OSError) as exc:
        raise BrokerUnavailable(str(exc) or exc.__class__.__name__) from exc


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


# Where kombu's Redis transport keeps messages: a list per queue (one more per
# priority step), and the delivered but unacknowledged ones in one hash.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)
UNACKED_KEY = "unacked"


def first_args_waiting(*, queue: str, task_name: str) -> set | None:
    """The first argument of every ``task_name`` message the broker holds for
    ``queue``, waiting or delivered and not yet acknowledged; None when that
    cannot be told (the broker is down, or its messages are not laid out as
    kombu's Redis transport lays them out)."""
    import redis
    from django.conf import settings

    keys = [queue] + [f"{queue}{PRIORITY_SEPARATOR}{p}" for p in PRIORITY_STEPS]
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=5
        )
        with client.pipeline(transaction=True) as pipe:  # one consistent view
            for key in keys:
                pipe.lrange(key, 0, -1)
            pipe.hvals(UNACKED_KEY)
            *lists, unacked = pipe.execute()
    except redis.RedisError:
        return None
    waiting = [raw for raw_list in lists for raw in raw_list]
    delivered = [_unacked_message(raw, queue) for raw in unacked]
    found, unreadable = set(), 0
    for message in [*map(_loads, waiting), *delivered]:
        if message is None:
            continue
        args = _first_arg(message, task_name)
        if args is _UNREADABLE:
            unreadable += 1
        elif args is not None:
            found.add(args)
    if waiting and unreadable == len(waiting):
        return None  # a layout we do not know: better to say nothing
    return found


_UNREADABLE = object()


def _loads(raw):
    import json

    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return {}


def _unacked_message(raw, queue: str):
    """The message of an unacked entry ([message, exchange, routing key]) if
    it was routed to ``queue``."""
    entry = _loads(raw)
    if isinstance(entry, list) and len(entry) == 3 and entry[2] == queue:
        return entry[0]
    return None


def _first_arg(message, task_name: str):
    """The task's first positional argument; None for another task;
    _UNREADABLE when the message is not what we expect."""
    import base64
    import json

    try:
        if message["headers"]["task"] != task_name:
            return None
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return args[0]
    except (KeyError, IndexError, TypeError, ValueError):
        return _UNREADABLE
