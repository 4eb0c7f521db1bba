"""Paired image data for translation (pix2pix): two layouts, one training cache.

``pairs:<folder>``      A/ and B/ whose files pair by name without the suffix
                        (A/0001.jpg with B/0001.png); a file with no partner is
                        left out and reported.
``pairs-sbs:<folder>``  single images holding A on the left half and B on the
                        right (the layout of the published pix2pix sets).

Either is decoded once per size into the training cache (gan_core.data.cache's
file format, kind "pairs", arrays "a" and "b" of the same length): a pair whose
either half cannot be decoded is skipped whole, so row i of "a" always belongs
with row i of "b". Imports neither torch nor the web.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from gan_core.data import cache as cache_mod
from gan_core.data.decode import _fit, gray_flags, image_files
from gan_core.data.errors import DataError

PAIR_PREFIXES = {"pairs:": "folders", "pairs-sbs:": "side_by_side"}
PAIR_LAYOUTS = ("folders", "side_by_side")
REPORTED = 50  # unmatched names kept in a cache header or a validation report


def parse_pair_spec(spec: str) -> tuple[str, Path] | None:
    """(layout, folder) of a ``pairs:`` / ``pairs-sbs:`` spec, else None."""
    for prefix, layout in PAIR_PREFIXES.items():
        if spec.startswith(prefix):
            return layout, Path(spec[len(prefix) :]).expanduser()
    return None


def pair_spec(folder: str | Path, layout: str) -> str:
    """The data spec that trains on ``folder`` as pairs of ``layout``."""
    if layout not in PAIR_LAYOUTS:
        raise DataError(f"paired layout must be one of {', '.join(PAIR_LAYOUTS)}")
    prefix = "pairs:" if layout == "folders" else "pairs-sbs:"
    return f"{prefix}{folder}"


@dataclass(frozen=True)
class Pairing:
    """Which files pair up: ``items`` are (A file, B file), or (file,) side by side."""

    layout: str
    items: tuple[tuple[Path, ...], ...]
    unmatched_a: tuple[str, ...] = ()  # names in A/ with no partner in B/
    unmatched_b: tuple[str, ...] = ()


def pair_by_stem(names_a, names_b) -> tuple[list, list[str], list[str]]:
    """Match two lists of file names by stem (name without its suffix).

    Returns (pairs of (name_a, name_b) sorted by stem, unmatched A names,
    unmatched B names). A second file of the same stem in one folder has no
    partner (the first, by name, takes it).
    """

    def by_stem(names):
        kept, extra = {}, []
        for name in sorted(names):
            stem = os.path.splitext(os.path.basename(name))[0]
            (extra.append(name) if stem in kept else kept.__setitem__(stem, name))
        return kept, extra

    a, extra_a = by_stem(names_a)
    b, extra_b = by_stem(names_b)
    pairs = [(a[s], b[s]) for s in sorted(a.keys() & b.keys())]
    lone_a = sorted([a[s] for s in a.keys() - b.keys()] + extra_a)
    lone_b = sorted([b[s] for s in b.keys() - a.keys()] + extra_b)
    return pairs, lone_a, lone_b


def find_pairs(root: Path, layout: str) -> Pairing:
    """The pairing of folder ``root`` in ``layout`` ("folders" or "side_by_side").

    Raises DataError when the folder does not have that layout.
    """
    root = Path(root)
    if layout == "side_by_side":
        files = image_files(root)
        if not files:
            raise DataError(f"no images directly in {root} (side-by-side pairs)")
        return Pairing(layout, tuple((f,) for f in files))
    if layout != "folders":
        raise DataError(f"paired layout must be one of {', '.join(PAIR_LAYOUTS)}")
    if not ((root / "A").is_dir() and (root / "B").is_dir()):
        raise DataError(f"paired data needs folders A/ and B/ in {root}")
    files_a = {f.name: f for f in image_files(root / "A")}
    files_b = {f.name: f for f in image_files(root / "B")}
    pairs, lone_a, lone_b = pair_by_stem(files_a, files_b)
    items = tuple((files_a[x], files_b[y]) for x, y in pairs)
    return Pairing(layout, items, tuple(lone_a), tuple(lone_b))


def split_halves(img: Image.Image) -> tuple[Image.Image, Image.Image]:
    """(left half, right half) of a side-by-side pair (an odd middle column
    goes to neither)."""
    half = img.width // 2
    return img.crop((0, 0, half, img.height)), img.crop(
        (img.width - half, 0, img.width, img.height)
    )


def _open(path: str) -> Image.Image:
    with open(path, "rb") as fh:
        raw = fh.read()
    img = Image.open(io.BytesIO(raw))
    img.load()
    return img


def decode_pair_rows(items: list[list[str]], size: int, mode: str) -> list:
    """Decode pairs into two uint8 CHW rows, in a decode process.

    Each result is (row a bytes, row b bytes, sha256 of both) or the reason the
    pair was skipped.
    """
    out: list = []
    for item in items:
        try:
            if len(item) == 1:
                halves = split_halves(_open(item[0]))
            else:
                halves = (_open(item[0]), _open(item[1]))
            rows = [
                np.ascontiguousarray(_fit(h, size, mode).transpose(2, 0, 1)).tobytes()
                for h in halves
            ]
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            out.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        out.append((rows[0], rows[1], hashlib.sha256(rows[0] + rows[1]).digest()))
    return out


def _pair_layout(root: Path, pairing: Pairing) -> cache_mod.FolderLayout:
    # One group per half, so cache_name hashes both folders' listings.
    groups = tuple(
        (f"pairs-{pairing.layout}-{i}", tuple(item[i] for item in pairing.items))
        for i in range(len(pairing.items[0]) if pairing.items else 1)
    )
    return cache_mod.FolderLayout("pairs", groups)


def _write_pairs(decoder, pairing, fd, size, channels, progress) -> dict:
    mode = "L" if channels == 1 else "RGB"
    row_bytes = channels * size * size
    n = len(pairing.items)
    w = cache_mod._Writer(fd, row_bytes, n, progress)
    fingerprint = hashlib.sha256(f"pairs|{channels}|{size}".encode())
    offset_b = cache_mod._align(n * row_bytes)
    items = [[str(p) for p in it] for it in pairing.items]
    chunks = [items[i : i + cache_mod.CHUNK] for i in range(0, n, cache_mod.CHUNK)]
    kept = 0
    for c, results in enumerate(decoder.map(decode_pair_rows, chunks, size, mode)):
        for j, result in enumerate(results):
            w.done += 1
            if isinstance(result, str):
                w.skipped.append((chunks[c][j][0], result))
                continue
            row_a, row_b, digest = result
            cache_mod._pwrite_all(fd, row_a, kept * row_bytes)
            cache_mod._pwrite_all(fd, row_b, offset_b + kept * row_bytes)
            fingerprint.update(digest)
            kept += 1
        w.report()
    if kept < cache_mod.MIN_IMAGES:
        raise DataError(
            f"too few pairs: found {kept} readable, need at least "
            f"{cache_mod.MIN_IMAGES}"
        )
    fingerprint.update(f"|pairs:{kept}".encode())
    w.report(force=True)
    return {
        "format": cache_mod.FORMAT,
        "kind": "pairs",
        "channels": channels,
        "image_size": size,
        "class_names": [],
        "arrays": {
            "a": {"offset": 0, "count": kept},
            "b": {"offset": offset_b, "count": kept},
        },  # fmt: skip
        "skipped": len(w.skipped),
        "skipped_files": w.skipped[:REPORTED],
        "layout": pairing.layout,
        "unmatched": len(pairing.unmatched_a) + len(pairing.unmatched_b),
        "unmatched_files": {
            "A": list(pairing.unmatched_a[:REPORTED]),
            "B": list(pairing.unmatched_b[:REPORTED]),
        },
        "fingerprint": fingerprint.hexdigest()[:16],
        "end": cache_mod._align(offset_b + n * row_bytes),
    }


def _build(pairing, path: Path, root: Path, size, channels, workers, progress):
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    decoder = cache_mod._Decoder(workers)
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        if channels is None:
            files = [str(p) for it in pairing.items for p in it]
            flags = [f for f in gray_flags(files) if f is not None]
            channels = 1 if flags and all(flags) else 3
        header = _write_pairs(decoder, pairing, fd, size, channels, progress)
        header.update(source=str(root.resolve()), built_by=os.getpid())
        header["skipped_files"] = [
            (str(Path(p).relative_to(root)), why) for p, why in header["skipped_files"]
        ]
        cache_mod._write_header(fd, header)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except OSError as exc:
        if exc.errno in cache_mod.DISK_FULL:
            raise DataError(
                f"no space left while writing the training cache in {path.parent}"
            ) from exc
        raise
    finally:
        decoder.close()
        if fd >= 0:
            os.close(fd)
        if tmp.exists():
            tmp.unlink()


def open_or_build_pairs(
    folder: Path,
    layout: str,
    *,
    image_size: int,
    channels: int | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: cache_mod.Progress | None = None,
) -> cache_mod.CacheFile:
    """The paired cache of ``folder`` in ``layout`` at ``image_size``, built
    first when missing (as gan_core.data.cache.open_or_build, whose locking and
    naming it shares; its caches never replace that folder's unpaired ones).
    Raises DataError (no such layout, too few pairs, full disk)."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"data folder not found: {root}")
    pairing = find_pairs(root, layout)
    if len(pairing.items) < cache_mod.MIN_IMAGES:
        raise DataError(
            f"too few pairs in {root}: found {len(pairing.items)}, need at least "
            f"{cache_mod.MIN_IMAGES} ({len(pairing.unmatched_a)} in A/ and "
            f"{len(pairing.unmatched_b)} in B/ have no partner)"
        )
    cache_dir = (
        Path(cache_dir) if cache_dir is not None else cache_mod.default_cache_dir(root)
    )
    name, prefix = cache_mod.cache_name(
        root, _pair_layout(root, pairing), image_size, channels
    )
    # The tag goes first: the unpaired caches' clean-up globs "<prefix>*".
    name, prefix = f"pairs-{layout}-{name}", f"pairs-{layout}-{prefix}"
    path = cache_dir / name
    cached = cache_mod.open_cache(path)
    if cached is not None:
        return cached
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with cache_mod._locked(cache_dir / f"{name}.lock"):
            cached = cache_mod.open_cache(path)
            if cached is not None:
                return cached
            cache_mod._remove_leftovers(cache_dir, name)
            count = len(pairing.items)
            _build(
                pairing,
                path,
                root,
                image_size,
                channels,
                workers or cache_mod._default_workers(count),
                progress,
            )
            cache_mod._remove_superseded(cache_dir, prefix, keep=name)
    except OSError as exc:
        raise DataError(
            f"cannot write the training cache in {cache_dir}: {exc}"
        ) from exc
    cached = cache_mod.open_cache(path)
    if cached is None:
        raise DataError(f"the training cache {path} could not be read back")
    cached.built = True
    return cached
