"""Ids and counts that come from users, parsed in one place.

``str.isdigit()`` says yes to '²', '³' and '①', which ``int()`` then refuses
(a 500), and to 5,000-digit strings, which overflow the database's integer
(a 500 again, or a slow parse). Only ASCII digits, a bounded length and a value
the column holds are an id; anything else is "no such thing" to the caller.
"""

from __future__ import annotations

import re

from django.urls import register_converter

# BigAutoField (and SQLite's INTEGER) hold a signed 64-bit value.
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: 19 digits cover MAX_ID


def parse_number(value, *, minimum: int = 1) -> int | None:
    """``value`` (an int, or a string of ASCII digits) as an int from
    ``minimum`` to MAX_ID; None for anything else (bools, '²', '-1', '1.0',
    ' 7', a 5,000-digit string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    return value if minimum <= value <= MAX_ID else None


def parse_id(value) -> int | None:
    """A database id (1 or more) from user input, or None."""
    return parse_number(value, minimum=1)


def parse_step(value) -> int | None:
    """A training step (0 or more) from user input, or None."""
    return parse_number(value, minimum=0)


class IdConverter:
    """``<id:name>`` in URLs: like ``<int:>``, but only values an id column
    holds (a 20-digit id is a 404, not an overflow in the database driver)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(f"not an id: {value!r}")  # Django: no match, 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
