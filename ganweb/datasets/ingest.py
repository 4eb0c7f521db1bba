"""From an uploaded archive (or loose images) to a training folder we own.

Two steps share the same checks: ``inspect_*`` runs in the web request on the
table of contents and refuses bad uploads with 400 before anything is kept;
``ingest_*`` runs in the worker, streams every member again (counting the real
bytes), decodes and re-encodes each image, and writes

    <folder>/data/            flat images, or
    <folder>/data/0000/ ...   one folder per class (by index, names kept in stats), or
    <folder>/data/A/, B/      two domains (or pairs: ganweb.datasets.pairing)
    <folder>/thumbs/NNNN.png  and <folder>/preview.png

with file names we choose. Nothing here knows about Django models.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ganweb.datasets import imaging
from ganweb.datasets import pairing as pairing_mod
from ganweb.datasets.archives import (
    READ_ERRORS,
    ZIP,
    Member,
    Rejected,
    StreamBudget,
    is_junk,
    iter_members,
    list_contents,
)
from ganweb.datasets.budgets import Budget
from ganweb.datasets.limits import Limits

IMAGES, CLASSES, DOMAINS = "images", "classes", "domains"
DOMAIN_NAMES = ("A", "B")
MIN_PER_DOMAIN = 2  # gan_core's loader needs two images on each side
MAX_THUMBS = 64
SPOOL_BYTES = 16 << 20  # members larger than this spill to a file in work/
SIZE_BUCKETS = (0, 32, 64, 128, 256, 512, 1024, 2048)
MAX_SKIPPED_LISTED = 20
# A tar streams once, so its members' headers are read from their first bytes.
HEAD_BYTES = 1 << 20
# Up to this many images, a zip's headers are read in the web request (about a
# millisecond each); a larger upload's are read by the worker, before decoding.
HEADERS_IN_REQUEST = 1000

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
        if self.kind in (IMAGES, pairing_mod.PAIRS):  # pairs: image_count pairs
            return {}
        return dict(zip(self.class_names, self.counts, strict=True))


def plan_layout(
    names: Iterable[str], *, min_images: int, folders: Iterable[str] = ()
) -> Layout:
    """The dataset's kind from its folder structure (see the module docstring).

    One folder that holds everything is a wrapper (zipping a folder makes one)
    and is looked through, once. ``folders`` are every folder the archive
    names, empty ones included: an A/ beside an empty B/ is a two-domain set
    missing one side, not a wrapper.
    """
    names = [name for name in names if not is_junk(name)]
    if not names:
        raise Rejected("no images found in the upload")
    split = [name.split("/") for name in names]
    top = ""
    if all(len(parts) > 1 for parts in split) and len({p[0] for p in split}) == 1:
        top = split[0][0]
        _refuse_one_sided_domains({top: len(names)}, _subfolders(folders, ""))
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
    _refuse_one_sided_domains(
        Counter(parts[0] for parts in split), _subfolders(folders, top)
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


def _subfolders(folders: Iterable[str], parent: str) -> set[str]:
    """The names of the folders directly inside ``parent`` ("" for the top)."""
    prefix = f"{parent}/" if parent else ""
    found = set()
    for folder in folders:
        if folder.startswith(prefix):
            rest = folder[len(prefix) :]
            if rest and "/" not in rest and not is_junk(rest):
                found.add(rest)
    return found


def _refuse_one_sided_domains(with_images: Counter, beside: set[str]) -> None:
    """A/ (or B/) with images beside an empty B/ (or A/): say so, rather than
    train an unconditional model on one side or call it a class layout."""
    if len(with_images) != 1:
        return
    ((full, count),) = with_images.items()
    empty = [f for f in beside if f not in with_images]
    names = {full.upper(), *(f.upper() for f in empty)}
    if names == set(DOMAIN_NAMES) and full.upper() in DOMAIN_NAMES:
        other = next(f for f in empty if f.upper() != full.upper())
        raise Rejected(
            f"found {full}/ with {count} images and {other}/ with none: a "
            f"two-domain set (A/ and B/, for CycleGAN) needs images in both; "
            f"to train on {full}/ alone, upload its images without the folders"
        )


@dataclass(frozen=True)
class Inspection:
    layout: Layout
    pixels: int | None  # summed from the headers; None when not read
    pairs: dict | None = None  # paired uploads: pairs found, files without one


def inspect_archive(
    path: Path,
    kind: str,
    limits: Limits,
    budget: Budget | None = None,
    pairing: str = "",
) -> Inspection:
    """Checks for the web request; raises Rejected.

    The table of contents always; a zip's image headers too when there are
    few (random access makes them cheap), to hold the upload to its pixel
    budget here. Otherwise ``pixels`` is None and the worker counts them.
    """
    contents = list_contents(path, kind, limits)
    layout = plan_layout(
        [m.name for m in contents.files],
        min_images=limits.min_images,
        folders=contents.folders,
    )
    pairs = None
    if pairing:  # paired (pix2pix): say how many pairs, refuse too few
        plan = pairing_mod.plan_pairs(layout, pairing, MIN_PER_DOMAIN)
        layout, pairs = plan.layout, plan.report
    pixels = None
    if kind == ZIP and len(layout.assign) <= HEADERS_IN_REQUEST:
        pixels = count_pixels(archive=path, kind=kind, limits=limits, layout=layout)
        (budget or Budget(limits)).check_pixels(pixels)
    return Inspection(layout, pixels, pairs)


def inspect_images(
    files: list[tuple[Path, str]],
    limits: Limits,
    budget: Budget | None = None,
    pairing: str = "",
) -> Inspection:
    """Loose image uploads: each header is an image within the limits (a
    damaged one is left for the worker to skip), all within the budget."""
    pixels = 0
    for path, name in files:
        try:
            image = imaging.open_image(path, name=name, max_pixels=limits.pixels)
        except imaging.CorruptImage:
            continue
        with image:
            pixels += image.width * image.height
    (budget or Budget(limits)).check_pixels(pixels)
    layout = plan_layout(
        [f"{i:05d}" for i in range(len(files))], min_images=limits.min_images
    )
    pairs = None
    if pairing:  # loose images are flat: only side by side can pair them
        pairs = pairing_mod.plan_pairs(layout, pairing, MIN_PER_DOMAIN).report
    return Inspection(layout, pixels, pairs)


def count_pixels(
    *, archive: Path, kind: str, limits: Limits, layout: Layout | None = None
) -> int:
    """width x height summed over the archive's images, from headers only."""
    total = 0
    for member, opener in iter_members(archive, kind, limits):
        if layout is not None and member.name not in layout.assign:
            continue
        try:
            with opener() as source:
                # A zip member seeks (Pillow reads its header only); a tar
                # member is a stream, so its first bytes go to memory.
                fp = source if kind == ZIP else io.BytesIO(source.read(HEAD_BYTES))
                total += imaging.header_pixels(fp, max_pixels=limits.pixels)
        except READ_ERRORS:
            if kind != ZIP:
                raise Rejected(f"the archive is damaged at {member.name!r}") from None
    return total


