"""A row lock that serializes one user's competing writes.

A limit or budget is read (the user's jobs, the bytes of their datasets), then
a row is written that the next reader must count. On PostgreSQL (READ
COMMITTED) two requests at once would both read the old figure and both pass;
locking the owner's user row first makes the second wait until the first has
committed, and then read its row. On SQLite the IMMEDIATE transactions
(ganweb/settings.py) already take the database's write lock at BEGIN, and
Django makes ``select_for_update`` a no-op there.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model


def lock_user(user) -> None:
    """Lock ``user``'s row until the surrounding transaction ends.

    Raises TransactionManagementError outside ``transaction.atomic()``, where
    a lock would end at once and protect nothing.
    """
    rows = get_user_model().objects.select_for_update().filter(pk=user.pk)
    list(rows.values_list("pk", flat=True))  # evaluated: the lock is taken
