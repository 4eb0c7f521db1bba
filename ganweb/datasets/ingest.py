"""From an uploaded archive (or loose images) to a training folder we own.

Two steps share the same checks: ``inspect_*`` runs in the web request on the
table of contents and refuses bad uploads with 400 before anything is kept;
``ingest_*`` runs in the worker, streams every member again (counting the real
bytes), decodes and re-encodes each image, and writes

    <folder>/data/            flat images, or
    <folder>/data/0000/ ...   one folder per class (by index, names kept in stats), or
    <folder>/data/A/, B/      two domains
    <folder>/thumbs/NNNN.png  and <folder>/preview.png

with file names we choose. Nothing here knows about Django models.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ganweb.datasets import imaging
from ganweb.datasets.archives import (
    READ_ERRORS,
    ZIP,
    Member,
    Rejected,
    StreamBudget,
    is_junk,
    iter_members,
    list_members,
)
from ganweb.datasets.limits import Limits

IMAGES, CLASSES, DOMAINS = "images", "classes", "domains"
DOMAIN_NAMES = ("A", "B")
MIN_PER_DOMAIN = 2  # gan_core's loader needs two images on each side
MAX_THUMBS = 64
SPOOL_BYTES = 16 << 20  # members larger than this spill to a file in work/
SIZE_BUCKETS = (0, 32, 64, 128, 256, 512, 1024, 2048)
MAX_SKIPPED_LISTED = 20

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Layout:
    kind: str
    groups: tuple[str, ...]  # class names (sorted), ("A", "B") or ("",)
    assign: dict[str, int]  # member name -> group index

    def folder(self, group: int) -> str:
        if self.kind == CLASSES:
            return f"{group:04d}"
        return self.groups[group]


@dataclass
class IngestResult:
    kind: str
    class_names: list[str]
    counts: list[int]
    skipped: list[dict] = field(default_factory=list)
    skipped_count: int = 0
    fingerprint: str = ""
    stats: dict = field(default_factory=dict)

    @property
    def image_count(self) -> int:
        return sum(self.counts)

    @property
    def classes(self) -> dict[str, int]:
        if self.kind == IMAGES:
            return {}
        return dict(zip(self.class_names, self.counts, strict=True))


def plan_layout(names: Iterable[str], *, min_images: int) -> Layout:
    """The dataset's kind from its folder structure (see the module docstring).

    One folder that holds everything is a wrapper (zipping a folder makes one)
    and is looked through, once.
    """
    names = [name for name in names if not is_junk(name)]
    if not names:
        raise Rejected("no images found in the upload")
    split = [name.split("/") for name in names]
    if all(len(parts) > 1 for parts in split) and len({p[0] for p in split}) == 1:
        split = [parts[1:] for parts in split]
    depths = {len(parts) for parts in split}
    if len(names) < min_images:
        raise Rejected(
            f"too few images: found {len(names)} files, at least {min_images} "
            "are needed to train on"
        )
    if depths == {1}:
        return Layout(IMAGES, ("",), {name: 0 for name in names})
    if depths != {2}:
        raise Rejected(
            "mixed layout: put all images at the top level, or one folder per "
            "class, or A/ and B/ folders (one level deep)"
        )
    folders = sorted({parts[0] for parts in split})
    if {f.upper() for f in folders} == set(DOMAIN_NAMES) and len(folders) == 2:
        index = {f: DOMAIN_NAMES.index(f.upper()) for f in folders}
        assign = {n: index[p[0]] for n, p in zip(names, split, strict=True)}
        return Layout(DOMAINS, DOMAIN_NAMES, assign)
    if len(folders) < 2:
        raise Rejected(
            "fewer than two classes: a class layout needs at least two class "
            f"folders, found only {folders[0]!r}"
        )
    index = {name: i for i, name in enumerate(folders)}
    assign = {n: index[p[0]] for n, p in zip(names, split, strict=True)}
    return Layout(CLASSES, tuple(folders), assign)


def inspect_archive(path: Path, kind: str, limits: Limits) -> Layout:
    """Table-of-contents checks for the web request; raises Rejected."""
    members = list_members(path, kind, limits)
    return plan_layout([m.name for m in members], min_images=limits.min_images)


def inspect_images(files: list[tuple[BinaryIO | Path, str]], limits: Limits) -> Layout:
    """Loose image uploads: each one's header is an image within the limit."""
    for fp, name in files:
        imaging.open_image(fp, name=name, max_pixels=limits.pixels).close()
        if hasattr(fp, "seek"):
            fp.seek(0)
    return plan_layout(
        [f"{i:05d}" for i in range(len(files))], min_images=limits.min_images
    )