def count_file_pixels(files: list[tuple[Path, str]], limits: Limits) -> int:
    return sum(imaging.header_pixels(p, max_pixels=limits.pixels) for p, _ in files)


class _Writer:
    """Decodes members one by one into data/ and keeps the statistics."""

    def __init__(self, folder: Path, layout: Layout, limits: Limits, budget: Budget):
        self.folder, self.layout, self.limits = folder, layout, limits
        self.budget = budget
        self.pixels = 0
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
            decoded = imaging.decode_image(
                fp,
                name=name,
                max_pixels=self.limits.pixels,
                allow=lambda pixels: self.budget.check_pixels(self.pixels + pixels),
            )
        except imaging.CorruptImage as exc:
            self.skip(name, f"corrupt image: {exc}")
            return
        self.pixels += decoded.size[0] * decoded.size[1]
        target = (
            self.data
            / self.layout.folder(group)
            / self.target_name(name, group, decoded)
        )
        self.stored_bytes += imaging.save_image(decoded, target)
        self.budget.check_bytes(self.stored_bytes)
        self.counts[group] += 1
        self.digests[group].append(decoded.digest)
        self.stored[group].append(target)
        self.sizes.append(decoded.size)
        self.channels[str(decoded.channels)] += 1
        self.formats[decoded.source_format] += 1

    def target_name(self, name: str, group: int, decoded) -> str:
        """The stored file's name: a sequence number (paired sets keep pairs)."""
        sequence = sum(self.counts) + self.skipped_count
        return f"{sequence:06d}{imaging.stored_suffix(decoded)}"

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
            "pixels": self.pixels,
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
    *,
    archive: Path,
    kind: str,
    folder: Path,
    limits: Limits,
    budget: Budget | None = None,
    progress=None,
    pairing: str = "",
) -> IngestResult:
    """Unpack, verify and store every image of ``archive`` under ``folder``,
    decoding no more pixels and storing no more bytes than ``budget`` allows;
    ``pairing`` (ganweb.datasets.pairing) stores a paired set."""
    _fresh(folder)
    contents = list_contents(archive, kind, limits)
    members = contents.files
    layout = plan_layout(
        [m.name for m in members],
        min_images=limits.min_images,
        folders=contents.folders,
    )
    total = max(1, sum(m.size for m in members))
    writer = _writer(folder, layout, limits, budget or Budget(limits), pairing)
    layout = writer.layout
    budget = StreamBudget(limits)
    tick = _Ticker(progress)
    for member, opener in iter_members(archive, kind, limits):
        group = layout.assign.get(member.name)
        if group is not None:
            _add_member(writer, budget, member, opener, group, folder / "work", kind)
        tick(budget.total / total)
    shutil.rmtree(folder / "work", ignore_errors=True)
    return writer.finish()


def _writer(folder: Path, layout: Layout, limits: Limits, budget, pairing: str):
    """The writer of the upload: plain, or one that keeps pairs together."""
    if not pairing:
        return _Writer(folder, layout, limits, budget)
    plan = pairing_mod.plan_pairs(layout, pairing, MIN_PER_DOMAIN)
    return pairing_mod.pair_writer(_Writer)(folder, plan, limits, budget)


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
    *,
    files: list[tuple[Path, str]],
    folder: Path,
    limits: Limits,
    budget: Budget | None = None,
    progress=None,
    pairing: str = "",
) -> IngestResult:
    """Store loose images (our path, the uploaded name for messages only)."""
    _fresh(folder)
    layout = plan_layout(
        [f"{i:05d}" for i in range(len(files))], min_images=limits.min_images
    )
    writer = _writer(folder, layout, limits, budget or Budget(limits), pairing)
    tick = _Ticker(progress)
    for index, (path, name) in enumerate(files):
        writer.add(name, 0, path)
        tick((index + 1) / len(files))
    shutil.rmtree(folder / "work", ignore_errors=True)
    return writer.finish()
