"""Paired uploads for pix2pix: which files pair up, checked before anything is
kept, and stored so the pairs survive our renaming.

A dataset's ``paired_layout`` setting (chosen at upload) says how to read it:

    folders        A/ and B/ whose files pair by name without the suffix
                   (A/cat1.jpg with B/cat1.png); files with no partner are
                   listed and left out.
    side_by_side   flat images, each A on its left half and B on its right
                   (the published pix2pix sets).

Ingest renames every file; a pair is stored as A/NNNNNN.* and B/NNNNNN.*, so
gan_core's pairing by stem (gan_core.data.paired) finds the same pairs. A pair
whose either image is corrupt is dropped whole. Nothing here knows about
Django models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gan_core.data.paired import PAIR_LAYOUTS, pair_by_stem
from ganweb.datasets import imaging
from ganweb.datasets.archives import Rejected

PAIRS = "pairs"
LISTED = 20  # unmatched names kept in stats (all are counted)
WIDE = 1.5  # a side-by-side pair is at least this many times wider than high


def check_pairing(pairing: str) -> str:
    """The setting as stored: "" (not paired) or one of PAIR_LAYOUTS."""
    pairing = (pairing or "").strip()
    if pairing and pairing not in PAIR_LAYOUTS:
        raise Rejected(
            f"pairing must be one of {', '.join(PAIR_LAYOUTS)} (or empty), "
            f"got {pairing[:40]!r}"
        )
    return pairing


@dataclass(frozen=True)
class PairPlan:
    """The layout to store, the stored stem of each member, and the report."""

    layout: object  # ingest.Layout
    stems: dict[str, str] | None  # member name -> stored stem (folders only)
    report: dict = field(default_factory=dict)


def plan_pairs(layout, pairing: str, min_pairs: int):
    """The PairPlan of ``layout`` (ingest.plan_layout's) read as ``pairing``.

    Raises Rejected when the upload does not have that layout or holds fewer
    than ``min_pairs`` pairs; the message says how many pairs it found and
    which files have no partner.
    """
    from ganweb.datasets.ingest import DOMAINS, IMAGES, Layout

    if pairing == "side_by_side":
        if layout.kind != IMAGES:
            raise Rejected(
                "side-by-side pairs are flat images (A on the left half, B on the "
                f"right), but the upload has {layout.kind} folders"
            )
        return PairPlan(layout, None, {"pairing": pairing, "pairs": len(layout.assign)})
    if layout.kind != DOMAINS:
        raise Rejected(
            "paired folders need A/ and B/ whose files pair by name; the upload "
            f"has a {layout.kind} layout"
        )
    names = {0: [], 1: []}
    for name, group in layout.assign.items():
        names[group].append(name)
    pairs, lone_a, lone_b = pair_by_stem(names[0], names[1])
    report = {
        "pairing": pairing,
        "pairs": len(pairs),
        "unmatched_count": len(lone_a) + len(lone_b),
        "unmatched": {"A": lone_a[:LISTED], "B": lone_b[:LISTED]},
    }
    if len(pairs) < min_pairs:
        raise Rejected(
            f"found {len(pairs)} pairs of A/ and B/ files with the same name, at "
            f"least {min_pairs} are needed{_lonely(lone_a, lone_b)}"
        )
    stems = {}
    for index, (a, b) in enumerate(pairs):
        stems[a] = stems[b] = f"{index:06d}"
    assign = {name: layout.assign[name] for name in stems}
    return PairPlan(Layout(DOMAINS, layout.groups, assign), stems, report)


def _lonely(lone_a: list[str], lone_b: list[str]) -> str:
    if not (lone_a or lone_b):
        return ""
    shown = ", ".join((lone_a + lone_b)[:5])
    return (
        f"; {len(lone_a)} in A/ and {len(lone_b)} in B/ have no partner (e.g. {shown})"
    )


def pair_writer(base):
    """A subclass of ingest's writer ``base`` that stores pairs (see module)."""

    class PairWriter(base):
        def __init__(self, folder, plan: PairPlan, limits, budget):
            super().__init__(folder, plan.layout, limits, budget)
            self.plan = plan
            self.not_wide = 0

        def add(self, name, group, fp) -> None:
            before = sum(self.counts)
            if self.plan.stems is None:
                super().add(name, group, fp)
                if sum(self.counts) > before:
                    width, height = self.sizes[-1]
                    self.not_wide += width < WIDE * height
                return
            super().add(name, group, fp)

        def target_name(self, name: str, group: int, decoded) -> str:
            if self.plan.stems is None:
                return super().target_name(name, group, decoded)
            return f"{self.plan.stems[name]}{imaging.stored_suffix(decoded)}"

        def finish(self):
            if self.plan.stems is None:
                return self._finish_side_by_side()
            self._drop_orphans()
            result = super().finish()
            pairs = result.counts[0]
            if pairs < 2:
                raise Rejected(f"too few usable pairs: {pairs}, at least 2")
            result.kind, result.class_names, result.counts = PAIRS, [], [pairs]
            result.stats.update(self.plan.report, pairs=pairs)
            return result

        def _finish_side_by_side(self):
            total = sum(self.counts)
            if total and self.not_wide * 2 > total:
                raise Rejected(
                    f"{self.not_wide} of {total} images are not side-by-side pairs "
                    f"(at least {WIDE}x as wide as high, A left and B right)"
                )
            result = super().finish()
            result.kind, result.class_names = PAIRS, []
            result.stats.update(self.plan.report, pairs=total, not_wide=self.not_wide)
            return result

        def _drop_orphans(self) -> None:
            """A pair one of whose images was corrupt goes whole."""
            stems = [{p.stem for p in paths} for paths in self.stored]
            both = stems[0] & stems[1]
            for group, paths in enumerate(self.stored):
                keep = [p.stem in both for p in paths]
                for path, kept in zip(paths, keep, strict=True):
                    if not kept:
                        path.unlink(missing_ok=True)
                self.stored[group] = [p for p, k in zip(paths, keep, strict=True) if k]
                self.digests[group] = [
                    d for d, k in zip(self.digests[group], keep, strict=True) if k
                ]
                self.counts[group] = len(self.stored[group])
            # Pairs left out because one of their images was corrupt.
            self.plan.report["dropped"] = sum(len(s - both) for s in stems)

    return PairWriter