class _Writer:
    """Decodes members one by one into data/ and keeps the statistics."""

    def __init__(self, folder: Path, layout: Layout, limits: Limits):
        self.folder, self.layout, self.limits = folder, layout, limits
        self.data = folder / "data"
        self.counts = [0] * len(layout.groups)
        self.digests: list[list[str]] = [[] for _ in layout.groups]
        self.stored: list[list[Path]] = [[] for _ in layout.groups]
        self.skipped: list[dict] = []
        self.skipped_count = 0
        self.sizes: list[tuple[int, int]] = []
        self.channels: Counter = Counter()
        self.formats: Counter = Counter()
        self.stored_bytes = 0
        for group in range(len(layout.groups)):
            (self.data / layout.folder(group)).mkdir(parents=True, exist_ok=True)

    def skip(self, name: str, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append({"name": name, "reason": reason[:200]})

    def add(self, name: str, group: int, fp: BinaryIO | Path) -> None:
        try:
            decoded = imaging.decode_image(fp, name=name, max_pixels=self.limits.pixels)
        except imaging.CorruptImage as exc:
            self.skip(name, f"corrupt image: {exc}")
            return
        sequence = sum(self.counts) + self.skipped_count
        target = (
            self.data
            / self.layout.folder(group)
            / f"{sequence:06d}{imaging.stored_suffix(decoded)}"
        )
        self.stored_bytes += imaging.save_image(decoded, target)
        self.counts[group] += 1
        self.digests[group].append(decoded.digest)
        self.stored[group].append(target)
        self.sizes.append(decoded.size)
        self.channels[str(decoded.channels)] += 1
        self.formats[decoded.source_format] += 1

    def finish(self) -> IngestResult:
        groups, counts, stored, digests = self._keep_nonempty()
        total = sum(counts)
        if total < self.limits.min_images:
            raise Rejected(
                f"too few images: {total} usable ({self.skipped_count} skipped as "
                f"corrupt), at least {self.limits.min_images} are needed"
            )
        if self.layout.kind == CLASSES and len(groups) < 2:
            raise Rejected(
                "fewer than two classes: only one class folder has usable images"
            )
        if self.layout.kind == DOMAINS:
            for name, count in zip(groups, counts, strict=True):
                if count < MIN_PER_DOMAIN:
                    raise Rejected(
                        f"domain {name}/ has {count} usable images; A/ and B/ need "
                        f"at least {MIN_PER_DOMAIN} each"
                    )
        fingerprint = hashlib.sha256(self.layout.kind.encode())
        for name, group_digests in zip(groups, digests, strict=True):
            fingerprint.update(f"\n{name}:".encode())
            fingerprint.update(",".join(sorted(group_digests)).encode())
        thumbs = self._thumbnails(stored)
        return IngestResult(
            kind=self.layout.kind,
            class_names=list(groups) if self.layout.kind != IMAGES else [],
            counts=counts,
            skipped=self.skipped,
            skipped_count=self.skipped_count,
            fingerprint=fingerprint.hexdigest(),
            stats=self._stats(thumbs),
        )

    def _keep_nonempty(self):
        """Class folders whose images were all corrupt go; the rest renumber."""
        keep = list(range(len(self.counts)))
        if self.layout.kind == CLASSES:
            keep = [group for group, count in enumerate(self.counts) if count]
        for old in set(range(len(self.counts))) - set(keep):
            shutil.rmtree(self.data / self.layout.folder(old), ignore_errors=True)
        for new, old in enumerate(keep):
            if new != old:
                target = self.data / self.layout.folder(new)
                (self.data / self.layout.folder(old)).rename(target)
                self.stored[old] = [target / p.name for p in self.stored[old]]
        return (
            [self.layout.groups[g] for g in keep],
            [self.counts[g] for g in keep],
            [self.stored[g] for g in keep],
            [self.digests[g] for g in keep],
        )

    def _thumbnails(self, stored: list[list[Path]]) -> list[dict]:
        per_group = max(1, MAX_THUMBS // max(1, len(stored)))
        picks = [
            (group, path)
            for group, paths in enumerate(stored)
            for path in paths[:per_group]
        ][:MAX_THUMBS]
        thumbs_dir = self.folder / "thumbs"
        thumbs_dir.mkdir(exist_ok=True)
        images, listed = [], []
        for index, (group, path) in enumerate(picks):
            thumb = imaging.thumbnail(path)
            thumb.save(thumbs_dir / f"{index:04d}.png", "PNG")
            images.append(thumb)
            listed.append({"group": group, "file": f"thumbs/{index:04d}.png"})
        imaging.preview_grid(images).save(self.folder / "preview.png", "PNG")
        return listed

    def _stats(self, thumbs: list[dict]) -> dict:
        widths = [w for w, _ in self.sizes]
        heights = [h for _, h in self.sizes]
        return {
            "width": _summary(widths),
            "height": _summary(heights),
            "size_histogram": size_histogram(self.sizes),
            "common_sizes": [
                [w, h, n] for (w, h), n in Counter(self.sizes).most_common(8)
            ],
            "channels": dict(self.channels),
            "formats": dict(self.formats),
            "stored_bytes": self.stored_bytes,
            "skipped": self.skipped,
            "thumbs": thumbs,
        }


def _summary(values: list[int]) -> dict:
    return {
        "min": min(values),
        "max": max(values),
        "mean": round(sum(values) / len(values), 1),
    }


def size_histogram(sizes: list[tuple[int, int]]) -> list[dict]:
    """Images counted by their shorter side, in doubling buckets."""
    counts = Counter()
    for width, height in sizes:
        side = min(width, height)
        bucket = max(i for i, edge in enumerate(SIZE_BUCKETS) if side >= edge)
        counts[bucket] += 1
    used = sorted(counts)
    rows = []
    for bucket in range(used[0], used[-1] + 1):
        low = SIZE_BUCKETS[bucket]
        high = SIZE_BUCKETS[bucket + 1] - 1 if bucket + 1 < len(SIZE_BUCKETS) else None
        label = f"{low}-{high} px" if high is not None else f"{low}+ px"
        rows.append({"label": label, "count": counts[bucket]})
    return rows


def _fresh(folder: Path) -> None:
    """Start from nothing: a redelivered task may find a half-written attempt."""
    for name in ("data", "thumbs", "work"):
        shutil.rmtree(folder / name, ignore_errors=True)
    (folder / "preview.png").unlink(missing_ok=True)
    (folder / "work").mkdir(parents=True)


class _Ticker:
    """Calls ``progress`` at most a few times a second."""

    def __init__(self, progress: Progress | None, every: float = 0.5):
        self.progress, self.every, self.last = progress, every, 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if self.progress is not None and now - self.last >= self.every:
            self.last = now
            self.progress(min(1.0, max(0.0, fraction)))


def ingest_archive(
    *, archive: Path, kind: str, folder: Path, limits: Limits, progress=None
) -> IngestResult:
    """Unpack, verify and store every image of ``archive`` under ``folder``."""
    _fresh(folder)
    members = list_members(archive, kind, limits)
    layout = plan_layout([m.name for m in members], min_images=limits.min_images)
    total = max(1, sum(m.size for m in members))
    writer, budget = _Writer(folder, layout, limits), StreamBudget(limits)
    tick = _Ticker(progress)
    for member, opener in iter_members(archive, kind, limits):
        group = layout.assign.get(member.name)
        if group is not None:
            _add_member(writer, budget, member, opener, group, folder / "work", kind)
        tick(budget.total / total)
    shutil.rmtree(folder / "work", ignore_errors=True)
    return writer.finish()


def _add_member(writer, budget, member: Member, opener, group, work: Path, kind):
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=work) as spool:
        try:
            with opener() as source:
                budget.copy(member, source, spool)
        except READ_ERRORS as exc:
            if kind != ZIP:  # a tar stream cannot go on past a damaged member
                raise Rejected(f"the archive is damaged at {member.name!r}") from exc
            writer.skip(member.name, f"cannot be unpacked: {exc}")
            return
        spool.seek(0)
        writer.add(member.name, group, spool)


def ingest_images(
    *, files: list[tuple[Path, str]], folder: Path, limits: Limits, progress=None
) -> IngestResult:
    """Store loose images (our path, the uploaded name for messages only)."""
    _fresh(folder)
    layout = plan_layout(
        [f"{i:05d}" for i in range(len(files))], min_images=limits.min_images
    )
    writer, tick = _Writer(folder, layout, limits), _Ticker(progress)
    for index, (path, name) in enumerate(files):
        writer.add(name, 0, path)
        tick((index + 1) / len(files))
    shutil.rmtree(folder / "work", ignore_errors=True)
    return writer.finish()
