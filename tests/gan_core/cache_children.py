"""What the cache tests run in child processes: nothing here imports torch, so
a child starts in a fraction of a second."""

import os
import resource
import signal
from pathlib import Path

from gan_core.data.cache import open_or_build
from gan_core.data.errors import DataError


def build_and_die(folder) -> None:
    """Start building, then die mid-build as a killed worker would."""

    def progress(done, total):
        if done < total:
            os.kill(os.getpid(), signal.SIGKILL)

    open_or_build(folder, image_size=8, workers=1, progress=progress)


def race(folder, barrier, results) -> None:
    """Ask for the cache at the same moment as another process."""
    barrier.wait(timeout=120)
    cache = open_or_build(folder, image_size=16, workers=1)
    results.put((cache.built, cache.fingerprint, cache.header["built_by"]))


def fill_disk(folder: str, cache_dir: str, limit: int) -> None:
    """Build with files capped at ``limit`` bytes: writes past it fail (EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, not the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        open_or_build(Path(folder), image_size=32, workers=1, cache_dir=Path(cache_dir))
    except DataError as exc:
        raise SystemExit(f"DataError: {exc}") from None
