"""Small text helpers shared by the apps."""

from __future__ import annotations


def without_nul(text: str | None) -> str | None:
    """``text`` without NUL characters, which no name or state holds and
    PostgreSQL refuses in a query (a 500 instead of "nothing found")."""
    return text.replace("\x00", "") if text else text
