"""An upload through the real service in a thread of its own, for the tests
that need two things at once on the real database."""

from __future__ import annotations

import threading
from pathlib import Path

from django.core.files import File
from django.db import connection

from ganweb.datasets import services


def upload_in_thread(
    owner, archive: Path, name: str, outcome: dict
) -> threading.Thread:
    """Start ``dataset_ingest`` of ``archive``; ``outcome`` gets "dataset" or
    "error" (the exception) when it ends."""

    def upload():
        try:
            with open(archive, "rb") as fh:
                outcome["dataset"] = services.dataset_ingest(
                    owner=owner, name=name, archive=File(fh, name=archive.name)
                )
        except BaseException as exc:  # reported by the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    return thread
