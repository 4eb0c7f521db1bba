"""Sign-in rate limiting: a burst of wrong passwords locks the door for a while.

Failures are counted in the cache (Redis, shared by every web process) under
two keys: the (username, address) pair, so guessing one person's password from
one address stops after a few tries without letting a stranger lock that person
out from everywhere; and the address alone, so spraying many usernames from one
address stops too. A success clears the pair. Counters expire with the window.
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.core.cache import cache


def _window() -> int:
    return int(getattr(settings, "GAN_LOGIN_LOCKOUT_SECONDS", 900))


def _limits() -> tuple[int, int]:
    return (
        int(getattr(settings, "GAN_LOGIN_MAX_FAILURES", 5)),
        int(getattr(settings, "GAN_LOGIN_MAX_FAILURES_PER_ADDRESS", 50)),
    )


def client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request else "unknown"


def _keys(username: str, address: str) -> tuple[str, str]:
    # Hashed: usernames are user input and cache keys must stay short and safe.
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:{name}:{address}", f"login-fail-addr:{address}"


def login_seconds_locked(*, username: str, address: str) -> int:
    """0 when a sign-in may be tried now, else about how long until it may."""
    per_pair, per_address = _limits()
    pair_key, address_key = _keys(username, address)
    counts = cache.get_many([pair_key, address_key])
    if counts.get(pair_key, 0) < per_pair and counts.get(address_key, 0) < per_address:
        return 0
    return _window()


def login_failure_record(*, username: str, address: str) -> None:
    for key in _keys(username, address):
        # add() starts the window once; incr() keeps it (Redis INCR keeps TTL).
        if not cache.add(key, 1, timeout=_window()):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=_window())


def login_success_record(*, username: str, address: str) -> None:
    cache.delete(_keys(username, address)[0])


def login_failures_reset(*, username: str, address: str) -> None:
    """Forget every failure for this pair and address (tests, support staff)."""
    cache.delete_many(list(_keys(username, address)))


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        "Too many failed sign-ins. Wait "
        f"{minutes} minute{'s' if minutes != 1 else ''} and try again."
    )
