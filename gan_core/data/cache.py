"""The training cache: a folder decoded once per image size, into one file.

As ffcv does, a dataset is written once into a single file that the OS can map
and page in; unlike the per-process decode it replaces, every job, resume,
evaluation and playground call that needs the real images reads it instead of
decoding again. The layout is plain:

    [images uint8 (N, C, H, W)] [second domain uint8 (N_b, C, H, W)]
    [labels int64 (N,)] [JSON header] [header length, 8 bytes] [MAGIC, 8 bytes]

Each array starts on a 4 KiB boundary. The header (kind, channels, size,
offsets, class names, content fingerprint, skipped files) is written last, so
a file without the closing MAGIC is never taken for a cache.

A cache is named by the folder's listing (paths, sizes, modification times),
the size and the channels: a folder whose files change gets a new cache, and
the old ones of that folder are removed when the new one is complete. Builders
hold an exclusive lock per cache file and write to a temporary name, then
rename: two processes asked for the same cache build it once, and a build that
dies leaves only a temporary file that the next builder removes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import multiprocessing
import os
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gan_core.data.decode import decode_rows, gray_flags, image_files
from gan_core.data.errors import DataError

FORMAT = 1
MAGIC = b"GANCACH1"
ALIGN = 4096
CACHE_DIR_NAME = ".gan_cache"
SUFFIX = ".gcache"
CHUNK = 32  # files per decode task
SMALL_SET = 512  # fewer files than this decode here: a pool costs more to start
MIN_IMAGES = 2
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

Progress = Callable[[int, int], None]  # (images done, images in all)


@dataclass(frozen=True)
class FolderLayout:
    """What a folder holds: groups of files ("images", or "a" and "b")."""

    kind: str  # "images", "classes" or "domains"
    groups: tuple[tuple[str, tuple[Path, ...]], ...]
    labels: tuple[int, ...] | None = None  # per file of "images", for classes
    class_names: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return sum(len(files) for _, files in self.groups)


def folder_layout(root: Path) -> FolderLayout:
    """Flat (unconditional), class subfolders (labels) or A/ and B/ (domains)."""
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] != ".")
    top = image_files(root)
    if {"A", "B"} <= {p.name for p in subdirs} and not top:
        groups = (("a", image_files(root / "A")), ("b", image_files(root / "B")))
        return FolderLayout("domains", tuple((n, tuple(f)) for n, f in groups))
    classes = [(p.name, image_files(p)) for p in subdirs]
    classes = [(name, files) for name, files in classes if files]
    if classes and not top:
        files = tuple(f for _, fs in classes for f in fs)
        labels = tuple(i for i, (_, fs) in enumerate(classes) for _ in fs)
        names = tuple(name for name, _ in classes)
        return FolderLayout("classes", (("images", files),), labels, names)
    return FolderLayout("images", (("images", tuple(top)),))


def _digest(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def cache_name(root: Path, layout: FolderLayout, size: int, channels: int | None):
    """(file name, prefix shared by every cache of this folder, size, channels)."""
    listing = hashlib.sha256(f"{FORMAT}|{size}|{channels}".encode())
    base = f"{root}/"
    for name, files in layout.groups:
        listing.update(name.encode())
        for path in files:
            text = str(path)
            st = os.stat(text)
            if text.startswith(base):  # the usual case, without Path's overhead
                rel = text[len(base) :]
            else:
                rel = path.relative_to(root).as_posix()
            listing.update(f"{rel}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    listing.update(repr(layout.labels).encode())
    prefix = f"{_digest(str(root.resolve()), 8)}-{size}px-c{channels or 'auto'}-"
    return prefix + listing.hexdigest()[:16] + SUFFIX, prefix


def default_cache_dir(root: Path) -> Path:
    """``.gan_cache/`` inside the data folder (hidden: never taken for data)."""
    return root / CACHE_DIR_NAME


# -- reading ------------------------------------------------------------------


@dataclass
class CacheFile:
    """An opened cache: its header and where each array lies in the file."""

    path: Path
    header: dict
    built: bool = False  # whether this call built it (else it was reused)
    fd: int = field(default=-1, repr=False)

    @property
    def kind(self) -> str:
        return self.header["kind"]

    @property
    def channels(self) -> int:
        return int(self.header["channels"])

    @property
    def image_size(self) -> int:
        return int(self.header["image_size"])

    @property
    def fingerprint(self) -> str:
        return self.header["fingerprint"]

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.header.get("class_names", ()))

    @property
    def row_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    @property
    def row_bytes(self) -> int:
        return self.channels * self.image_size * self.image_size

    def count(self, name: str) -> int:
        return int(self.header["arrays"][name]["count"])

    def count_all(self) -> int:
        """Images in every array (both domains for A/ and B/)."""
        return sum(int(spec["count"]) for spec in self.header["arrays"].values())

    def nbytes(self, name: str) -> int:
        return self.count(name) * self.row_bytes

    def read_all(self, name: str) -> np.ndarray:
        """The whole array in RAM, uint8 (N, C, H, W), in one read."""
        spec = self.header["arrays"][name]
        flat = np.fromfile(
            self.path, np.uint8, spec["count"] * self.row_bytes, offset=spec["offset"]
        )
        return flat.reshape(spec["count"], *self.row_shape)

    def read_rows(self, name: str, indices: np.ndarray) -> np.ndarray:
        """Rows ``indices`` of an array, read with pread in file order.

        Nothing is mapped into this process, so reading a dataset larger than
        RAM keeps the resident size flat (the page cache is the kernel's).
        """
        spec, rb = self.header["arrays"][name], self.row_bytes
        out = np.empty((len(indices), *self.row_shape), np.uint8)
        flat = out.reshape(len(indices), rb)
        order = np.argsort(indices, kind="stable")
        for j in order:
            got = os.preadv(
                self._fd(), [flat[j]], spec["offset"] + int(indices[j]) * rb
            )
            if got != rb:
                raise DataError(f"training cache {self.path} is truncated")
        return out

    def labels(self) -> np.ndarray | None:
        spec = self.header.get("labels")
        if spec is None:
            return None
        return np.fromfile(self.path, np.int64, spec["count"], offset=spec["offset"])

    def _fd(self) -> int:
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_RDONLY)
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self):
        with contextlib.suppress(OSError, AttributeError):
            self.close()


def read_header(path: Path) -> dict | None:
    """The header of a complete cache file, or None (missing, partial, other)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            if end < 16:
                return None
            fh.seek(end - 16)
            length, magic = struct.unpack("<Q8s", fh.read(16))
            if magic != MAGIC or length > end - 16:
                return None
            fh.seek(end - 16 - length)
            header = json.loads(fh.read(length))
    except (OSError, ValueError):
        return None
    return header if header.get("format") == FORMAT else None


def open_cache(path: Path) -> CacheFile | None:
    """The cache at ``path`` when it is complete, else None; marks it used."""
    header = read_header(path)
    if header is None:
        return None
    with contextlib.suppress(OSError):  # the sweep removes least recently used
        os.utime(path)
    return CacheFile(path, header)


# -- building -----------------------------------------------------------------


def decode_workers() -> int:
    """Decode processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _default_workers(count: int) -> int:
    return 1 if count < SMALL_SET else decode_workers()


class _Decoder:
    """Runs decode tasks in order, in a process pool or here (workers == 1).

    At most ``2 * workers`` tasks are in flight, so memory stays bounded by a
    few chunks of rows however large the dataset; results come back in order
    and are written as they arrive.
    """

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = None
        if workers > 1:  # spawn: safe from threaded parents (Celery, torch)
            self.pool = multiprocessing.get_context("spawn").Pool(workers)

    def map(self, fn, chunks: list, *args) -> Iterator:
        if self.pool is None:
            for chunk in chunks:
                yield fn(chunk, *args)
            return
        pending: deque = deque()
        todo = iter(chunks)
        for chunk in todo:
            pending.append(self.pool.apply_async(fn, (chunk, *args)))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _chunks(files, n: int = CHUNK) -> list[list[str]]:
    paths = [str(p) for p in files]
    return [paths[i : i + n] for i in range(0, len(paths), n)]


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data).cast("B")
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


@dataclass
class _Writer:
    """Bookkeeping of one build: offsets, digests, skipped files, progress."""

    fd: int
    row_bytes: int
    total: int
    progress: Progress | None
    done: int = 0
    skipped: list = field(default_factory=list)
    last_report: float = 0.0

    def report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress is not None and (force or now - self.last_report > 0.25):
            self.last_report = now
            self.progress(self.done, self.total)


def build_cache(
    layout: FolderLayout,
    path: Path,
    *,
    root: Path,
    image_size: int,
    channels: int | None,
    workers: int,
    progress: Progress | None = None,
) -> None:
    """Decode every file of ``layout`` into a new cache at ``path`` (atomic).

    Files that cannot be decoded are skipped and counted. Raises DataError when
    too few images are left or the disk fills up (nothing is left behind).
    """
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    decoder = _Decoder(workers)
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        if channels is None:
            channels = _detect_channels(decoder, layout)
        header = _write_arrays(decoder, layout, fd, image_size, channels, progress)
        header.update(source=str(root.resolve()), built_by=os.getpid())
        header["skipped_files"] = [
            (str(Path(p).relative_to(root)), why) for p, why in header["skipped_files"]
        ]
        _write_header(fd, header)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise DataError(
                f"no space left while writing the training cache in {path.parent} "
                f"({exc.strerror}); free some disk space and try again"
            ) from exc
        raise
    finally:
        decoder.close()
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _detect_channels(decoder: _Decoder, layout: FolderLayout) -> int:
    """1 when every readable image is single-channel, else 3."""
    files = [f for _, fs in layout.groups for f in fs]
    flags = [f for chunk in decoder.map(gray_flags, _chunks(files, 256)) for f in chunk]
    readable = [f for f in flags if f is not None]
    return 1 if readable and all(readable) else 3


def _write_arrays(decoder, layout, fd, size, channels, progress) -> dict:
    mode = "L" if channels == 1 else "RGB"
    row_bytes = channels * size * size
    w = _Writer(fd, row_bytes, layout.count, progress)
    fingerprint = hashlib.sha256(f"{layout.kind}|{channels}|{size}".encode())
    arrays, offset, kept_labels = {}, 0, []
    for name, files in layout.groups:
        kept = 0
        chunks = _chunks(files)
        for c, results in enumerate(decoder.map(decode_rows, chunks, size, mode)):
            for j, result in enumerate(results):
                w.done += 1
                if isinstance(result, str):
                    w.skipped.append((chunks[c][j], result))
                    continue
                row, digest = result
                _pwrite_all(fd, row, offset + kept * row_bytes)
                fingerprint.update(digest)
                if layout.labels is not None:
                    kept_labels.append(layout.labels[c * CHUNK + j])
                kept += 1
            w.report()
        where = files[0].parent if files else "the folder"
        if kept < MIN_IMAGES:
            raise DataError(
                f"too few images in {where}: found {kept} readable, "
                f"need at least {MIN_IMAGES}"
            )
        arrays[name] = {"offset": offset, "count": kept}
        fingerprint.update(f"|{name}:{kept}".encode())
        offset = _align(offset + len(files) * row_bytes)
    header = {
        "format": FORMAT,
        "kind": layout.kind,
        "channels": channels,
        "image_size": size,
        "class_names": list(layout.class_names),
        "arrays": arrays,
        "skipped": len(w.skipped),
        "skipped_files": w.skipped[:50],
    }
    if layout.labels is not None:
        labels = np.asarray(kept_labels, np.int64)
        _pwrite_all(fd, labels.tobytes(), offset)
        fingerprint.update(labels.tobytes())
        fingerprint.update(json.dumps(list(layout.class_names)).encode())
        header["labels"] = {"offset": offset, "count": len(labels)}
        offset = _align(offset + labels.nbytes)
    header["fingerprint"] = fingerprint.hexdigest()[:16]
    header["end"] = offset
    w.report(force=True)
    return header


def _write_header(fd: int, header: dict) -> None:
    blob = json.dumps(header).encode()
    _pwrite_all(fd, blob + struct.pack("<Q8s", len(blob), MAGIC), header["end"])


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock between processes (and machines on a local disk)."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def open_or_build(
    folder: Path,
    *,
    image_size: int,
    channels: int | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> CacheFile:
    """The cache of ``folder`` at ``image_size``, built first when missing.

    cache_dir: where caches live (default ``<folder>/.gan_cache``); workers:
    decode processes (default: the cores); progress(done, total) is called
    while building. Raises DataError (unreadable or too small folder, full
    disk); the folder itself is never changed.
    """
    root = Path(folder)
    layout = folder_layout(root)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(root)
    name, prefix = cache_name(root, layout, image_size, channels)
    path = cache_dir / name
    cached = open_cache(path)
    if cached is not None:
        return cached
    for _, files in layout.groups:
        if len(files) < MIN_IMAGES:
            where = files[0].parent if files else root
            raise DataError(
                f"too few images in {where}: found {len(files)}, "
                f"need at least {MIN_IMAGES}"
            )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        lock = cache_dir / f"{name}.lock"
        with _locked(lock):
            cached = open_cache(path)  # built by another process while we waited
            if cached is not None:
                return cached
            _remove_leftovers(cache_dir, name)
            build_cache(
                layout,
                path,
                root=root,
                image_size=image_size,
                channels=channels,
                workers=workers or _default_workers(layout.count),
                progress=progress,
            )
            _remove_superseded(cache_dir, prefix, keep=name)
    except OSError as exc:
        raise DataError(
            f"cannot write the training cache in {cache_dir}: {exc}"
        ) from exc
    cached = open_cache(path)
    if cached is None:
        raise DataError(f"the training cache {path} could not be read back")
    cached.built = True
    return cached


def _remove_leftovers(cache_dir: Path, name: str) -> None:
    """Temporary files of builds that died (we hold the lock: none is live)."""
    for tmp in cache_dir.glob(f"{name}.tmp-*"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _remove_superseded(cache_dir: Path, prefix: str, keep: str) -> None:
    """Caches of an older listing of the same folder, size and channels."""
    for old in cache_dir.glob(f"{prefix}*{SUFFIX}"):
        if old.name != keep:
            with contextlib.suppress(OSError):
                old.unlink()
            with contextlib.suppress(OSError):
                (cache_dir / f"{old.name}.lock").unlink()


def remove_caches(cache_dir: Path) -> int:
    """Every cache file (and lock and leftover) under ``cache_dir``; bytes freed."""
    freed = 0
    for path in Path(cache_dir).glob(f"*{SUFFIX}*"):
        with contextlib.suppress(OSError):
            freed += path.stat().st_size
            path.unlink()
    return freed


def sweep_caches(roots: list[Path], max_bytes: int) -> int:
    """Remove least recently used caches under ``roots`` until they fit
    ``max_bytes`` in all; returns the bytes freed."""
    files = []
    for root in roots:
        for path in Path(root).rglob(f"*{SUFFIX}"):
            with contextlib.suppress(OSError):
                st = path.stat()
                files.append((st.st_mtime, st.st_size, path))
    total, freed = sum(size for _, size, _ in files), 0
    for _, size, path in sorted(files):
        if total - freed <= max_bytes:
            break
        with contextlib.suppress(OSError):
            path.unlink()
            freed += size
    return freed
