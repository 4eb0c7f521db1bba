"""How many devices one job can ask for: the most any online training worker owns.

Workers answer a remote-control broadcast (``device_info``, workers/control.py)
with their devices and queues. The job form's offer is cached for a few
seconds (every form would otherwise wait the broadcast's second); a request
for more than one device asks afresh before it is accepted.
"""

from __future__ import annotations

from django.core.cache import cache

from workers.queues import is_training_queue

OFFER_CACHE_SECONDS = 15
OFFER_KEY = "jobs:max-devices-online"


def max_devices_online() -> int:
    """The most devices any training worker answering now owns (0: none)."""
    from ganweb.core.health import online_workers

    try:
        workers = online_workers()
    except Exception:  # noqa: BLE001 - no broker: nobody to ask
        return 0
    most = 0
    for worker in workers:
        if any(is_training_queue(queue) for queue in worker["queues"]):
            most = max(most, len(worker.get("devices") or [worker["device"]]))
    return most


def devices_offered() -> int:
    """What the job form offers: 1 .. this (at least 1, cached briefly)."""
    from redis.exceptions import RedisError

    try:
        cached = cache.get(OFFER_KEY)
    except RedisError:
        cached = None
    if cached is None:
        cached = max_devices_online()
        try:
            cache.set(OFFER_KEY, cached, OFFER_CACHE_SECONDS)
        except RedisError:
            pass
    return max(1, int(cached))
