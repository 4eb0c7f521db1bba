"""Sign-in rate limiting: a burst of wrong passwords locks the door for a while.

Failures are counted in the cache (Redis, shared by every web process) under
two keys: the (username, address) pair, so guessing one person's password from
one address stops after a few tries without letting a stranger lock that person
out from everywhere; and the address alone, so spraying many usernames from one
address stops too. A success clears the pair. Counters expire with the window.

When the counters cannot be read or written (Redis is down), sign-in fails
closed: ``LockoutUnavailable`` is raised before any password is checked, and
the pages answer 503. An outage never lets guesses through uncounted.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = (
    "Sign-in is unavailable for a moment: the service that guards it against "
    "password guessing cannot be reached. Try again in a minute."
)
UNAVAILABLE_RETRY_SECONDS = 30


class LockoutUnavailable(Exception):
    """The failure counters cannot be reached: refuse the sign-in (503)."""

    def __init__(self) -> None:
        super().__init__(UNAVAILABLE_MESSAGE)


@contextlib.contextmanager
def _counters():
    """Any cache error means we cannot tell whether the door is locked."""
    try:
        yield
    except LockoutUnavailable:
        raise
    except Exception as exc:
        log.warning("sign-in refused, lockout counters unavailable: %r", exc)
        raise LockoutUnavailable() from exc


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
    with _counters():
        counts = cache.get_many([pair_key, address_key])
    if counts.get(pair_key, 0) < per_pair and counts.get(address_key, 0) < per_address:
        return 0
    return _window()


def login_failure_record(*, username: str, address: str) -> None:
    """Count a wrong password; LockoutUnavailable if it cannot be counted."""
    with _counters():
        for key in _keys(username, address):
            # add() starts the window once; incr() keeps it (INCR keeps TTL).
            if not cache.add(key, 1, timeout=_window()):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, timeout=_window())


def login_success_record(*, username: str, address: str) -> None:
    """Forget the pair's failures. Best effort: a counter left behind by an
    outage only keeps the lock stricter, so the sign-in goes ahead."""
    try:
        cache.delete(_keys(username, address)[0])
    except Exception as exc:
        log.warning("sign-in failures not cleared: %r", exc)


def login_failures_reset(*, username: str, address: str) -> None:
    """Forget every failure for this pair and address (tests, support staff)."""
    cache.delete_many(list(_keys(username, address)))


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        "Too many failed sign-ins. Wait "
        f"{minutes} minute{'s' if minutes != 1 else ''} and try again."
    )
